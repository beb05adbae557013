// Process-wide metrics, rendered as Prometheus text at /metrics (prefix deskpod_).
// Plain atomics: both threads update them without locks.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace deskpod {

class Counter {
public:
    void add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<uint64_t> value_{0};
};

class Gauge {
public:
    void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
    void add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
    int64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<int64_t> value_{0};
};

// Fixed-bucket histogram of seconds.
class Histogram {
public:
    static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                                       0.05,   0.1,   0.2,   0.5,   1.0,  2.0};
    void observe(double seconds);
    // Observations in (kBounds[i-1], kBounds[i]]; not cumulative (render_prometheus() sums).
    uint64_t bucket(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
    uint64_t count() const { return count_.load(std::memory_order_relaxed); }
    double sum() const;

private:
    std::array<std::atomic<uint64_t>, kBounds.size()> buckets_{};
    std::atomic<uint64_t> count_{0};
    std::atomic<uint64_t> sum_nanos_{0};
};

struct Metrics {
    Gauge clients_connected;          // RDP + Guacamole viewers
    Counter clients_refused;          // over --max-clients
    Counter auth_failures;            // wrong credentials, any protocol
    Counter frames_captured;          // frames the compositor published
    Counter frames_coalesced;         // captures skipped because the pool was busy
    Counter frames_sent;              // frames delivered to clients (per client)
    Counter bytes_sent;               // payload bytes of frame updates
    Counter input_events;             // input events applied
    Counter input_dropped;            // input dropped because the queue was full
    Histogram encode_seconds;         // time to encode one frame for one client
    Gauge desktop_width;
    Gauge desktop_height;
    Gauge session_running;

    std::string render_prometheus() const;
};

Metrics& metrics();

}  // namespace deskpod
