// Process-wide metrics, rendered as Prometheus text at /metrics (prefix deskpod_).
// Plain atomics: both threads update them without locks. Per-protocol families carry a
// `protocol` label (rdp, guac, web); docs/observability.md lists every family.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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

// The `protocol` label: rdp (3389), guac (the guacd-compatible TCP endpoint, 4822) and web
// (the built-in web client's WebSocket tunnel on the HTTP port).
enum class Protocol : uint8_t { rdp = 0, guac = 1, web = 2 };
inline constexpr size_t kProtocolCount = 3;
std::string_view protocol_name(Protocol p);

// One metric per protocol: metrics().bytes_sent[Protocol::rdp].add(n).
template <typename T>
class PerProtocol {
  public:
    T& operator[](Protocol p) { return items_[size_t(p)]; }
    const T& operator[](Protocol p) const { return items_[size_t(p)]; }

  private:
    std::array<T, kProtocolCount> items_{};
};

// The `direction` label of clipboard transfers: to_client (desktop selection sent to a
// viewer) and from_client (a viewer's clipboard offered to the desktop).
enum class Direction : uint8_t { to_client = 0, from_client = 1 };

// The `reason` label of RDP connections refused at accept because too many handshakes are
// in progress: from the connection's own source address, or in all.
enum class HandshakeLimit : uint8_t { per_address = 0, total = 1 };

// The `phase` label of deskpod_rdp_connect_phase_seconds: the steps of one RDP connection
// from TCP accept to its first frame, each measured from the end of the one before.
enum class ConnectPhase : uint8_t {
    request,       // accept -> the client's X.224 connection request (client start-up, RTT)
    security,      // connection request -> logon: TLS and NLA, on the handshake thread
    handover,      // logon -> the network thread has taken the peer over
    capabilities,  // -> Demand Active about to be sent (MCS, channels, client info, licence)
    activation,    // Demand Active -> activated (Confirm Active, finalization PDUs)
    first_frame,   // activated -> first frame written (size settle, first encode)
    total,         // accept -> first frame written
};
inline constexpr size_t kConnectPhaseCount = 7;
std::string_view connect_phase_name(ConnectPhase p);

// A bounded queue's state, read at scrape time (no timers, no per-push cost).
struct QueueSample {
    std::string name;  // label value: to_bridge, to_compositor, frame_pool
    uint64_t depth = 0;
    uint64_t capacity = 0;
    uint64_t dropped = 0;  // pushes refused because the queue was full
};
using QueueSampler = std::function<std::vector<QueueSample>()>;

struct Metrics {
    PerProtocol<Gauge> clients_connected;   // viewers holding a seat now
    PerProtocol<Counter> sessions_started;  // viewers that got a seat (logged in and viewing)
    PerProtocol<Counter> clients_refused;   // over --max-clients
    PerProtocol<Counter> auth_failures;     // wrong credentials
    Counter frames_captured;                // frames the compositor published
    Counter frames_coalesced;               // captures merged because the pool was busy
    PerProtocol<Counter> frames_encoded;    // frame updates encoded (per client)
    PerProtocol<Counter> frames_sent;       // frame updates delivered (per client)
    PerProtocol<Counter> bytes_sent;        // payload bytes of frame updates
    PerProtocol<Histogram> encode_seconds;  // time to encode one frame for one client
    // From the capture of the oldest damage in a frame update to the update being written.
    PerProtocol<Histogram> capture_to_send_seconds;
    // Clipboard contents that crossed between a viewer and the desktop.
    std::array<PerProtocol<Counter>, 2> clipboard_transfers;  // [Direction]
    std::array<PerProtocol<Counter>, 2> clipboard_bytes;      // [Direction]
    Counter clipboard_refused;                                // larger than --clipboard-limit
    // Desktop clipboard contents replaced by a newer one before a slow viewer got them.
    Counter clipboard_coalesced;
    // Viewers disconnected because they stopped reading (their byte budget ran out).
    PerProtocol<Counter> viewers_stalled;
    Counter input_events;   // input events applied
    Counter input_dropped;  // input dropped because the queue was full
    // RDP connections between accept and the hand-over to the network thread (throttle
    // delay, TLS, NLA), and those refused at accept because too many were.
    Gauge rdp_handshakes;
    // Graphics pipeline tiles by what was sent for them, and the bytes each codec produced.
    Counter gfx_tiles_unchanged;  // the client had them: nothing sent
    // The same for RDP clients without the pipeline (surface bits and bitmaps).
    Counter rdp_tiles_unchanged;
    Counter gfx_solid_tiles;     // SolidFill
    Counter gfx_planar_tiles;    // encoded losslessly (planar)
    Counter gfx_remotefx_tiles;  // encoded lossily (RemoteFX), photographic content in motion
    Counter gfx_avc420_tiles;    // the same, as H.264 (AVC420) for clients that take it
    Counter gfx_refined_tiles;   // lossy tiles sent again losslessly once they stopped changing
    Counter gfx_planar_bytes;
    Counter gfx_remotefx_bytes;
    Counter gfx_avc420_bytes;
    // H.264 bitrate target changes: lowered (acknowledgements came late) and raised again.
    Counter gfx_h264_rate_down;
    Counter gfx_h264_rate_up;
    Counter gfx_surface_commands;  // surface command PDUs (one per planar tile or RemoteFX message)
    Counter gfx_solid_fills;       // SolidFill PDUs (each with the tiles of one colour)
    Counter gfx_surface_copies;    // SurfaceToSurface PDUs (scrolls)
    Counter gfx_cache_hits;        // CacheToSurface PDUs (a tile the client had cached)
    Gauge gfx_surfaces;            // graphics pipeline surfaces (one per monitor per client)
    std::array<Counter, 2> rdp_handshakes_refused;  // [HandshakeLimit]
    // Connect-to-first-frame of RDP connections, by phase.
    std::array<Histogram, kConnectPhaseCount> rdp_connect_phase_seconds;  // [ConnectPhase]
    Gauge desktop_width;
    Gauge desktop_height;
    Gauge session_running;

    Counter& clipboard(Direction d, Protocol p) { return clipboard_transfers[size_t(d)][p]; }

    // Installs (or, with an empty function, removes) the scrape-time queue sampler.
    void set_queue_sampler(QueueSampler sampler);

    std::string render_prometheus() const;

  private:
    mutable std::mutex sampler_mutex_;
    QueueSampler sampler_;
};

Metrics& metrics();

}  // namespace deskpod
