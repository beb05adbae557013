#include "shared/metrics.hpp"

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

std::string_view protocol_name(Protocol p) {
    switch (p) {
        case Protocol::rdp:
            return "rdp";
        case Protocol::guac:
            return "guac";
        case Protocol::web:
            return "web";
    }
    return "rdp";
}

std::string_view connect_phase_name(ConnectPhase p) {
    switch (p) {
        case ConnectPhase::request:
            return "request";
        case ConnectPhase::security:
            return "security";
        case ConnectPhase::handover:
            return "handover";
        case ConnectPhase::capabilities:
            return "capabilities";
        case ConnectPhase::activation:
            return "activation";
        case ConnectPhase::first_frame:
            return "first_frame";
        case ConnectPhase::total:
            return "total";
    }
    return "total";
}

void Metrics::set_queue_sampler(QueueSampler sampler) {
    std::lock_guard<std::mutex> lock(sampler_mutex_);
    sampler_ = std::move(sampler);
}

namespace {

constexpr Protocol kProtocols[] = {Protocol::rdp, Protocol::guac, Protocol::web};
constexpr std::pair<Direction, std::string_view> kDirections[] = {
    {Direction::to_client, "to_client"}, {Direction::from_client, "from_client"}};

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

template <typename T>
void per_protocol(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help, const PerProtocol<T>& m) {
    family(out, name, type, help);
    for (Protocol p : kProtocols) {
        fmt::format_to(std::back_inserter(out), "{}{{protocol=\"{}\"}} {}\n", name,
                       protocol_name(p), m[p].value());
    }
}

// One histogram series; `labels` is "" or `protocol="rdp",` (with the trailing comma).
void histogram_series(std::string& out, std::string_view name, std::string_view labels,
                      const Histogram& h) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < Histogram::kBounds.size(); ++i) {
        cumulative += h.bucket(i);
        fmt::format_to(std::back_inserter(out), "{}_bucket{{{}le=\"{}\"}} {}\n", name, labels,
                       Histogram::kBounds[i], cumulative);
    }
    // count_ is read after the buckets, so it covers at least what they showed.
    const uint64_t count = std::max(h.count(), cumulative);
    std::string braced;
    if (!labels.empty()) {
        braced = fmt::format("{{{}}}", labels.substr(0, labels.size() - 1));
    }
    fmt::format_to(std::back_inserter(out), "{}_bucket{{{}le=\"+Inf\"}} {}\n", name, labels, count);
    fmt::format_to(std::back_inserter(out), "{}_sum{} {}\n", name, braced, h.sum());
    fmt::format_to(std::back_inserter(out), "{}_count{} {}\n", name, braced, count);
}

void per_protocol_histogram(std::string& out, std::string_view name, std::string_view help,
                            const PerProtocol<Histogram>& m) {
    family(out, name, "histogram", help);
    for (Protocol p : kProtocols) {
        histogram_series(out, name, fmt::format("protocol=\"{}\",", protocol_name(p)), m[p]);
    }
}

void clipboard_family(std::string& out, std::string_view name, std::string_view help,
                      const std::array<PerProtocol<Counter>, 2>& m) {
    family(out, name, "counter", help);
    for (const auto& [direction, label] : kDirections) {
        for (Protocol p : kProtocols) {
            fmt::format_to(std::back_inserter(out), "{}{{protocol=\"{}\",direction=\"{}\"}} {}\n",
                           name, protocol_name(p), label, m[size_t(direction)][p].value());
        }
    }
}

}  // namespace

