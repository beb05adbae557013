// The H.264 bitrate for one graphics pipeline client, from how its frame acknowledgements come
// back. A frame's delay (sent to acknowledged) is the link's round trip plus the client's
// decoding; when the link cannot carry what is sent, frames queue in the network and the delay
// grows above the lowest one seen recently. Then the target drops below what the client was
// shown to receive, so the queue drains and frames keep coming instead of growing late; while
// the delay stays near its floor the target climbs back towards the cap. The frame rate
// already follows the acknowledgements (FramePacer keeps at most two frames unacknowledged), so
// the queue a slow link builds is short: frames held back for acknowledgements while the
// client receives less than the target say the same.
// Written here because it depends on MS-RDPEGFX's acknowledgements, which no library's
// congestion control knows. Network thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>

namespace deskpod {

class RateControl {
  public:
    using Clock = std::chrono::steady_clock;

    struct Limits {
        int min_kbps = 300;
        int max_kbps = 4000;
    };
    // Delay above the floor that counts as a queue: at least this, or half the floor.
    static constexpr std::chrono::milliseconds kQueueDelay{40};
    // The floor is the lowest delay of the last this long (it follows a link that changed).
    static constexpr std::chrono::seconds kFloorWindow{10};
    static constexpr unsigned kFloorSamples = 30;
    // Receive rate: bytes acknowledged over about the last second (at least the last few
    // acknowledgements).
    static constexpr std::chrono::milliseconds kRateWindow{1000};
    static constexpr size_t kMinRateSamples = 4;
    // At most one change per this long; an increase waits this long after a decrease.
    static constexpr std::chrono::milliseconds kStep{250};
    static constexpr std::chrono::milliseconds kHold{1500};

    // Starts at the cap: a LAN client never sees a ramp.
    explicit RateControl(Limits limits);

    // Frame `id` (ids increase, modulo 2^32) left with `bytes` of PDUs.
    void sent(uint32_t id, size_t bytes, Clock::time_point now);
    // The client acknowledged `id` and every frame before it. True when target_kbps() changed.
    bool acknowledged(uint32_t id, Clock::time_point now);
    // A frame was ready but waited for acknowledgements: the link (or the client), not the
    // desktop, sets the pace now, so a client receiving less than the target is behind.
    void held_back(Clock::time_point now) { held_back_at_ = now; }
    // The client stopped acknowledging (or resumed): nothing is measured meanwhile.
    void reset();

    int target_kbps() const { return target_kbps_; }
    Clock::duration floor() const { return floor_; }
    Clock::duration smoothed() const { return smoothed_; }
    // Kilobits per second the client acknowledged over the rate window (0: not measured yet).
    int received_kbps(Clock::time_point now) const;
    size_t tracked() const { return sent_.size(); }  // frames sent, not yet acknowledged

  private:
    struct Sent {
        uint32_t id;
        size_t bytes;
        Clock::time_point at;
    };
    struct Acked {
        Clock::time_point at;
        size_t bytes;
    };
    // Frames in flight are few (FramePacer's window); a client that never acknowledges
    // leaves at most this many here.
    static constexpr size_t kMaxTracked = 64;

    Limits limits_;
    int target_kbps_;
    std::deque<Sent> sent_;
    std::deque<Acked> acked_;
    Clock::duration floor_ = Clock::duration::max();
    Clock::time_point floor_at_{};
    unsigned since_floor_ = 0;  // acknowledgements since the floor was set
    Clock::duration smoothed_{};
    bool measured_ = false;
    Clock::time_point last_change_{};
    Clock::time_point last_decrease_{};
    Clock::time_point held_back_at_{};
};

}  // namespace deskpod
