#include "metrics.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

namespace deskpod {

// buckets_[i] counts observations in (kBounds[i-1], kBounds[i]], not cumulatively: one atomic
// increment per observation, and render_prometheus() sums them, so a scrape never sees a
// bucket larger than the next one even while observations race with it.
void Histogram::observe(double seconds) {
    if (std::isnan(seconds))
        return;
    if (seconds < 0)
        seconds = 0;
    for (size_t i = 0; i < kBounds.size(); ++i) {
        if (seconds <= kBounds[i]) {
            buckets_[i].fetch_add(1, std::memory_order_relaxed);
            break;
        }
    }
    // Clamped so a pathological value cannot overflow the nanosecond sum.
    const double nanos = std::min(seconds * 1e9, 1e15);
    sum_nanos_.fetch_add(uint64_t(std::llround(nanos)), std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
}

double Histogram::sum() const {
    return double(sum_nanos_.load(std::memory_order_relaxed)) / 1e9;
}

namespace {

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void counter(std::string& out, std::string_view name, std::string_view help, const Counter& c) {
    family(out, name, "counter", help);
    fmt::format_to(std::back_inserter(out), "{} {}\n", name, c.value());
}

void gauge(std::string& out, std::string_view name, std::string_view help, const Gauge& g) {
    family(out, name, "gauge", help);
    fmt::format_to(std::back_inserter(out), "{} {}\n", name, g.value());
}

void histogram(std::string& out, std::string_view name, std::string_view help, const Histogram& h) {
    family(out, name, "histogram", help);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < Histogram::kBounds.size(); ++i) {
        cumulative += h.bucket(i);
        fmt::format_to(std::back_inserter(out), "{}_bucket{{le=\"{}\"}} {}\n", name,
                       Histogram::kBounds[i], cumulative);
    }
    // count_ is read after the buckets, so it covers at least what they showed.
    const uint64_t count = std::max(h.count(), cumulative);
    fmt::format_to(std::back_inserter(out), "{}_bucket{{le=\"+Inf\"}} {}\n", name, count);
    fmt::format_to(std::back_inserter(out), "{}_sum {}\n", name, h.sum());
    fmt::format_to(std::back_inserter(out), "{}_count {}\n", name, count);
}

}  // namespace

std::string Metrics::render_prometheus() const {
    std::string out;
    out.reserve(4096);
    family(out, "deskpod_build_info", "gauge", "Build information; the value is always 1.");
    fmt::format_to(std::back_inserter(out), "deskpod_build_info{{version=\"{}\"}} 1\n",
                   DESKPOD_VERSION);
    gauge(out, "deskpod_clients_connected", "Viewers connected now (RDP and Guacamole).",
          clients_connected);
    counter(out, "deskpod_clients_refused_total", "Connections refused because of --max-clients.",
            clients_refused);
    counter(out, "deskpod_auth_failures_total", "Logins refused for wrong credentials.",
            auth_failures);
    counter(out, "deskpod_frames_captured_total", "Frames the compositor published.",
            frames_captured);
    counter(out, "deskpod_frames_coalesced_total",
            "Captures merged into a later frame because every buffer was busy.", frames_coalesced);
    counter(out, "deskpod_frames_sent_total", "Frames delivered, counted once per client.",
            frames_sent);
    counter(out, "deskpod_bytes_sent_total", "Payload bytes of frame updates sent to clients.",
            bytes_sent);
    counter(out, "deskpod_input_events_total", "Input events applied to the desktop.",
            input_events);
    counter(out, "deskpod_input_dropped_total", "Input events dropped because the queue was full.",
            input_dropped);
    histogram(out, "deskpod_encode_seconds", "Time to encode one frame for one client.",
              encode_seconds);
    gauge(out, "deskpod_desktop_width", "Desktop width in pixels.", desktop_width);
    gauge(out, "deskpod_desktop_height", "Desktop height in pixels.", desktop_height);
    gauge(out, "deskpod_session_running", "1 while the session command runs, else 0.",
          session_running);
    return out;
}

Metrics& metrics() {
    static Metrics instance;
    return instance;
}

}  // namespace deskpod
