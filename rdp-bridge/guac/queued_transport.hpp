// The write side both Guacamole transports share (the guacd-compatible TCP connection and the
// web client's WebSocket tunnel): one write in flight at a time, the rest queued in order with
// their bytes counted (User paces frames by backlog()), and a close that lets what is queued
// (an `error` or `disconnect`) reach the client first.
//
// Derived (CRTP) provides:
//   void write_front(const std::string& data, Done done)  start one async write of `data`,
//       holding a strong reference to itself until it calls done(error_code)
//   void queue_drained()   everything written: the user may send the next frame
//   void shut_down()       closing and everything written: end the stream gracefully
//   void finish()          tear down now (write error); sets closed_
//   void finish_later()    post finish() to the loop, keeping the transport alive until then
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <string>
#include <utility>

#include <boost/system/error_code.hpp>

#include "rdp-bridge/guac/user.hpp"

namespace deskpod::guac {

template <class Derived>
class QueuedTransport : public Transport {
  public:
    void send(std::string data) override {
        if (closed_ || closing_)
            return;
        backlog_ += data.size();
        queue_.push_back(std::move(data));
        if (!writing_)
            write_next();
    }

    size_t backlog() const override { return backlog_; }

    void close() override {
        if (closed_ || closing_)
            return;
        closing_ = true;
        if (!writing_)
            self().shut_down();
    }

    void abort() override {
        if (closed_ || aborting_)
            return;
        aborting_ = closing_ = true;
        self().finish_later();
    }

  protected:
    bool closed_ = false;

  private:
    Derived& self() { return static_cast<Derived&>(*this); }

    void write_next() {
        if (queue_.empty()) {
            writing_ = false;
            if (aborting_) {
                // finish_later() tears down.
            } else if (closing_) {
                self().shut_down();
            } else {
                self().queue_drained();
            }
            return;
        }
        writing_ = true;
        self().write_front(queue_.front(), [this](boost::system::error_code ec) {
            if (closed_)
                return;
            backlog_ -= std::min(backlog_, queue_.front().size());
            queue_.pop_front();
            if (ec) {
                self().finish();
                return;
            }
            write_next();
        });
    }

    std::deque<std::string> queue_;
    size_t backlog_ = 0;
    bool writing_ = false;
    bool closing_ = false;
    bool aborting_ = false;
};

}  // namespace deskpod::guac
