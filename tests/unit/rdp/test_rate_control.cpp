// The H.264 bitrate control (rdp-bridge/rdp/gfx/rate_control.hpp) against a simulated link: a
// bottleneck of so many kilobits a second and a fixed round trip, frames offered at 30 a second
// as large as the target allows, at most two unacknowledged (as FramePacer sends them).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <random>

#include "rdp-bridge/rdp/gfx/rate_control.hpp"

namespace deskpod {
namespace {

using Clock = RateControl::Clock;
using std::chrono::milliseconds;

struct Link {
    double kbps;
    Clock::duration rtt;
    double content_kbps = 1e9;  // what the desktop gives the encoder, if less than the target
    Clock::duration jitter{};   // the client's decoding time varies up to this much
};

class Simulation {
  public:
    explicit Simulation(RateControl& rate, uint32_t first_id = 1) : rate_(rate), id_(first_id) {}

    // Runs `seconds` of 30 frames a second over `link`; returns the largest delay of the
    // last second (sent to acknowledged).
    Clock::duration run(const Link& link, double seconds) {
        const auto tick = std::chrono::duration_cast<Clock::duration>(milliseconds(1000) / 30);
        const auto end = now_ + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(seconds));
        Clock::duration worst{};
        while (now_ < end) {
            deliver_until(now_, end, worst);
            if (in_flight_.size() < 2) {
                const double kbps = std::min(double(rate_.target_kbps()), link.content_kbps);
                const size_t bytes = size_t(kbps * 1000 / 8 / 30);
                rate_.sent(id_, bytes, now_);
                // The bottleneck carries one frame after another.
                const auto transmit = std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(double(bytes) * 8.0 / 1000.0 / link.kbps));
                link_free_ = std::max(link_free_, now_) + transmit;
                const auto jitter = link.jitter * int(random_() % 101) / 100;
                in_flight_.push_back(Flight{id_, now_, link_free_ + link.rtt + jitter});
                ++id_;
            } else {
                rate_.held_back(now_);
            }
            now_ += tick;
        }
        return worst;
    }

  private:
    struct Flight {
        uint32_t id;
        Clock::time_point sent, acked;
    };
    void deliver_until(Clock::time_point t, Clock::time_point end, Clock::duration& worst) {
        while (!in_flight_.empty() && in_flight_.front().acked <= t) {
            const Flight f = in_flight_.front();
            in_flight_.pop_front();
            rate_.acknowledged(f.id, f.acked);
            if (end - f.acked < std::chrono::seconds(1))
                worst = std::max(worst, f.acked - f.sent);
        }
    }

    RateControl& rate_;
    uint32_t id_;
    Clock::time_point now_ = Clock::time_point{} + std::chrono::hours(1);
    Clock::time_point link_free_{};
    std::deque<Flight> in_flight_;
    std::minstd_rand random_{7};
};

const RateControl::Limits kLimits{300, 20000};

TEST(RateControl, AFastLinkKeepsTheCap) {
    RateControl rate(kLimits);
    Simulation sim(rate);
    sim.run(Link{1'000'000, milliseconds(2)}, 20);
    EXPECT_EQ(rate.target_kbps(), 20000);
}

// Near what the link carries: it ends between half of it and a little above it (above, the
// two-frame window lowers the frame rate instead), and frames are not left queueing.
void expect_near(const RateControl& rate, double link_kbps) {
    EXPECT_LE(rate.target_kbps(), link_kbps * 1.25);
    EXPECT_GE(rate.target_kbps(), link_kbps * 0.5);
}

TEST(RateControl, LittleContentAndAJitteryClientKeepTheCap) {
    // A desktop that gives the encoder little (text, a small animation) on a fast link, to a
    // client whose decoding time varies: nothing is behind, so nothing is lowered.
    RateControl rate(kLimits);
    Simulation sim(rate);
    sim.run(Link{1'000'000, milliseconds(2), 300, milliseconds(30)}, 60);
    EXPECT_EQ(rate.target_kbps(), 20000);
}

TEST(RateControl, ASlowLinkBringsTheTargetDownToItAndTheQueueDrains) {
    for (const double kbps : {1000.0, 3000.0, 8000.0}) {
        SCOPED_TRACE(kbps);
        RateControl rate(kLimits);
        Simulation sim(rate);
        const Clock::duration worst = sim.run(Link{kbps, milliseconds(20)}, 60);
        expect_near(rate, kbps);
        // Two frames at the target take a fifteenth of a second on the link, whatever it is:
        // the delay stays a few frames above the round trip.
        EXPECT_LT(worst, milliseconds(250));
    }
}

TEST(RateControl, TheTargetClimbsBackWhenTheLinkRecovers) {
    RateControl rate(kLimits);
    Simulation sim(rate);
    sim.run(Link{2000, milliseconds(20)}, 30);
    ASSERT_LE(rate.target_kbps(), 2500);
    sim.run(Link{1'000'000, milliseconds(20)}, 60);
    EXPECT_EQ(rate.target_kbps(), 20000);
}

TEST(RateControl, NeverBelowItsFloor) {
    RateControl rate(kLimits);
    Simulation sim(rate);
    sim.run(Link{100, milliseconds(20)}, 300);
    EXPECT_EQ(rate.target_kbps(), 300);
}

TEST(RateControl, FrameIdsWrapAround) {
    RateControl rate(kLimits);
    Simulation sim(rate, 0xFFFFFFF0u);
    sim.run(Link{3000, milliseconds(20)}, 60);
    expect_near(rate, 3000);
}

TEST(RateControl, AnAcknowledgementOfNothingSentChangesNothing) {
    RateControl rate(kLimits);
    const auto t = Clock::time_point{} + std::chrono::hours(1);
    EXPECT_FALSE(rate.acknowledged(7, t));
    rate.sent(8, 1000, t);
    EXPECT_FALSE(rate.acknowledged(7, t + milliseconds(5)));
    rate.reset();
    EXPECT_FALSE(rate.acknowledged(8, t + milliseconds(10)));
    EXPECT_EQ(rate.target_kbps(), 20000);
    EXPECT_EQ(rate.received_kbps(t), 0);
}

TEST(RateControl, AClientThatNeverAcknowledgesHoldsLittle) {
    RateControl rate(kLimits);
    const auto t = Clock::time_point{} + std::chrono::hours(1);
    for (uint32_t id = 1; id <= 10000; ++id)
        rate.sent(id, 100000, t + milliseconds(id));
    EXPECT_LE(rate.tracked(), 64u);
    // Only the newest are remembered: the first one is unknown now, the last is not.
    EXPECT_FALSE(rate.acknowledged(1, t + milliseconds(20000)));
    EXPECT_EQ(rate.tracked(), 64u);
    rate.acknowledged(10000, t + milliseconds(20000));
    EXPECT_EQ(rate.tracked(), 0u);
}

}  // namespace
}  // namespace deskpod
