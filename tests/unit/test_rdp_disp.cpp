// Display Control layouts -> desktop size (rdp-bridge/rdp_disp.hpp).
#include <gtest/gtest.h>

#include "rdp_disp.hpp"

namespace deskpod {
namespace {

DispMonitor mon(int32_t left, int32_t top, uint32_t w, uint32_t h, bool primary = false,
                uint32_t scale = 0) {
    return DispMonitor{primary ? 1u : 0u, left, top, w, h, scale};
}

TEST(DispLayout, OneMonitor) {
    const auto s = disp_layout_size({mon(0, 0, 900, 600, true)});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->width, 900);
    EXPECT_EQ(s->height, 600);
    EXPECT_FALSE(s->adjusted);
    EXPECT_EQ(s->scale, 0u);
}

TEST(DispLayout, OddWidthRoundsDown) {
    const auto s = disp_layout_size({mon(0, 0, 901, 601)});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->width, 900);
    EXPECT_EQ(s->height, 601);
    EXPECT_TRUE(s->adjusted);
}

TEST(DispLayout, SmallIsClamped) {
    const auto s = disp_layout_size({mon(0, 0, 100, 50)});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->width, 320);
    EXPECT_EQ(s->height, 200);
    EXPECT_TRUE(s->adjusted);
}

TEST(DispLayout, AbsurdIsIgnored) {
    EXPECT_FALSE(disp_layout_size({}));
    EXPECT_FALSE(disp_layout_size({mon(0, 0, 0, 600)}));
    EXPECT_FALSE(disp_layout_size({mon(0, 0, 800, 0)}));
    EXPECT_FALSE(disp_layout_size({mon(0, 0, 8194, 600)}));
    EXPECT_FALSE(disp_layout_size({mon(0, 0, 800, 100000)}));
}

TEST(DispLayout, BoundingBoxOfMonitors) {
    // Two side by side, the second starting left of the origin.
    const auto s = disp_layout_size({mon(0, 0, 1920, 1080, true), mon(-1280, 100, 1280, 1024)});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->width, 3200);
    EXPECT_EQ(s->height, 1124);
}

TEST(DispLayout, BoundingBoxIsClampedTo8192) {
    const auto s = disp_layout_size({mon(0, 0, 8000, 1000), mon(8000, 0, 8000, 1000)});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->width, 8192);
    EXPECT_TRUE(s->adjusted);
}

TEST(DispLayout, ScaleOfPrimaryWithinRange) {
    auto s = disp_layout_size({mon(0, 0, 800, 600, false, 125), mon(800, 0, 800, 600, true, 150)});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->scale, 150u);
    s = disp_layout_size({mon(0, 0, 800, 600, true, 50)});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->scale, 0u);
    s = disp_layout_size({mon(0, 0, 800, 600, true, 501)});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->scale, 0u);
}

}  // namespace
}  // namespace deskpod
