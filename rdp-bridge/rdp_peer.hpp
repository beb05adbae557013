// One RDP client: its FreeRDP peer, driven from the io_context through the peer's event
// fds; its pending damage; its encoders; its input. Network thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "asio.hpp"
#include "desktop.hpp"
#include "log.hpp"
#include "rdp_input.hpp"

typedef struct rdp_freerdp_peer freerdp_peer;

namespace deskpod {

class RdpServer;
struct PeerState;

class RdpPeer final : public Viewer, public std::enable_shared_from_this<RdpPeer> {
public:
    // Takes ownership of `fd`, a connected TCP socket.
    RdpPeer(RdpServer& server, int id, int fd, std::string address);
    ~RdpPeer() override;
    RdpPeer(const RdpPeer&) = delete;
    RdpPeer& operator=(const RdpPeer&) = delete;

    // Starts the handshake, after `delay` when this address failed to authenticate recently.
    void start(std::chrono::milliseconds delay);
    // Ends the connection (politely when `graceful` and the session is established) and
    // removes the peer from the server.
    void close(bool graceful, const char* reason);

    int id() const { return id_; }
    bool has_session() const { return seated_; }
    // The first client's requested size was answered (or timed out).
    void desktop_size_settled();

    void on_damage(const Region& damage) override;
    void on_resize(int32_t width, int32_t height) override;
    void on_cursor(const CursorEvent& cursor) override;

    // ---- FreeRDP callbacks (static trampolines call these) ----
    bool handle_logon(const std::string& user, const std::string& password, bool nla);
    bool handle_post_connect();
    bool handle_activate();
    void handle_frame_ack(uint32_t frame_id);
    void handle_refresh(const std::vector<Rect>& areas);
    void handle_suppress_output(bool allow);
    RdpInput& input() { return input_; }

private:
    friend struct RdpPeerMouse;
    bool setup();
    void watch(size_t index);
    void watch_writable();
    void pump();
    void schedule_flush();
    void flush();
    bool send_surface_bits(const Region& damage);
    bool send_bitmaps(const Region& damage);
    void send_pointer();
    void invalidate_all();
    bool can_send() const;
    void auth_failed(const char* why);
    std::string host() const;

    RdpServer& server_;
    const int id_;
    const std::string address_;
    log::Logger log_;
    freerdp_peer* peer_ = nullptr;
    PeerState* state_ = nullptr;  // lives in the FreeRDP context (ContextNew/ContextFree)
    std::vector<std::unique_ptr<boost::asio::posix::stream_descriptor>> watchers_;
    std::unique_ptr<boost::asio::posix::stream_descriptor> socket_watch_;
    boost::asio::steady_timer delay_timer_;
    RdpInput input_;

    Region pending_;
    bool flush_posted_ = false;
    bool logged_on_ = false;
    bool seated_ = false;
    bool refused_ = false;
    bool activated_ = false;
    bool awaiting_size_ = false;
    bool output_suppressed_ = false;
    bool write_blocked_ = false;
    bool closed_ = false;
    bool handshake_started_ = false;
    bool acks_ = false;
    uint32_t last_frame_id_ = 0;
    uint32_t last_acked_id_ = 0;
};

}  // namespace deskpod
