// One RDP client: its FreeRDP peer, driven from the io_context through the peer's event
// fds; the pacing of its frames; the FrameSender they go out through; its input. Network
// thread only, except the security handshake (TLS, NLA), which runs on a thread of its own
// (see start()).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rdp-bridge/asio.hpp"
#include "rdp-bridge/desktop_mirror.hpp"
#include "rdp-bridge/frame_pacer.hpp"
#include "rdp-bridge/rdp/input.hpp"
#include "rdp-bridge/rdp/ntlm.hpp"
#include "shared/log.hpp"
#include "shared/metrics.hpp"
#include "shared/monitors.hpp"

typedef struct rdp_freerdp_peer freerdp_peer;

namespace deskpod {

class RdpServer;
class RdpCliprdr;
class RdpDisp;
struct DispMonitor;
struct PeerState;
struct KeyboardLayout;

// Where one RDP connection is in its life. The network thread alone reads and writes it (the
// handshake thread goes by PeerState::handshaking), and every change goes through
// RdpPeer::set_phase(), which logs it.
//
//   waiting -> handshaking [-> handshake_cut] -> handed_over [-> logged_on]
//   logged_on -> activating_awaiting_size -> awaiting_size -> active   (the first client
//                activating_awaiting_size -> activating    -> active    waits for its size)
//   logged_on -> activating -> active
//   handed_over, logged_on -> refused
//   close(): waiting, handshaking, handshake_cut -> aborting [-> closing] -> closed
//            any later phase -> closing -> closed
enum class PeerPhase {
    waiting,        // the throttle delays the handshake of a host that failed to log in lately
    handshaking,    // the handshake thread owns the FreeRDP peer (TLS, NLA)
    handshake_cut,  // the deadline shut the socket down; the thread has yet to notice
    handed_over,    // the network thread drives the peer; nobody is logged on yet (with TLS
                    // the credentials come with the client info, at post-connect)
    logged_on,      // authenticated (NLA at the hand-over, TLS at post-connect), no seat yet
    refused,        // wrong credentials or no seat: no session; activation tells the client
    activating_awaiting_size,  // seated; the client has yet to activate, the compositor to
                               // adopt the first client's size
    activating,                // seated, the size settled; the client has yet to activate
    awaiting_size,             // activated; no pixels until the compositor adopts the size
    active,
    aborting,  // close() ran before the hand-over: the handshake thread has yet to hand the
               // peer back, or the posted teardown to run; it still holds a handshake slot
    closing,   // close() ran: viewer, seat and input are released, the teardown is posted
    closed,    // torn down and removed from the server
};
const char* to_string(PeerPhase phase);

class RdpPeer final : public Viewer, public std::enable_shared_from_this<RdpPeer> {
  public:
    // Takes ownership of `fd`, a connected TCP socket.
    RdpPeer(RdpServer& server, int id, int fd, std::string address);
    ~RdpPeer() override;
    RdpPeer(const RdpPeer&) = delete;
    RdpPeer& operator=(const RdpPeer&) = delete;

    // Starts the handshake, after `delay` when this address failed to authenticate recently.
    // FreeRDP 2 runs TLS and NLA synchronously inside one CheckFileDescriptor call, so the
    // handshake runs on its own thread, which owns the FreeRDP peer exclusively until it
    // posts the peer back; a handshake that outlives kHandshakeTimeout has its socket shut
    // down.
    void start(std::chrono::milliseconds delay);
    // Ends the connection (politely when `graceful` and the session is established) and
    // removes the peer from the server. During the handshake it shuts the socket down and
    // finishes once the handshake thread has handed the peer back.
    void close(bool graceful, const char* reason);
    // Shuts the socket down and joins the handshake thread. For the server's destructor,
    // after the network thread has stopped: it may block until the thread notices.
    void join_handshake();

    int id() const { return id_; }
    // Holds one of the --max-clients seats.
    bool is_seated() const;
    // Holds a handshake slot: not yet handed to the network thread (waiting out the throttle
    // delay or handshaking), including when closed before the hand-over.
    bool in_handshake() const;
    // The first client's requested size was answered (or timed out).
    void desktop_size_settled();

    void on_damage(const Region& damage) override;
    void on_resize(int32_t width, int32_t height) override;
    void on_cursor(const CursorEvent& cursor) override;

    // ---- FreeRDP callbacks (static trampolines call these) ----
    // Handshake thread: only records what happened, for handshake_finished().
    void handle_logon(const std::string& user, bool nla);
    // NTLM asks for the client's key: checks its credentials and records the verdict. Returns
    // false to refuse the logon (an unknown user).
    bool handle_ntlm_authenticate(const NtlmAuthenticate& message, uint8_t* ntlmv2_key);
    void handle_capabilities();
    // Connect-to-first-frame timing: the network thread reached `phase` (capabilities,
    // activation) or wrote its first frame (first_frame, after `encode` of encoding).
    void note_phase(ConnectPhase phase);
    void note_first_frame(std::chrono::steady_clock::duration encode);
    bool handle_post_connect();
    bool handle_activate();
    void handle_frame_ack(uint32_t frame_id);
    void handle_refresh(const std::vector<Rect>& areas);
    void handle_suppress_output(bool allow);
    RdpInput& input() { return input_; }
    // A key from this client: the desktop's keymap becomes this client's layout first.
    void before_key();

