// Frame pacing for one viewer, whatever its protocol: damage collects here until the viewer
// can send it, at most one flush is posted per loop turn so that damage arriving meanwhile
// joins the same frame, and at most a few frames wait for the client's acknowledgement, so a
// slow client always gets the latest pixels rather than a backlog. Network thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include "rdp-bridge/asio.hpp"
#include "shared/geometry.hpp"

namespace deskpod {

class FramePacer {
  public:
    using Clock = std::chrono::steady_clock;

    // `flush` runs from `io`, once per schedule() however often that was called in between.
    // It decides whether the viewer can send (window_full() is one of the reasons it cannot)
    // and then take()s the damage.
    FramePacer(boost::asio::io_context& io, size_t max_in_flight, std::function<void()> flush);
    FramePacer(const FramePacer&) = delete;
    FramePacer& operator=(const FramePacer&) = delete;

    // ---- damage: every change schedules a flush ----
    // New pixels, captured at `captured_at`: the capture time of the oldest pending frame is
    // what take() reports.
    void add_damage(const Region& damage, Clock::time_point captured_at);
    // Pixels to send again (a refresh request, a new client size): no capture time of its own.
    void add(const Rect& area);
    // Everything pending becomes `area`, as of `since` (the desktop changed size).
    void replace(const Rect& area, Clock::time_point since);
    bool has_pending() const { return !pending_.empty(); }
    const Region& pending() const { return pending_; }

    struct Frame {
        Region damage;
        Clock::time_point captured_at{};  // zero: no capture time known
    };
    // Empties the pending damage.
    Frame take();

    // ---- frames in flight, by the id the client acknowledges them with ----
    // Only frames the client will acknowledge count; ids increase from frame to frame.
    void frame_sent(uint64_t id);
    // The client has `id` and every earlier frame. Returns how many frames that acknowledged,
    // and schedules a flush when damage waits, since the window may have been what held it.
    size_t acknowledge(uint64_t id);
    // The client forgot its frames (an RDP reactivation restarts its frame pipeline).
    void forget_in_flight() { in_flight_.clear(); }
    size_t in_flight() const { return in_flight_.size(); }
    bool window_full() const { return in_flight_.size() >= max_in_flight_; }

    // ---- flushing ----
    // Posts a flush unless one is posted already or stop() was called.
    void schedule();
    // The viewer is going: no flush runs any more, not even one already posted.
    void stop() { stopped_ = true; }

  private:
    boost::asio::io_context& io_;
    const size_t max_in_flight_;
    std::function<void()> flush_;
    Region pending_;
    Clock::time_point pending_since_{};  // capture time of the oldest frame in pending_
    std::deque<uint64_t> in_flight_;
    bool posted_ = false;
    bool stopped_ = false;
    // A posted flush may outlive the pacer (the io_context runs it after the viewer is gone):
    // it holds this weakly and does nothing once it has expired.
    std::shared_ptr<FramePacer*> self_ = std::make_shared<FramePacer*>(this);
};

}  // namespace deskpod
