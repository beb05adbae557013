// Display Control layouts -> desktop monitors (rdp-bridge/rdp_disp.hpp, shared/monitors.hpp).
#include <gtest/gtest.h>

#include "rdp-bridge/rdp/disp.hpp"

namespace deskpod {
namespace {

DispMonitor mon(int32_t left, int32_t top, uint32_t w, uint32_t h, bool primary = false,
                uint32_t scale = 0) {
    return DispMonitor{primary ? 1u : 0u, left, top, w, h, scale};
}

std::optional<NormalizedLayout> layout(const std::vector<DispMonitor>& monitors) {
    return normalize_layout(disp_layout(monitors), nullptr);
}

TEST(DispLayout, OneMonitor) {
    const auto l = layout({mon(0, 0, 900, 600, true)});
    ASSERT_TRUE(l);
    EXPECT_EQ(l->width, 900);
    EXPECT_EQ(l->height, 600);
    EXPECT_FALSE(l->adjusted);
    ASSERT_EQ(l->monitors.size(), 1u);
    EXPECT_EQ(l->monitors[0], (Monitor{0, 0, 900, 600, 1.0, true}));
}

TEST(DispLayout, OddWidthRoundsDown) {
    const auto l = layout({mon(0, 0, 901, 601)});
    ASSERT_TRUE(l);
    EXPECT_EQ(l->width, 900);
    EXPECT_EQ(l->height, 601);
    EXPECT_TRUE(l->adjusted);
}

TEST(DispLayout, SmallIsClamped) {
    const auto l = layout({mon(0, 0, 100, 50)});
    ASSERT_TRUE(l);
    EXPECT_EQ(l->width, 320);
    EXPECT_EQ(l->height, 200);
    EXPECT_TRUE(l->adjusted);
}

TEST(DispLayout, AbsurdIsIgnored) {
    EXPECT_FALSE(layout({}));
    EXPECT_FALSE(layout({mon(0, 0, 0, 600)}));
    EXPECT_FALSE(layout({mon(0, 0, 800, 0)}));
    EXPECT_FALSE(layout({mon(0, 0, 8194, 600)}));
    EXPECT_FALSE(layout({mon(0, 0, 800, 100000)}));
    EXPECT_FALSE(layout({mon(0, 0, 800, 0xffffffffu)}));
    // Each monitor fits; together they are wider than any desktop.
    EXPECT_FALSE(layout({mon(0, 0, 8000, 1000), mon(8000, 0, 8000, 1000)}));
}

TEST(DispLayout, MonitorsKeepTheirArrangement) {
    // Two side by side, the second starting left of the origin.
    const auto l = layout({mon(0, 0, 1920, 1080, true), mon(-1280, 100, 1280, 1024)});
    ASSERT_TRUE(l);
    EXPECT_EQ(l->width, 3200);
    EXPECT_EQ(l->height, 1124);
    ASSERT_EQ(l->monitors.size(), 2u);
    EXPECT_EQ(l->monitors[0], (Monitor{1280, 0, 1920, 1080, 1.0, true}));
    EXPECT_EQ(l->monitors[1], (Monitor{0, 100, 1280, 1024, 1.0, false}));
}

TEST(DispLayout, ScalePerMonitorWithinRange) {
    auto l = layout({mon(0, 0, 800, 600, false, 125), mon(800, 0, 800, 600, true, 150)});
    ASSERT_TRUE(l);
    EXPECT_EQ(l->monitors[0].scale, 1.25);
    EXPECT_EQ(l->monitors[1].scale, 1.5);
    // Out of MS-RDPEDISP's 100..500 range: no scale.
    l = layout({mon(0, 0, 800, 600, true, 50)});
    ASSERT_TRUE(l);
    EXPECT_EQ(l->monitors[0].scale, 1.0);
    l = layout({mon(0, 0, 800, 600, true, 501)});
    ASSERT_TRUE(l);
    EXPECT_EQ(l->monitors[0].scale, 1.0);
}

}  // namespace
}  // namespace deskpod