  private:
    friend struct RdpPeerMouse;
    void set_phase(PeerPhase next);
    // close() has run.
    bool is_closing() const;
    // Activated and not closing: awaiting_size or active.
    bool is_activated() const;
    // Seated, and the compositor has yet to adopt the first client's size.
    bool waits_for_size() const;
    bool setup();
    // During the throttle delay: close when the client hangs up.
    void watch_hangup();
    void begin_handshake();
    void run_handshake();  // on the handshake thread
    void handshake_finished();
    void cut_handshake();
    bool watch_events();
    // Gives back what the connection holds (viewer, seat, clipboard client, input, fd watches)
    // and posts the teardown: close() without its check for a failed login.
    void release(bool graceful, const char* reason);
    // `polite`: end an activated session with a Deactivate All rather than just dropping it.
    void teardown(bool polite);
    void watch(size_t index);
    void watch_writable();
    void pump();
    void flush();
    // The desktop's cursor to the client; while the client is not reading, only the latest
    // one waits for the socket to drain.
    void send_pointer();
    void write_pointer();
    // After writing: if FreeRDP's output is now blocked, wait for the socket to drain.
    void check_write_blocked();
    void invalidate_all();
    void start_channels();
    void start_disp();
    // The graphics pipeline (rdp/gfx/pipeline.hpp), once drdynvc is ready, for clients that
    // announced it; gfx_ready() when it confirmed its capabilities.
    void start_gfx();
    void gfx_ready();
    void gfx_reset();
    void handle_layout(const std::vector<DispMonitor>& monitors);
    bool can_send() const;
    void auth_failed(const char* why);
    // After a handshake that did not log on: whether it was a wrong user or password, and what
    // happened, for the log.
    bool failed_handshake_is_wrong_credentials() const;
    std::string failed_handshake_reason() const;
    std::string host() const;

    RdpServer& server_;
    const int id_;
    const int fd_;  // the socket, owned by FreeRDP; kept to shut it down from this thread
    const std::string address_;
    log::Logger log_;
    freerdp_peer* peer_ = nullptr;
    PeerState* state_ = nullptr;  // lives in the FreeRDP context (ContextNew/ContextFree)
    std::vector<std::unique_ptr<boost::asio::posix::stream_descriptor>> watchers_;
    std::unique_ptr<boost::asio::posix::stream_descriptor> socket_watch_;
    boost::asio::steady_timer delay_timer_;
    // While the throttle delay runs: an epoll set that becomes readable when the client hangs
    // up, so a client that left frees its handshake slot at once (watch_hangup()).
    std::unique_ptr<boost::asio::posix::stream_descriptor> hangup_watch_;
    boost::asio::steady_timer handshake_deadline_;
    std::thread handshake_thread_;
    RdpInput input_;
    std::unique_ptr<RdpCliprdr> cliprdr_;  // null until activation, or without the channel
    std::unique_ptr<RdpDisp> disp_;        // Display Control, once drdynvc is ready
    // Display Control was tried, once drdynvc was ready. The channel's state, not the
    // connection's: drdynvc comes up at the client's pace, in either active phase.
    bool disp_tried_ = false;
    bool gfx_tried_ = false;
    const KeyboardLayout* keyboard_layout_ = nullptr;  // from the client's KeyboardLayout id

    // Written by the handshake thread, read by the network thread after the hand-over
    // (thread join, and the asio::post before it, order the accesses).
    struct HandshakeResult {
        bool logon = false;      // FreeRDP called Logon: the security layer is up
        bool ok = false;         // ... and the call that got there succeeded
        bool data_seen = false;  // the client sent something (a port probe sends nothing)
        bool nla = false;        // Logon reported NLA credentials
        std::string user;
        // What NTLM's check of the client's credentials found (ComputeNtlmHash callback).
        NtlmVerdict credentials = NtlmVerdict::not_checked;
        std::string user_tried;                              // the user name the client gave, UTF-8
        std::chrono::steady_clock::time_point request_at{};  // first bytes from the client
        std::chrono::steady_clock::time_point logon_at{};    // TLS and NLA done
    } handshake_;

    // When each step of the connection ended, for deskpod_rdp_connect_phase_seconds and the
    // "first frame" log line (network thread; request and logon come from handshake_).
    struct ConnectTimes {
        std::chrono::steady_clock::time_point accepted, handed_over, capabilities, activated;
        bool first_frame_sent = false;
    } connect_;

    // Frames in flight are those the sender has the client acknowledge.
    FramePacer pacer_;
    // Frames are numbered 1, 2, ...; the wire carries the low 32 bits of the number.
    uint64_t last_frame_id_ = 0;
    PeerPhase phase_ = PeerPhase::waiting;  // network thread only
    // The size the client asked for in its core data, before the Demand Active replaced it,
    // and its monitors (client monitor data, or one monitor) with their desktop scale.
    int32_t requested_width_ = 0;
    int32_t requested_height_ = 0;
    MonitorLayout requested_layout_;
    // Not phases: each changes on the client's or the socket's say, whatever the phase and
    // independently of the other.
    bool output_suppressed_ = false;  // the client's window is minimised (Suppress Output)
    bool write_blocked_ = false;      // FreeRDP's output buffer is full until the socket drains
    bool pointer_pending_ = false;    // a cursor change waits for the drain
};

}  // namespace deskpod
