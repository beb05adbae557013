#include "rdp-bridge/rdp/gfx/rate_control.hpp"

#include <algorithm>

namespace deskpod {

namespace {

// a is at or before b on the 32-bit id circle.
bool not_after(uint32_t a, uint32_t b) {
    return int32_t(b - a) >= 0;
}

}  // namespace

RateControl::RateControl(Limits limits)
    : limits_(limits), target_kbps_(std::max(limits.min_kbps, limits.max_kbps)) {}

void RateControl::sent(uint32_t id, size_t bytes, Clock::time_point now) {
    if (sent_.size() >= kMaxTracked)
        sent_.pop_front();
    sent_.push_back(Sent{id, bytes, now});
}

void RateControl::reset() {
    sent_.clear();
    acked_.clear();
    measured_ = false;
    smoothed_ = {};
}

int RateControl::received_kbps(Clock::time_point now) const {
    if (acked_.empty())
        return 0;
    const auto span = now - acked_.front().at;
    if (span < kRateWindow / 2)
        return 0;  // too short to say
    // What arrived after the first acknowledgement of the window, over the time since.
    size_t bytes = 0;
    for (size_t i = 1; i < acked_.size(); ++i)
        bytes += acked_[i].bytes;
    const double seconds = std::chrono::duration<double>(span).count();
    return int(double(bytes) * 8.0 / 1000.0 / seconds);
}

bool RateControl::acknowledged(uint32_t id, Clock::time_point now) {
    // The frames this acknowledges; the delay is the acknowledged frame's own.
    bool found = false;
    Clock::duration delay{};
    size_t bytes = 0;
    while (!sent_.empty() && not_after(sent_.front().id, id)) {
        bytes += sent_.front().bytes;
        if (sent_.front().id == id) {
            found = true;
            delay = now - sent_.front().at;
        }
        sent_.pop_front();
    }
    if (!found)
        return false;
    acked_.push_back(Acked{now, bytes});
    // The rate window, or the last few acknowledgements when they come further apart.
    while (acked_.size() > kMinRateSamples && now - acked_.front().at > kRateWindow)
        acked_.pop_front();

    // The floor expires only after kFloorWindow and kFloorSamples more acknowledgements, so
    // a link slow enough to space them out does not make its own queue the floor.
    ++since_floor_;
    if (delay <= floor_ || (now - floor_at_ > kFloorWindow && since_floor_ > kFloorSamples)) {
        since_floor_ = 0;
        floor_ = delay;
        floor_at_ = now;
    }
    smoothed_ = measured_ ? (smoothed_ * 7 + delay) / 8 : delay;
    measured_ = true;
    if (now - last_change_ < kStep)
        return false;

    const auto queue = smoothed_ - floor_;
    const auto allowed = std::max<Clock::duration>(
        kQueueDelay, std::chrono::duration_cast<Clock::duration>(floor_ / 2));
    int next = target_kbps_;
    const int received = received_kbps(now);
    const bool behind =
        now - held_back_at_ < kRateWindow / 2 && received > 0 && received < target_kbps_ * 8 / 10;
    if (queue > allowed || behind) {
        // Below what the client received, so the queue drains; never up.
        next = target_kbps_ * 85 / 100;
        if (received > 0)
            next = std::min(next, received * 9 / 10);
        last_decrease_ = now;
    } else if (now - last_decrease_ >= kHold) {
        next = target_kbps_ + std::max(50, target_kbps_ / 10);
    }
    next = std::clamp(next, limits_.min_kbps, limits_.max_kbps);
    if (next == target_kbps_)
        return false;
    target_kbps_ = next;
    last_change_ = now;
    return true;
}

}  // namespace deskpod
