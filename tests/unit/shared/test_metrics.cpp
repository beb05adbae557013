// Prometheus text exposition (format 0.0.4) of the metrics registry.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "shared/metrics.hpp"

namespace deskpod {
namespace {

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

std::vector<std::string> lines_starting_with(const std::string& text, const std::string& prefix) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(prefix, 0) == 0)
            out.push_back(line);
    }
    return out;
}

TEST(Metrics, EveryFamilyHasHelpAndType) {
    const std::string text = metrics().render_prometheus();
    const std::vector<std::pair<std::string, std::string>> families = {
        {"deskpod_build_info", "gauge"},
        {"deskpod_clients_connected", "gauge"},
        {"deskpod_sessions_total", "counter"},
        {"deskpod_clients_refused_total", "counter"},
        {"deskpod_auth_failures_total", "counter"},
        {"deskpod_frames_captured_total", "counter"},
        {"deskpod_frames_coalesced_total", "counter"},
        {"deskpod_frames_encoded_total", "counter"},
        {"deskpod_frames_sent_total", "counter"},
        {"deskpod_bytes_sent_total", "counter"},
        {"deskpod_encode_seconds", "histogram"},
        {"deskpod_capture_to_send_seconds", "histogram"},
        {"deskpod_clipboard_transfers_total", "counter"},
        {"deskpod_clipboard_bytes_total", "counter"},
        {"deskpod_clipboard_refused_total", "counter"},
        {"deskpod_clipboard_coalesced_total", "counter"},
        {"deskpod_viewers_stalled_total", "counter"},
        {"deskpod_input_events_total", "counter"},
        {"deskpod_input_dropped_total", "counter"},
        {"deskpod_rdp_gfx_tiles_total", "counter"},
        {"deskpod_rdp_gfx_operations_total", "counter"},
        {"deskpod_rdp_gfx_bytes_total", "counter"},
        {"deskpod_rdp_h264_rate_changes_total", "counter"},
        {"deskpod_rdp_tiles_unchanged_total", "counter"},
        {"deskpod_rdp_gfx_surfaces", "gauge"},
        {"deskpod_rdp_handshakes", "gauge"},
        {"deskpod_rdp_handshakes_refused_total", "counter"},
        {"deskpod_rdp_connect_phase_seconds", "histogram"},
        {"deskpod_desktop_width", "gauge"},
        {"deskpod_desktop_height", "gauge"},
        {"deskpod_session_running", "gauge"},
    };
    for (const auto& [name, type] : families) {
        EXPECT_TRUE(contains(text, "# HELP " + name + " ")) << name;
        EXPECT_TRUE(contains(text, "# TYPE " + name + " " + type + "\n")) << name;
    }
    EXPECT_EQ(lines_starting_with(text, "# TYPE ").size(), families.size());
    EXPECT_TRUE(contains(text, "deskpod_build_info{version=\"" DESKPOD_VERSION "\"} 1\n"));
    EXPECT_EQ(text.back(), '\n');
    // Every sample line is "name[{labels}] value" with the deskpod_ prefix.
    for (const auto& line : lines_starting_with(text, "")) {
        if (line.empty() || line[0] == '#')
            continue;
        EXPECT_EQ(line.rfind("deskpod_", 0), 0u) << line;
        EXPECT_EQ(std::count(line.begin(), line.end(), ' '), 1) << line;
    }
}

TEST(Metrics, CountersAndGaugesShowTheirValues) {
    Metrics m;
    m.clients_refused[Protocol::rdp].add(3);
    m.bytes_sent[Protocol::rdp].add(1000);
    m.bytes_sent[Protocol::rdp].add(24);
    m.bytes_sent[Protocol::web].add(7);
    m.clients_connected[Protocol::guac].set(2);
    m.clients_connected[Protocol::guac].add(-1);
    m.clipboard(Direction::from_client, Protocol::rdp).add(2);
    m.desktop_width.set(1280);
    const std::string text = m.render_prometheus();
    EXPECT_TRUE(contains(text, "\ndeskpod_clients_refused_total{protocol=\"rdp\"} 3\n"));
    EXPECT_TRUE(contains(text, "\ndeskpod_bytes_sent_total{protocol=\"rdp\"} 1024\n"));
    EXPECT_TRUE(contains(text, "\ndeskpod_bytes_sent_total{protocol=\"web\"} 7\n"));
    EXPECT_TRUE(contains(text, "\ndeskpod_bytes_sent_total{protocol=\"guac\"} 0\n"));
    EXPECT_TRUE(contains(text, "\ndeskpod_clients_connected{protocol=\"guac\"} 1\n"));
    EXPECT_TRUE(contains(text, "\ndeskpod_clients_connected{protocol=\"rdp\"} 0\n"));
    EXPECT_TRUE(contains(
        text,
        "\ndeskpod_clipboard_transfers_total{protocol=\"rdp\",direction=\"from_client\"} 2\n"));
    EXPECT_TRUE(contains(text, "\ndeskpod_desktop_width 1280\n"));
    EXPECT_TRUE(contains(text, "\ndeskpod_input_dropped_total 0\n"));
}

TEST(Metrics, HandshakeRefusalsCarryTheirReason) {
    Metrics m;
    m.rdp_handshakes_refused[size_t(HandshakeLimit::per_address)].add(5);
    m.rdp_handshakes_refused[size_t(HandshakeLimit::total)].add(2);
    const std::string text = m.render_prometheus();
    EXPECT_TRUE(
        contains(text, "\ndeskpod_rdp_handshakes_refused_total{reason=\"per_address\"} 5\n"));
    EXPECT_TRUE(contains(text, "\ndeskpod_rdp_handshakes_refused_total{reason=\"total\"} 2\n"));
}

