// The peer's lifecycle: construction, the pump that drives FreeRDP from the io_context once
// the handshake has handed the peer over, and close and teardown.
#include "rdp-bridge/rdp/peer.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include "rdp-bridge/clipboard/broker.hpp"
#include "rdp-bridge/rdp/cliprdr.hpp"
#include "rdp-bridge/rdp/disp.hpp"
#include "rdp-bridge/rdp/peer_context.hpp"
#include "rdp-bridge/rdp/server.hpp"

namespace deskpod {

namespace asio = boost::asio;

const char* to_string(PeerPhase phase) {
    switch (phase) {
        case PeerPhase::waiting:
            return "waiting";
        case PeerPhase::handshaking:
            return "handshaking";
        case PeerPhase::handshake_cut:
            return "handshake_cut";
        case PeerPhase::handed_over:
            return "handed_over";
        case PeerPhase::logged_on:
            return "logged_on";
        case PeerPhase::refused:
            return "refused";
        case PeerPhase::activating_awaiting_size:
            return "activating_awaiting_size";
        case PeerPhase::activating:
            return "activating";
        case PeerPhase::awaiting_size:
            return "awaiting_size";
        case PeerPhase::active:
            return "active";
        case PeerPhase::aborting:
            return "aborting";
        case PeerPhase::closing:
            return "closing";
        case PeerPhase::closed:
            return "closed";
    }
    return "unknown";
}

RdpPeer::RdpPeer(RdpServer& server, int id, int fd, std::string address)
    : server_(server),
      id_(id),
      fd_(fd),
      address_(std::move(address)),
      log_("rdp", "rdp#" + std::to_string(id)),
      delay_timer_(server.io()),
      handshake_deadline_(server.io()),
      input_(server.channels().to_compositor),
      pacer_(server.io(), kMaxFramesInFlight, [this] { flush(); }) {
    connect_.accepted = std::chrono::steady_clock::now();
    peer_ = freerdp_peer_new(fd);
    if (!peer_) {
        ::close(fd);
        throw std::runtime_error("freerdp_peer_new failed");
    }
}

RdpPeer::~RdpPeer() {
    join_handshake();
    watchers_.clear();
    socket_watch_.reset();
    if (peer_) {
        if (peer_->context)
            freerdp_peer_context_free(peer_);
        freerdp_peer_free(peer_);
    }
}

void RdpPeer::set_phase(PeerPhase next) {
    if (next == phase_)
        return;
    log_.debug("phase {} -> {}", to_string(phase_), to_string(next));
    phase_ = next;
}

bool RdpPeer::is_seated() const {
    switch (phase_) {
        case PeerPhase::activating_awaiting_size:
        case PeerPhase::activating:
        case PeerPhase::awaiting_size:
        case PeerPhase::active:
            return true;
        default:
            return false;
    }
}

bool RdpPeer::in_handshake() const {
    switch (phase_) {
        case PeerPhase::waiting:
        case PeerPhase::handshaking:
        case PeerPhase::handshake_cut:
        case PeerPhase::aborting:
            return true;
        default:
            return false;
    }
}

bool RdpPeer::is_closing() const {
    return phase_ == PeerPhase::aborting || phase_ == PeerPhase::closing ||
           phase_ == PeerPhase::closed;
}

bool RdpPeer::is_activated() const {
    return phase_ == PeerPhase::awaiting_size || phase_ == PeerPhase::active;
}

bool RdpPeer::waits_for_size() const {
    return phase_ == PeerPhase::activating_awaiting_size || phase_ == PeerPhase::awaiting_size;
}

void RdpPeer::start(std::chrono::milliseconds delay) {
    log_.info("connection from {}", address_);
    if (delay.count() == 0) {
        begin_handshake();
        return;
    }
    log_.warn("{} failed to authenticate recently; handshake delayed {} ms", address_,
              delay.count());
    delay_timer_.expires_after(delay);
    delay_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec || self->is_closing())
            return;
        self->hangup_watch_.reset();  // FreeRDP reads the socket from now on
        self->begin_handshake();
    });
    watch_hangup();
}

void RdpPeer::watch_hangup() {
    // The client may send its connection request and then go: readability cannot tell that
    // (the request stays unread until the delay ends), but EPOLLRDHUP does. A level-triggered
    // epoll set holding only that event is itself readable exactly then.
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return;  // the slot is then held until the delay ends, as it always was
    epoll_event ev{};
    ev.events = EPOLLRDHUP;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd_, &ev) != 0) {
        ::close(ep);
        return;
    }
    hangup_watch_ = std::make_unique<asio::posix::stream_descriptor>(server_.io(), ep);
    hangup_watch_->async_wait(asio::posix::stream_descriptor::wait_read,
                              [self = shared_from_this()](const boost::system::error_code& ec) {
                                  if (ec || self->phase_ != PeerPhase::waiting)
                                      return;
                                  self->close(false,
                                              "closed by the client while its handshake "
                                              "was delayed");
                              });
}

