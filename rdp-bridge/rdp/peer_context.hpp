// The peer's side of its FreeRDP context, for the files that implement RdpPeer (peer*.cpp):
// the C++ state the context carries and the ways from a FreeRDP callback back to the peer.
#pragma once

#include <memory>

#include "rdp-bridge/rdp/frame_sender.hpp"
#include "rdp-bridge/rdp/freerdp.hpp"
#include "rdp-bridge/rdp/gfx/pipeline.hpp"
#include "rdp-bridge/rdp/peer.hpp"

namespace deskpod {

// C++ state of one peer that FreeRDP's calloc'ed context points to: created in ContextNew,
// destroyed in ContextFree, so it lives exactly as long as the context.
struct PeerState {
    RdpPeer* owner = nullptr;
    HANDLE vcm = nullptr;
    // How frames go out: one of the two below, chosen at each activation. Each is made when
    // first chosen and kept, with its encoders, across reactivations.
    FrameSender* sender = nullptr;
    std::unique_ptr<SurfaceBitsSender> surface_bits;
    std::unique_ptr<BitmapSender> bitmaps;
    // The graphics pipeline, once the client confirmed its capabilities: then it is the
    // sender, whatever the activation chose.
    std::unique_ptr<GfxPipeline> gfx;
    // True while the handshake thread owns the peer. Set and cleared by the network thread
    // before the thread starts and after it is joined, so both threads may read it.
    bool handshaking = false;
};

// At most this many surface frames may wait for the client's acknowledgement.
constexpr uint32_t kMaxFramesInFlight = 2;

struct PeerContext {
    rdpContext base;
    PeerState* state;
};

inline PeerState* state_of(rdpContext* context) {
    return context ? reinterpret_cast<PeerContext*>(context)->state : nullptr;
}
inline RdpPeer* owner_of(rdpContext* context) {
    PeerState* state = state_of(context);
    // A client may pipeline PDUs past the security exchange; FreeRDP then processes them on
    // the handshake thread, which must not reach network-thread state. Without an owner,
    // PostConnect and Activate fail (the connection ends) and input is dropped.
    return state && !state->handshaking ? state->owner : nullptr;
}
inline RdpPeer* owner_of(freerdp_peer* peer) {
    return owner_of(peer->context);
}

// OpenSSL's error queue is per thread, and SSL_get_error() reports any queued entry as a
// fatal error of the current call. FreeRDP 2 never clears the queue, so one peer's failure
// (e.g. SSL_shutdown of a handshake cut off mid-TLS) would make the next would-block read
// of any other peer on this thread look fatal. Called before driving a peer's TLS.
inline void clear_tls_errors() {
    ERR_clear_error();
}

}  // namespace deskpod
