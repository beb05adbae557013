// One dynamic-channel server context of FreeRDP 2 (Display Control, the graphics pipeline):
// owns it from its *_server_context_new to its *_server_context_free, and closes it first when
// it was opened (Close joins the thread FreeRDP runs the channel on). The owner declares it as
// its last member, so the channel thread is stopped before anything its callbacks use goes.
#pragma once

#include <stdexcept>
#include <string>

namespace deskpod {

template <class Context>
class ServerChannel {
  public:
    using Free = void (*)(Context*);

    // `context` from the library's constructor (null: it failed, named by `what`).
    ServerChannel(Context* context, Free free, const char* what) : context_(context), free_(free) {
        if (!context_)
            throw std::runtime_error(std::string(what) + " failed");
    }
    ~ServerChannel() {
        if (open_)
            context_->Close(context_);
        free_(context_);
    }
    ServerChannel(const ServerChannel&) = delete;
    ServerChannel& operator=(const ServerChannel&) = delete;

    Context* get() const { return context_; }
    Context* operator->() const { return context_; }
    // Open succeeded: the destructor must Close.
    void opened() { open_ = true; }

  private:
    Context* const context_;
    const Free free_;
    bool open_ = false;
};

}  // namespace deskpod
