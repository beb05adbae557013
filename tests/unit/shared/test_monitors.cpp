#include <gtest/gtest.h>

#include <climits>

#include "shared/monitors.hpp"

namespace deskpod {
namespace {

NormalizedLayout ok(MonitorLayout layout) {
    std::string error;
    auto out = normalize_layout(std::move(layout), &error);
    EXPECT_TRUE(out) << error;
    return out ? *out : NormalizedLayout{};
}

std::string refused(MonitorLayout layout) {
    std::string error;
    auto out = normalize_layout(std::move(layout), &error);
    EXPECT_FALSE(out);
    return error;
}

TEST(Monitors, ShiftsToTheOriginAndKeepsTheArrangement) {
    // A client whose secondary monitor is left of and above its primary.
    const NormalizedLayout n =
        ok({Monitor{0, 0, 1920, 1080, 1.0, true}, Monitor{-1280, -200, 1280, 1024, 1.0, false}});
    EXPECT_EQ(n.width, 3200);
    EXPECT_EQ(n.height, 1280);
    EXPECT_EQ(n.monitors[0], (Monitor{1280, 200, 1920, 1080, 1.0, true}));
    EXPECT_EQ(n.monitors[1], (Monitor{0, 0, 1280, 1024, 1.0, false}));
    EXPECT_FALSE(n.adjusted);
}

TEST(Monitors, FarOutMonitorIsShiftedWithoutOverflow) {
    // Its right edge is beyond INT32_MAX; only the shifted layout matters.
    const NormalizedLayout n = ok({Monitor{INT32_MAX - 100, -5, 800, 600}});
    EXPECT_EQ(n.monitors[0], (Monitor{0, 0, 800, 600, 1.0, true}));
}

TEST(Monitors, ExactlyOnePrimary) {
    NormalizedLayout n = ok({Monitor{0, 0, 800, 600}, Monitor{800, 0, 800, 600}});
    EXPECT_TRUE(n.monitors[0].primary);
    EXPECT_FALSE(n.monitors[1].primary);
    n = ok({Monitor{0, 0, 800, 600, 1.0, true}, Monitor{800, 0, 800, 600, 1.0, true}});
    EXPECT_TRUE(n.monitors[0].primary);
    EXPECT_FALSE(n.monitors[1].primary);
}

TEST(Monitors, ClampsRoundsAndDropsMirrors) {
    NormalizedLayout n = ok({Monitor{0, 0, 1023, 100, 7.5, true}});
    EXPECT_EQ(n.monitors[0].width, 1022);  // even widths (MS-RDPEDISP)
    EXPECT_EQ(n.monitors[0].height, MonitorLimits::kMinHeight);
    EXPECT_EQ(n.monitors[0].scale, MonitorLimits::kMaxScale);
    EXPECT_TRUE(n.adjusted);
    // A cloned monitor (same rectangle) is one output.
    n = ok({Monitor{0, 0, 800, 600}, Monitor{0, 0, 800, 600, 1.0, true}});
    ASSERT_EQ(n.monitors.size(), 1u);
    EXPECT_TRUE(n.monitors[0].primary);
}

TEST(Monitors, RefusesWhatCannotBeADesktop) {
    EXPECT_EQ(refused({}), "no monitors");
    EXPECT_NE(refused({Monitor{0, 0, 0, 600}}).find("0x600"), std::string::npos);
    EXPECT_NE(refused({Monitor{0, 0, 9000, 600}}).find("9000x600"), std::string::npos);
    EXPECT_NE(refused({Monitor{0, 0, 800, 600}, Monitor{400, 300, 800, 600}}).find("overlap"),
              std::string::npos);
    // Each monitor is fine, the bounding box is not.
    EXPECT_NE(refused({Monitor{0, 0, 8000, 600}, Monitor{8000, 0, 800, 600}}).find("8800x600"),
              std::string::npos);
    // Far apart: the span does not even fit in 32 bits.
    EXPECT_NE(refused({Monitor{INT32_MIN, 0, 800, 600}, Monitor{INT32_MAX - 800, 0, 800, 600}})
                  .find("desktop of"),
              std::string::npos);
    MonitorLayout many;
    for (int i = 0; i < 17; ++i)
        many.push_back(Monitor{i * 400, 0, 400, 300});
    EXPECT_NE(refused(many).find("17 monitors"), std::string::npos);
}

TEST(Monitors, LayoutPositionsWithOneScale) {
    const MonitorLayout layout{Monitor{0, 0, 1920, 1080, 2.0, true},
                               Monitor{1920, 0, 1920, 1080, 2.0, false}};
    const auto pos = layout_positions(layout);
    EXPECT_EQ(pos[0].x, 0);
    EXPECT_EQ(pos[1].x, 960);
    EXPECT_EQ(pos[1].y, 0);
}

TEST(Monitors, LayoutPositionsWithMixedScalesTouch) {
    // A 2x laptop panel left of a 1x monitor, and a 1x monitor below the laptop.
    const MonitorLayout layout{Monitor{0, 0, 2560, 1600, 2.0, true},
                               Monitor{2560, 0, 1920, 1080, 1.0, false},
                               Monitor{0, 1600, 1280, 1024, 1.0, false}};
    const auto pos = layout_positions(layout);
    EXPECT_EQ(pos[0].x, 0);
    EXPECT_EQ(pos[0].y, 0);
    EXPECT_EQ(pos[1].x, 1280);  // right where the panel's 1280 layout units end
    EXPECT_EQ(pos[1].y, 0);
    EXPECT_EQ(pos[2].x, 0);
    EXPECT_EQ(pos[2].y, 800);  // right below the panel's 800 layout units
}

TEST(Monitors, DescribeMarksThePrimaryAndScales) {
    EXPECT_EQ(describe_layout(
                  {Monitor{0, 0, 800, 600, 1.0, true}, Monitor{800, 0, 640, 480, 1.5, false}}),
              "*800x600+0+0,640x480+800+0@1.5");
}

}  // namespace
}  // namespace deskpod