std::string Metrics::render_prometheus() const {
    std::string out;
    out.reserve(16384);
    family(out, "deskpod_build_info", "gauge", "Build information; the value is always 1.");
    fmt::format_to(std::back_inserter(out), "deskpod_build_info{{version=\"{}\"}} 1\n",
                   DESKPOD_VERSION);
    per_protocol(out, "deskpod_clients_connected", "gauge",
                 "Viewers connected now and holding a seat, by protocol.", clients_connected);
    per_protocol(out, "deskpod_sessions_total", "counter",
                 "Viewer sessions started (authenticated and given a seat), by protocol.",
                 sessions_started);
    per_protocol(out, "deskpod_clients_refused_total", "counter",
                 "Connections refused because of --max-clients, by protocol.", clients_refused);
    per_protocol(out, "deskpod_auth_failures_total", "counter",
                 "Logins refused for wrong credentials, by protocol.", auth_failures);
    counter(out, "deskpod_frames_captured_total", "Frames the compositor published.",
            frames_captured);
    counter(out, "deskpod_frames_coalesced_total",
            "Captures merged into a later frame because every buffer was busy.", frames_coalesced);
    per_protocol(out, "deskpod_frames_encoded_total", "counter",
                 "Frame updates encoded, counted once per client.", frames_encoded);
    per_protocol(out, "deskpod_frames_sent_total", "counter",
                 "Frame updates delivered, counted once per client.", frames_sent);
    per_protocol(out, "deskpod_bytes_sent_total", "counter",
                 "Payload bytes of frame updates sent to clients.", bytes_sent);
    per_protocol_histogram(out, "deskpod_encode_seconds",
                           "Time to encode one frame update for one client.", encode_seconds);
    per_protocol_histogram(out, "deskpod_capture_to_send_seconds",
                           "From the capture of the oldest damage in a frame update until the "
                           "update is written to the client.",
                           capture_to_send_seconds);
    clipboard_family(out, "deskpod_clipboard_transfers_total",
                     "Clipboard contents transferred between viewers and the desktop.",
                     clipboard_transfers);
    clipboard_family(out, "deskpod_clipboard_bytes_total",
                     "Bytes of clipboard contents transferred between viewers and the desktop.",
                     clipboard_bytes);
    counter(out, "deskpod_clipboard_refused_total",
            "Clipboard contents refused because they exceed --clipboard-limit.", clipboard_refused);
    counter(out, "deskpod_clipboard_coalesced_total",
            "Desktop clipboard contents replaced by a newer one before a slow viewer got them.",
            clipboard_coalesced);
    per_protocol(out, "deskpod_viewers_stalled_total", "counter",
                 "Viewers disconnected because they stopped reading, by protocol.",
                 viewers_stalled);
    counter(out, "deskpod_input_events_total", "Input events applied to the desktop.",
            input_events);
    counter(out, "deskpod_input_dropped_total", "Input events dropped because the queue was full.",
            input_dropped);
    family(out, "deskpod_rdp_gfx_tiles_total", "counter",
           "64x64 tiles of graphics pipeline frames: unchanged (the client had them, nothing "
           "sent), solid (SolidFill), cached (CacheToSurface), planar (encoded losslessly), "
           "remotefx (photographic content in motion, lossy), refined (a lossy tile sent again "
           "losslessly once it stopped changing; also counted as planar).");
    for (const auto& [label, c] :
         {std::pair<const char*, const Counter*>{"unchanged", &gfx_tiles_unchanged},
          std::pair<const char*, const Counter*>{"solid", &gfx_solid_tiles},
          std::pair<const char*, const Counter*>{"cached", &gfx_cache_hits},
          std::pair<const char*, const Counter*>{"planar", &gfx_planar_tiles},
          std::pair<const char*, const Counter*>{"remotefx", &gfx_remotefx_tiles},
          std::pair<const char*, const Counter*>{"avc420", &gfx_avc420_tiles},
          std::pair<const char*, const Counter*>{"refined", &gfx_refined_tiles}}) {
        fmt::format_to(std::back_inserter(out), "deskpod_rdp_gfx_tiles_total{{kind=\"{}\"}} {}\n",
                       label, c->value());
    }
    family(out, "deskpod_rdp_gfx_operations_total", "counter",
           "Graphics pipeline operations sent: solid_fill, surface_command (encoded pixels), "
           "surface_to_surface (a scroll copied by the client), cache_to_surface (a tile from the "
           "client's cache).");
    for (const auto& [label, c] :
         {std::pair<const char*, const Counter*>{"solid_fill", &gfx_solid_fills},
          std::pair<const char*, const Counter*>{"surface_command", &gfx_surface_commands},
          std::pair<const char*, const Counter*>{"surface_to_surface", &gfx_surface_copies},
          std::pair<const char*, const Counter*>{"cache_to_surface", &gfx_cache_hits}}) {
        fmt::format_to(std::back_inserter(out),
                       "deskpod_rdp_gfx_operations_total{{kind=\"{}\"}} {}\n", label, c->value());
    }
    family(out, "deskpod_rdp_gfx_bytes_total", "counter",
           "Encoded bytes of graphics pipeline surface commands, by codec.");
    for (const auto& [label, c] :
         {std::pair<const char*, const Counter*>{"planar", &gfx_planar_bytes},
          std::pair<const char*, const Counter*>{"remotefx", &gfx_remotefx_bytes},
          std::pair<const char*, const Counter*>{"avc420", &gfx_avc420_bytes}}) {
        fmt::format_to(std::back_inserter(out), "deskpod_rdp_gfx_bytes_total{{codec=\"{}\"}} {}\n",
                       label, c->value());
    }
    family(out, "deskpod_rdp_h264_rate_changes_total", "counter",
           "Changes of an RDP client's H.264 bitrate target: down (its frame acknowledgements "
           "came back late, a queue on the link), up (they came back on time again).");
    for (const auto& [label, c] :
         {std::pair<const char*, const Counter*>{"down", &gfx_h264_rate_down},
          std::pair<const char*, const Counter*>{"up", &gfx_h264_rate_up}}) {
        fmt::format_to(std::back_inserter(out),
                       "deskpod_rdp_h264_rate_changes_total{{direction=\"{}\"}} {}\n", label,
                       c->value());
    }
    counter(out, "deskpod_rdp_tiles_unchanged_total",
            "Damaged 64x64 tiles not sent to RDP clients without the graphics pipeline, because "
            "the client had their pixels already.",
            rdp_tiles_unchanged);
    gauge(out, "deskpod_rdp_gfx_surfaces",
          "Graphics pipeline surfaces the RDP clients have now (one per monitor per client).",
          gfx_surfaces);
    gauge(out, "deskpod_rdp_handshakes",
          "RDP connections in their TLS/NLA handshake now (including any throttle delay).",
          rdp_handshakes);
    family(out, "deskpod_rdp_handshakes_refused_total", "counter",
           "RDP connections closed at accept because too many handshakes were in progress, "
           "from their source address (per_address) or in all (total).");
    for (const auto& [limit, label] : {std::pair{HandshakeLimit::per_address, "per_address"},
                                       std::pair{HandshakeLimit::total, "total"}}) {
        fmt::format_to(std::back_inserter(out),
                       "deskpod_rdp_handshakes_refused_total{{reason=\"{}\"}} {}\n", label,
                       rdp_handshakes_refused[size_t(limit)].value());
    }
    family(out, "deskpod_rdp_connect_phase_seconds", "histogram",
           "Steps of an RDP connection from TCP accept to its first frame, by phase.");
    for (size_t i = 0; i < kConnectPhaseCount; ++i) {
        histogram_series(out, "deskpod_rdp_connect_phase_seconds",
                         fmt::format("phase=\"{}\",", connect_phase_name(ConnectPhase(i))),
                         rdp_connect_phase_seconds[i]);
    }
    gauge(out, "deskpod_desktop_width", "Desktop width in pixels.", desktop_width);
    gauge(out, "deskpod_desktop_height", "Desktop height in pixels.", desktop_height);
    gauge(out, "deskpod_session_running", "1 while the session command runs, else 0.",
          session_running);

    std::vector<QueueSample> queues;
    {
        std::lock_guard<std::mutex> lock(sampler_mutex_);
        if (sampler_)
            queues = sampler_();
    }
    if (!queues.empty()) {
        family(out, "deskpod_queue_depth", "gauge",
               "Entries waiting in a bounded queue at scrape time (frame_pool: buffers in use).");
        for (const auto& q : queues) {
            fmt::format_to(std::back_inserter(out), "deskpod_queue_depth{{queue=\"{}\"}} {}\n",
                           q.name, q.depth);
        }
        family(out, "deskpod_queue_capacity", "gauge", "Fixed bound of a queue.");
        for (const auto& q : queues) {
            fmt::format_to(std::back_inserter(out), "deskpod_queue_capacity{{queue=\"{}\"}} {}\n",
                           q.name, q.capacity);
        }
        family(out, "deskpod_queue_dropped_total", "counter",
               "Pushes refused because the queue was full.");
        for (const auto& q : queues) {
            fmt::format_to(std::back_inserter(out),
                           "deskpod_queue_dropped_total{{queue=\"{}\"}} {}\n", q.name, q.dropped);
        }
    }
    return out;
}

Metrics& metrics() {
    static Metrics instance;
    return instance;
}

}  // namespace deskpod
