#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "rdp-bridge/frame_pacer.hpp"

using namespace deskpod;

namespace {

using Clock = FramePacer::Clock;

// A viewer that sends whatever is pending whenever the window has room, as RdpPeer and
// guac::User do, numbering its frames 1, 2, ...
struct Viewer {
    boost::asio::io_context io;
    std::vector<FramePacer::Frame> sent;
    int flushes = 0;
    uint64_t next_id = 1;
    bool acknowledged = true;
    FramePacer pacer{io, 2, [this] { flush(); }};

    void flush() {
        ++flushes;
        if (!pacer.has_pending() || pacer.window_full())
            return;
        sent.push_back(pacer.take());
        if (acknowledged)
            pacer.frame_sent(next_id++);
    }
    // Runs what is posted, as one turn of the network thread's loop.
    void turn() {
        io.restart();
        io.poll();
    }
};

Clock::time_point at(int ms) {
    return Clock::time_point{} + std::chrono::milliseconds(ms);
}

}  // namespace

TEST(FramePacer, DamageOfOneLoopTurnBecomesOneFrame) {
    Viewer v;
    v.pacer.add_damage(Region(Rect{0, 0, 10, 10}), at(5));
    v.pacer.add_damage(Region(Rect{20, 0, 10, 10}), at(7));
    v.pacer.add(Rect{40, 0, 10, 10});
    EXPECT_TRUE(v.sent.empty());  // nothing is sent from inside the damage callbacks
    v.turn();
    ASSERT_EQ(v.sent.size(), 1u);
    EXPECT_EQ(v.flushes, 1);
    EXPECT_EQ(v.sent[0].damage.rect_count(), 3u);
    EXPECT_EQ(v.sent[0].damage.area(), 300);
    EXPECT_FALSE(v.pacer.has_pending());
}

TEST(FramePacer, ReportsTheCaptureTimeOfTheOldestPendingDamage) {
    Viewer v;
    v.pacer.add_damage(Region(Rect{0, 0, 10, 10}), at(5));
    v.pacer.add_damage(Region(Rect{0, 0, 20, 20}), at(9));
    v.turn();
    ASSERT_EQ(v.sent.size(), 1u);
    EXPECT_EQ(v.sent[0].captured_at, at(5));

    // Damage without a capture time (a refresh) keeps the slot empty, and new pixels that
    // join it do not claim it: the frame's capture time stays unknown.
    v.pacer.add(Rect{0, 0, 4, 4});
    v.pacer.add_damage(Region(Rect{0, 0, 8, 8}), at(20));
    v.pacer.acknowledge(1);
    v.turn();
    ASSERT_EQ(v.sent.size(), 2u);
    EXPECT_EQ(v.sent[1].captured_at, Clock::time_point{});
}

TEST(FramePacer, ReplaceDropsWhatWasPending) {
    Viewer v;
    v.pacer.add_damage(Region(Rect{500, 500, 10, 10}), at(1));
    v.pacer.replace(Rect{0, 0, 320, 200}, at(3));
    v.turn();
    ASSERT_EQ(v.sent.size(), 1u);
    EXPECT_EQ(v.sent[0].damage.extents(), (Rect{0, 0, 320, 200}));
    EXPECT_EQ(v.sent[0].captured_at, at(3));
}

TEST(FramePacer, KeepsAtMostTwoFramesUnacknowledgedAndCoalescesMeanwhile) {
    Viewer v;
    for (int i = 0; i < 2; ++i) {
        v.pacer.add_damage(Region(Rect{i, 0, 1, 1}), at(i));
        v.turn();
    }
    ASSERT_EQ(v.sent.size(), 2u);
    EXPECT_EQ(v.pacer.in_flight(), 2u);
    EXPECT_TRUE(v.pacer.window_full());

    // The window is full: damage waits, and merges.
    v.pacer.add_damage(Region(Rect{0, 10, 5, 5}), at(10));
    v.turn();
    v.pacer.add_damage(Region(Rect{10, 10, 5, 5}), at(11));
    v.turn();
    EXPECT_EQ(v.sent.size(), 2u);

    // An acknowledgement opens the window and posts the flush the waiting damage needs.
    EXPECT_EQ(v.pacer.acknowledge(1), 1u);
    v.turn();
    ASSERT_EQ(v.sent.size(), 3u);
    EXPECT_EQ(v.sent[2].damage.area(), 50);
    EXPECT_EQ(v.sent[2].captured_at, at(10));
    EXPECT_TRUE(v.pacer.window_full());
}

