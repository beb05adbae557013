// Which thread owns what, checked at the entry of thread-owned code (the compositor's wlroots
// state; the network thread's peers, sockets and mirror). A call from the wrong thread is a
// data race that tests rarely catch, so builds with assertions (every build but
// -Dbuildtype=release) abort at once with the entry point's name. The check is one atomic
// load and a compare; an owner that was never bound (unit tests that drive a part without its
// loop) checks nothing.
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace deskpod {

class ThreadAffinity {
  public:
    explicit constexpr ThreadAffinity(const char* owner) : owner_name_(owner) {}
    ThreadAffinity(const ThreadAffinity&) = delete;
    ThreadAffinity& operator=(const ThreadAffinity&) = delete;

    // From now on the calling thread is the owner (called where the owning loop starts).
    void bind_to_current_thread() { owner_.store(std::this_thread::get_id()); }
    void unbind() { owner_.store(std::thread::id{}); }

    void check([[maybe_unused]] const char* entry) const {
#ifndef NDEBUG
        const std::thread::id owner = owner_.load(std::memory_order_relaxed);
        if (owner != std::thread::id{} && owner != std::this_thread::get_id()) {
            std::fprintf(stderr, "deskpod: %s called off the %s thread\n", entry, owner_name_);
            std::abort();
        }
#endif
    }

  private:
    const char* owner_name_;
    std::atomic<std::thread::id> owner_{};
};

// The compositor thread (wl_event_loop): every wlroots object.
inline ThreadAffinity compositor_thread{"compositor"};
// The network thread (boost::asio::io_context): every peer, socket, viewer and the mirror.
inline ThreadAffinity network_thread{"network"};

}  // namespace deskpod