bool RdpPeer::watch_events() {
    HANDLE handles[32];
    DWORD count = peer_->GetEventHandles(peer_, handles, 31);
    if (count == 0)
        return false;
    handles[count++] = WTSVirtualChannelManagerGetEventHandle(state_->vcm);
    for (DWORD i = 0; i < count; ++i) {
        const int fd = GetEventFileDescriptor(handles[i]);
        if (fd < 0)
            continue;
        // asio closes what it wraps; FreeRDP keeps its own fd.
        const int copy = dup(fd);
        if (copy < 0)
            return false;
        watchers_.push_back(std::make_unique<asio::posix::stream_descriptor>(server_.io(), copy));
    }
    for (size_t i = 0; i < watchers_.size(); ++i)
        watch(i);
    return true;
}

void RdpPeer::watch(size_t index) {
    watchers_[index]->async_wait(
        asio::posix::stream_descriptor::wait_read,
        [self = shared_from_this(), index](const boost::system::error_code& ec) {
            if (ec || self->is_closing())
                return;
            self->pump();
            if (!self->is_closing())
                self->watch(index);
        });
}

void RdpPeer::pump() {
    clear_tls_errors();
    if (!peer_->CheckFileDescriptor(peer_)) {
        close(false, "connection closed by the client or failed");
        return;
    }
    if (is_closing())
        return;
    if (!WTSVirtualChannelManagerCheckFileDescriptor(state_->vcm)) {
        close(false, "virtual channel failure");
        return;
    }
    if (cliprdr_)
        cliprdr_->pump();
    if (is_closing())
        return;
    if ((!disp_tried_ || !gfx_tried_) && is_activated() &&
        WTSVirtualChannelManagerGetDrdynvcState(state_->vcm) == DRDYNVC_STATE_READY) {
        if (!gfx_tried_)
            start_gfx();
        if (!disp_tried_)
            start_disp();
    }
    check_write_blocked();
}

void RdpPeer::watch_writable() {
    if (!socket_watch_) {
        const int copy = dup(peer_->sockfd);
        if (copy < 0) {
            close(false, "cannot watch the socket");
            return;
        }
        socket_watch_ = std::make_unique<asio::posix::stream_descriptor>(server_.io(), copy);
    }
    socket_watch_->async_wait(asio::posix::stream_descriptor::wait_write,
                              [self = shared_from_this()](const boost::system::error_code& ec) {
                                  if (ec || self->is_closing())
                                      return;
                                  clear_tls_errors();
                                  if (self->peer_->DrainOutputBuffer(self->peer_) < 0) {
                                      self->close(false, "write failed");
                                      return;
                                  }
                                  if (self->peer_->IsWriteBlocked(self->peer_)) {
                                      self->watch_writable();
                                      return;
                                  }
                                  self->write_blocked_ = false;
                                  if (self->pointer_pending_)
                                      self->send_pointer();
                                  if (self->cliprdr_)
                                      self->cliprdr_->on_writable();
                                  self->pacer_.schedule();
                              });
}

void RdpPeer::close(bool graceful, const char* reason) {
    if (is_closing())
        return;
    if (phase_ == PeerPhase::handshaking || phase_ == PeerPhase::handshake_cut) {
        // The handshake thread owns the peer: cut it short; handshake_finished() tears down.
        // Being cut off by us is not the client's authentication failure.
        log_.info("disconnected {} ({})", address_, reason);
        cut_handshake();
        set_phase(PeerPhase::aborting);
        pacer_.stop();
        return;
    }
    release(graceful, reason);
}

void RdpPeer::release(bool graceful, const char* reason) {
    const bool seated = is_seated();
    const bool polite = graceful && is_activated();
    set_phase(in_handshake() ? PeerPhase::aborting : PeerPhase::closing);
    pacer_.stop();
    log_.info("disconnected {} ({})", address_, reason);
    server_.desktop().remove_viewer(this);
    // Pastes waiting on this client fail now rather than at their timeout.
    if (cliprdr_)
        server_.clipboard().remove_client(cliprdr_.get());
    if (seated)
        server_.desktop().release_seat();
    input_.release_all();
    delay_timer_.cancel();
    if (hangup_watch_)
        hangup_watch_->cancel();
    for (auto& w : watchers_)
        w->cancel();
    if (socket_watch_)
        socket_watch_->cancel();
    // Never tear the FreeRDP peer down from inside one of its own callbacks.
    asio::post(server_.io(), [self = shared_from_this(), polite] { self->teardown(polite); });
}

void RdpPeer::teardown(bool polite) {
    cliprdr_.reset();  // before the channel manager goes with the context
    disp_.reset();
    if (state_) {
        state_->sender = nullptr;
        state_->gfx.reset();
    }
    if (state_) {
        clear_tls_errors();
        if (polite)
            peer_->Close(peer_);
        peer_->Disconnect(peer_);
        clear_tls_errors();
    }
    set_phase(PeerPhase::closed);
    server_.remove(id_);
}

}  // namespace deskpod