TEST(Metrics, HistogramBucketsAreCumulative) {
    Metrics m;
    // 0.0005 lands in le="0.0005" (bounds are inclusive), 0.003 in le="0.005", 0.3 in
    // le="0.5", 5 only in +Inf; a negative duration counts as 0.
    for (double s : {0.0005, 0.003, 0.003, 0.3, 5.0, -1.0})
        m.encode_seconds[Protocol::rdp].observe(s);
    EXPECT_EQ(m.encode_seconds[Protocol::rdp].count(), 6u);
    EXPECT_NEAR(m.encode_seconds[Protocol::rdp].sum(), 0.0005 + 0.003 + 0.003 + 0.3 + 5.0, 1e-6);

    const std::string text = m.render_prometheus();
    const auto buckets =
        lines_starting_with(text, "deskpod_encode_seconds_bucket{protocol=\"rdp\",");
    const std::vector<std::string> expected = {
        "deskpod_encode_seconds_bucket{protocol=\"rdp\",le=\"0.0005\"} 2",
        "deskpod_encode_seconds_bucket{protocol=\"rdp\",le=\"0.001\"} 2",
        "deskpod_encode_seconds_bucket{protocol=\"rdp\",le=\"0.002\"} 2",
        "deskpod_encode_seconds_bucket{protocol=\"rdp\",le=\"0.005\"} 4",
        "deskpod_encode_seconds_bucket{protocol=\"rdp\",le=\"0.01\"} 4",
        "deskpod_encode_seconds_bucket{protocol=\"rdp\",le=\"0.02\"} 4",
        "deskpod_encode_seconds_bucket{protocol=\"rdp\",le=\"0.05\"} 4",
        "deskpod_encode_seconds_bucket{protocol=\"rdp\",le=\"0.1\"} 4",
        "deskpod_encode_seconds_bucket{protocol=\"rdp\",le=\"0.2\"} 4",
        "deskpod_encode_seconds_bucket{protocol=\"rdp\",le=\"0.5\"} 5",
        "deskpod_encode_seconds_bucket{protocol=\"rdp\",le=\"1\"} 5",
        "deskpod_encode_seconds_bucket{protocol=\"rdp\",le=\"2\"} 5",
        "deskpod_encode_seconds_bucket{protocol=\"rdp\",le=\"+Inf\"} 6",
    };
    EXPECT_EQ(buckets, expected);
    EXPECT_TRUE(contains(text, "\ndeskpod_encode_seconds_count{protocol=\"rdp\"} 6\n"));
    EXPECT_TRUE(contains(text, "\ndeskpod_encode_seconds_count{protocol=\"guac\"} 0\n"));
    const auto sum = lines_starting_with(text, "deskpod_encode_seconds_sum{protocol=\"rdp\"} ");
    ASSERT_EQ(sum.size(), 1u);
    EXPECT_NEAR(std::stod(sum[0].substr(sum[0].find(' ') + 1)), 5.3065, 1e-6);
}

TEST(Metrics, EmptyHistogramRendersZeros) {
    Metrics m;
    const std::string text = m.render_prometheus();
    EXPECT_TRUE(contains(text, "deskpod_encode_seconds_bucket{protocol=\"rdp\",le=\"+Inf\"} 0\n"));
    EXPECT_TRUE(contains(text, "deskpod_encode_seconds_sum{protocol=\"rdp\"} 0\n"));
    EXPECT_TRUE(contains(text, "deskpod_capture_to_send_seconds_count{protocol=\"web\"} 0\n"));
    // No queue sampler installed: no queue families.
    EXPECT_FALSE(contains(text, "deskpod_queue_depth"));
}

TEST(Metrics, QueueSamplerIsReadAtScrapeTime) {
    Metrics m;
    uint64_t depth = 3;
    m.set_queue_sampler([&depth] {
        return std::vector<QueueSample>{{"to_bridge", depth, 64, 1}, {"frame_pool", 2, 4, 0}};
    });
    std::string text = m.render_prometheus();
    EXPECT_TRUE(contains(text, "# TYPE deskpod_queue_depth gauge\n"));
    EXPECT_TRUE(contains(text, "\ndeskpod_queue_depth{queue=\"to_bridge\"} 3\n"));
    EXPECT_TRUE(contains(text, "\ndeskpod_queue_capacity{queue=\"frame_pool\"} 4\n"));
    EXPECT_TRUE(contains(text, "\ndeskpod_queue_dropped_total{queue=\"to_bridge\"} 1\n"));
    depth = 9;
    text = m.render_prometheus();
    EXPECT_TRUE(contains(text, "\ndeskpod_queue_depth{queue=\"to_bridge\"} 9\n"));
    m.set_queue_sampler({});
    EXPECT_FALSE(contains(m.render_prometheus(), "deskpod_queue_depth"));
}

TEST(Metrics, IsOneProcessWideInstance) {
    EXPECT_EQ(&metrics(), &metrics());
    const uint64_t before = metrics().input_events.value();
    metrics().input_events.add();
    EXPECT_EQ(metrics().input_events.value(), before + 1);
}

}  // namespace
}  // namespace deskpod
