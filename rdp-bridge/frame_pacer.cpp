#include "rdp-bridge/frame_pacer.hpp"

#include <utility>

namespace deskpod {

FramePacer::FramePacer(boost::asio::io_context& io, size_t max_in_flight,
                       std::function<void()> flush)
    : io_(io), max_in_flight_(max_in_flight), flush_(std::move(flush)) {}

void FramePacer::add_damage(const Region& damage, Clock::time_point captured_at) {
    if (pending_.empty())
        pending_since_ = captured_at;
    pending_.add(damage);
    schedule();
}

void FramePacer::add(const Rect& area) {
    pending_.add(area);
    schedule();
}

void FramePacer::replace(const Rect& area, Clock::time_point since) {
    pending_.clear();
    pending_.add(area);
    pending_since_ = since;
    schedule();
}

FramePacer::Frame FramePacer::take() {
    Frame frame{std::move(pending_), pending_since_};
    pending_.clear();
    pending_since_ = {};
    return frame;
}

void FramePacer::frame_sent(uint64_t id) {
    in_flight_.push_back(id);
}

size_t FramePacer::acknowledge(uint64_t id) {
    size_t acknowledged = 0;
    while (!in_flight_.empty() && in_flight_.front() <= id) {
        in_flight_.pop_front();
        ++acknowledged;
    }
    if (!pending_.empty())
        schedule();
    return acknowledged;
}

void FramePacer::schedule() {
    if (posted_ || stopped_)
        return;
    posted_ = true;
    boost::asio::post(io_, [weak = std::weak_ptr<FramePacer*>(self_)] {
        const auto self = weak.lock();
        if (!self || (*self)->stopped_)
            return;
        (*self)->posted_ = false;
        (*self)->flush_();
    });
}

}  // namespace deskpod
