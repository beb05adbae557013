#include <gtest/gtest.h>
#include <poll.h>

#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "shared/bounded_queue.hpp"
#include "shared/channels.hpp"
#include "shared/frame_pool.hpp"

using namespace deskpod;

namespace {
bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
}
}  // namespace

TEST(FramePool, HandsOutEachSlotOnceUntilReleased) {
    FramePool pool(3);
    std::vector<FrameRef> held;
    for (int i = 0; i < 3; ++i) {
        FrameRef ref = pool.acquire(64, 32).publish();
        ASSERT_TRUE(ref);
        EXPECT_EQ(ref.width(), 64);
        EXPECT_EQ(ref.height(), 32);
        EXPECT_EQ(ref.stride(), 64 * 4);
        held.push_back(std::move(ref));
    }
    EXPECT_EQ(pool.in_use(), 3u);
    // Exhausted: the compositor must coalesce instead of allocating.
    EXPECT_FALSE(pool.acquire(64, 32));
    held.pop_back();
    EXPECT_EQ(pool.in_use(), 2u);
    EXPECT_TRUE(pool.acquire(64, 32));
}

TEST(FramePool, ReusesTheSameMemoryForTheSameSize) {
    FramePool pool(1);
    const uint8_t* first = nullptr;
    {
        FrameRef ref = pool.acquire(128, 128).publish();
        first = ref.data();
    }
    FrameRef again = pool.acquire(128, 128).publish();
    EXPECT_EQ(again.data(), first);
}

TEST(FramePool, ResizesSlotsOnSizeChange) {
    FramePool pool(1);
    { FrameRef ref = pool.acquire(10, 10).publish(); }
    FrameRef ref = pool.acquire(20, 5).publish();
    EXPECT_EQ(ref.width(), 20);
    EXPECT_EQ(ref.height(), 5);
    EXPECT_EQ(ref.stride(), 80);
}

TEST(FramePool, CopiesShareTheSlotAndLastReleaseRingsTheDoorbell) {
    FramePool pool(1);
    pool.returned().drain();
    FrameRef a = pool.acquire(8, 8).publish();
    FrameRef b = a;
    FrameRef c;
    c = b;
    a.reset();
    b.reset();
    EXPECT_FALSE(readable(pool.returned().fd()));
    EXPECT_FALSE(pool.acquire(8, 8));
    c.reset();
    EXPECT_TRUE(readable(pool.returned().fd()));
    pool.returned().drain();
    EXPECT_FALSE(readable(pool.returned().fd()));
    EXPECT_TRUE(pool.acquire(8, 8));
}

// What the network side holds must not expose a way to write the pixels.
template <class T>
concept WritableThroughRef = requires(T& r) {
    r.mutable_data();
};

TEST(FramePool, OnlyTheWriterWritesAndPublishingHandsOverThePixels) {
    static_assert(!std::is_copy_constructible_v<FrameWriter>);
    static_assert(!WritableThroughRef<FrameRef>);
    static_assert(std::is_same_v<decltype(std::declval<const FrameRef&>().data()), const uint8_t*>);
    FramePool pool(1);
    FrameWriter writer = pool.acquire(4, 2);
    ASSERT_TRUE(writer);
    writer.data()[5] = 0xab;
    FrameRef ref = std::move(writer).publish();
    ASSERT_TRUE(ref);
    EXPECT_EQ(ref.data()[5], 0xab);
    EXPECT_EQ(ref.stride(), 16);
    EXPECT_EQ(pool.in_use(), 1u);
    ref.reset();
    EXPECT_EQ(pool.in_use(), 0u);
}

TEST(FramePool, AWriterDroppedUnpublishedReturnsItsSlot) {
    FramePool pool(1);
    { FrameWriter writer = pool.acquire(8, 8); }
    EXPECT_EQ(pool.in_use(), 0u);
    EXPECT_TRUE(pool.acquire(8, 8));
}

TEST(FramePool, ReleaseFromAnotherThreadFreesTheSlot) {
    FramePool pool(2);
    FrameRef ref = pool.acquire(16, 16).publish();
    std::thread t([r = std::move(ref)]() mutable { r.reset(); });
    t.join();
    EXPECT_EQ(pool.in_use(), 0u);
}

TEST(BoundedQueue, RefusesPushesBeyondCapacityAndCountsThem) {
    BoundedQueue<int> q(3);
    for (int i = 0; i < 3; ++i) {
        int v = i;
        EXPECT_TRUE(q.try_push(std::move(v)));
    }
    int extra = 99;
    EXPECT_FALSE(q.try_push(std::move(extra)));
    EXPECT_EQ(q.dropped(), 1u);
    EXPECT_EQ(q.size_approx(), 3u);
    int out = -1;
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(out, 0);
    int again = 7;
    EXPECT_TRUE(q.try_push(std::move(again)));
}

TEST(BoundedQueue, DoorbellRingsOnPushAndCoalesces) {
    BoundedQueue<int> q(16);
    EXPECT_FALSE(readable(q.doorbell().fd()));
    for (int i = 0; i < 5; ++i) {
        int v = i;
        q.try_push(std::move(v));
    }
    EXPECT_TRUE(readable(q.doorbell().fd()));
    q.doorbell().drain();
    EXPECT_FALSE(readable(q.doorbell().fd()));
    int out;
    int n = 0;
    while (q.try_pop(out))
        ++n;
    EXPECT_EQ(n, 5);
}

TEST(BoundedQueue, ManyProducersNeverExceedTheBound) {
    BoundedQueue<int> q(100);
    std::vector<std::thread> producers;
    std::atomic<int> accepted{0};
    for (int t = 0; t < 4; ++t) {
        producers.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) {
                int v = i;
                if (q.try_push(std::move(v)))
                    accepted.fetch_add(1);
            }
        });
    }
    for (auto& t : producers)
        t.join();
    EXPECT_EQ(accepted.load(), 100);
    EXPECT_EQ(q.dropped(), 4000u - 100u);
}

TEST(Channels, FrameEventsHoldSlotsUntilConsumed) {
    Channels ch;
    FrameRef ref = ch.frames.acquire(32, 32).publish();
    ASSERT_TRUE(ref);
    FrameEvent ev{1, 32, 32, {Rect{0, 0, 32, 32}}, std::move(ref)};
    ASSERT_TRUE(ch.to_bridge.try_push(DesktopEvent(std::move(ev))));
    EXPECT_EQ(ch.frames.in_use(), 1u);
    DesktopEvent out;
    ASSERT_TRUE(ch.to_bridge.try_pop(out));
    EXPECT_EQ(ch.frames.in_use(), 1u);
    out = DesktopSizeEvent{};
    EXPECT_EQ(ch.frames.in_use(), 0u);
}
