#include <gtest/gtest.h>

#include "shared/geometry.hpp"

using deskpod::Rect;
using deskpod::Region;

TEST(Region, StartsEmpty) {
    Region r;
    EXPECT_TRUE(r.empty());
    EXPECT_EQ(r.area(), 0);
    EXPECT_TRUE(r.rects().empty());
}

TEST(Region, EmptyRectsAreIgnored) {
    Region r;
    r.add(Rect{10, 10, 0, 5});
    r.add(Rect{10, 10, 5, -1});
    EXPECT_TRUE(r.empty());
}

TEST(Region, UnionOfOverlappingRectsCountsAreaOnce) {
    Region r;
    r.add(Rect{0, 0, 10, 10});
    r.add(Rect{5, 5, 10, 10});
    EXPECT_EQ(r.area(), 100 + 100 - 25);
    EXPECT_EQ(r.extents(), (Rect{0, 0, 15, 15}));
}

TEST(Region, RectsDoNotOverlap) {
    Region r;
    r.add(Rect{0, 0, 64, 64});
    r.add(Rect{32, 32, 64, 64});
    r.add(Rect{10, 80, 5, 5});
    int64_t sum = 0;
    for (const Rect& rect : r.rects())
        sum += rect.area();
    EXPECT_EQ(sum, r.area());
}

TEST(Region, ClipToDesktop) {
    Region r(Rect{-10, -10, 50, 50});
    r.add(Rect{90, 90, 50, 50});
    r.clip(Rect{0, 0, 100, 100});
    EXPECT_EQ(r.area(), 40 * 40 + 10 * 10);
    for (const Rect& rect : r.rects()) {
        EXPECT_GE(rect.x, 0);
        EXPECT_GE(rect.y, 0);
        EXPECT_LE(rect.x + rect.width, 100);
        EXPECT_LE(rect.y + rect.height, 100);
    }
}

TEST(Region, ClipToEmptyBoundsClears) {
    Region r(Rect{0, 0, 10, 10});
    r.clip(Rect{0, 0, 0, 0});
    EXPECT_TRUE(r.empty());
}

TEST(Region, SubtractLeavesTheRest) {
    Region r(Rect{0, 0, 100, 100});
    r.subtract(Region(Rect{0, 0, 100, 50}));
    EXPECT_EQ(r.extents(), (Rect{0, 50, 100, 50}));
}

TEST(Region, CopyAndMoveAreIndependent) {
    Region a(Rect{0, 0, 10, 10});
    Region b = a;
    b.add(Rect{20, 20, 10, 10});
    EXPECT_EQ(a.area(), 100);
    EXPECT_EQ(b.area(), 200);
    Region c = std::move(b);
    EXPECT_EQ(c.area(), 200);
    a = c;
    EXPECT_EQ(a.area(), 200);
    c.clear();
    EXPECT_EQ(a.area(), 200);
}

TEST(Region, SimplifyMergesManyRectsIntoTheirBox) {
    Region r;
    for (int i = 0; i < 40; ++i)
        r.add(Rect{i * 10, i * 3, 4, 2});
    ASSERT_GT(r.rect_count(), 16u);
    const Rect box = r.extents();
    r.simplify(16, 0.0);
    EXPECT_EQ(r.rect_count(), 1u);
    EXPECT_EQ(r.extents(), box);
}

TEST(Region, SimplifyKeepsSparseFewRects) {
    Region r;
    r.add(Rect{0, 0, 10, 10});
    r.add(Rect{1000, 1000, 10, 10});
    r.simplify(16, 0.25);
    EXPECT_EQ(r.rect_count(), 2u);
}

TEST(Region, SimplifyMergesWhenWasteIsSmall) {
    Region r;
    r.add(Rect{0, 0, 100, 50});
    r.add(Rect{0, 50, 90, 50});
    r.simplify(16, 0.25);
    EXPECT_EQ(r.rect_count(), 1u);
    EXPECT_EQ(r.extents(), (Rect{0, 0, 100, 100}));
}