TEST(FramePacer, AnAcknowledgementCoversEveryEarlierFrame) {
    Viewer v;
    for (int i = 0; i < 2; ++i) {
        v.pacer.add(Rect{i, 0, 1, 1});
        v.turn();
    }
    EXPECT_EQ(v.pacer.acknowledge(2), 2u);
    EXPECT_EQ(v.pacer.in_flight(), 0u);
    // Stale and repeated acknowledgements change nothing.
    EXPECT_EQ(v.pacer.acknowledge(1), 0u);
    EXPECT_EQ(v.pacer.acknowledge(2), 0u);
}

TEST(FramePacer, AcknowledgementsWithoutPendingDamagePostNothing) {
    Viewer v;
    v.pacer.add(Rect{0, 0, 1, 1});
    v.turn();
    EXPECT_EQ(v.flushes, 1);
    v.pacer.acknowledge(1);
    v.turn();
    EXPECT_EQ(v.flushes, 1);
}

TEST(FramePacer, IdsNeedOnlyIncrease) {
    // Guacamole names frames by their sync timestamps.
    Viewer v;
    v.pacer.frame_sent(1000);
    v.pacer.frame_sent(1016);
    EXPECT_EQ(v.pacer.acknowledge(1010), 1u);
    EXPECT_EQ(v.pacer.in_flight(), 1u);
    EXPECT_EQ(v.pacer.acknowledge(5000), 1u);
}

TEST(FramePacer, FramesNobodyAcknowledgesNeverFillTheWindow) {
    Viewer v;
    v.acknowledged = false;
    for (int i = 0; i < 5; ++i) {
        v.pacer.add(Rect{i, 0, 1, 1});
        v.turn();
    }
    EXPECT_EQ(v.sent.size(), 5u);
    EXPECT_FALSE(v.pacer.window_full());
}

TEST(FramePacer, ForgettingTheFramesInFlightOpensTheWindow) {
    Viewer v;
    v.pacer.frame_sent(1);
    v.pacer.frame_sent(2);
    ASSERT_TRUE(v.pacer.window_full());
    v.pacer.forget_in_flight();
    EXPECT_FALSE(v.pacer.window_full());
    EXPECT_EQ(v.pacer.acknowledge(2), 0u);
}

TEST(FramePacer, ScheduleWithNothingPendingStillFlushesOnce) {
    // RDP asks for a flush whenever its socket drains, pending damage or not.
    Viewer v;
    v.pacer.schedule();
    v.pacer.schedule();
    v.turn();
    EXPECT_EQ(v.flushes, 1);
    EXPECT_TRUE(v.sent.empty());
}

TEST(FramePacer, StopCancelsEvenAPostedFlush) {
    Viewer v;
    v.pacer.add(Rect{0, 0, 1, 1});
    v.pacer.stop();
    v.turn();
    EXPECT_EQ(v.flushes, 0);
    v.pacer.add(Rect{0, 0, 1, 1});
    v.turn();
    EXPECT_EQ(v.flushes, 0);
}

TEST(FramePacer, APostedFlushOutlivingThePacerDoesNothing) {
    boost::asio::io_context io;
    int flushes = 0;
    auto pacer = std::make_unique<FramePacer>(io, 2, [&] { ++flushes; });
    pacer->add(Rect{0, 0, 1, 1});
    pacer.reset();
    io.poll();
    EXPECT_EQ(flushes, 0);
}
