// FreeRDP's side of a peer: its context, the settings it announces, and the callbacks that
// lead back into RdpPeer.
#include "rdp-bridge/rdp/peer.hpp"

#include <cstring>

#include "rdp-bridge/rdp/peer_context.hpp"
#include "rdp-bridge/rdp/server.hpp"

namespace deskpod {

namespace {

BOOL context_new(freerdp_peer*, rdpContext* context) {
    auto* ctx = reinterpret_cast<PeerContext*>(context);
    try {
        ctx->state = new PeerState();
    } catch (...) {
        return FALSE;
    }
    ctx->state->vcm = WTSOpenServerA(reinterpret_cast<LPSTR>(context));
    if (!ctx->state->vcm || ctx->state->vcm == INVALID_HANDLE_VALUE) {
        delete ctx->state;
        ctx->state = nullptr;
        return FALSE;
    }
    return TRUE;
}

void context_free(freerdp_peer*, rdpContext* context) {
    auto* ctx = reinterpret_cast<PeerContext*>(context);
    if (!ctx->state)
        return;
    if (ctx->state->vcm)
        WTSCloseServer(ctx->state->vcm);
    delete ctx->state;
    ctx->state = nullptr;
}

std::string utf8_of(const SEC_WINNT_AUTH_IDENTITY* identity, const void* field, UINT32 length) {
    if (!field || length == 0)
        return {};
    if (identity->Flags & SEC_WINNT_AUTH_IDENTITY_UNICODE) {
        char* utf8 = nullptr;
        const int n = ConvertFromUnicode(CP_UTF8, 0, static_cast<const WCHAR*>(field), int(length),
                                         &utf8, 0, nullptr, nullptr);
        std::string out = n > 0 && utf8 ? std::string(utf8, strnlen(utf8, size_t(n))) : "";
        free(utf8);
        return out;
    }
    return std::string(static_cast<const char*>(field), length);
}

// Fires on the handshake thread, once the security layer is up (FreeRDP ignores the result).
BOOL on_logon(freerdp_peer* peer, SEC_WINNT_AUTH_IDENTITY* identity, BOOL automatic) {
    PeerState* state = state_of(peer->context);
    if (!state || !state->handshaking || !identity)
        return FALSE;
    state->owner->handle_logon(utf8_of(identity, identity->User, identity->UserLength),
                               automatic != FALSE);
    return TRUE;
}

// WinPR's NTLM asks for the NTLMv2 key of the user in the client's AUTHENTICATE message, on
// the handshake thread (winpr/ntlm.h psPeerComputeNtlmHash). Despite the SECURITY_STATUS type,
// WinPR reads a nonzero result as success and zero as failure (ntlm_compute.c, 2.11).
SECURITY_STATUS on_ntlm_hash(void* client, const SEC_WINNT_AUTH_IDENTITY* identity,
                             const SecBuffer* proof, const BYTE* session_key, const BYTE* mic,
                             const SecBuffer* messages, BYTE* ntlmv2_key) {
    auto* peer = static_cast<freerdp_peer*>(client);
    PeerState* state = peer ? state_of(peer->context) : nullptr;
    if (!state || !state->handshaking || !identity || !ntlmv2_key)
        return 0;
    NtlmAuthenticate message;
    if (identity->User)
        message.user.assign(reinterpret_cast<const char16_t*>(identity->User),
                            identity->UserLength);
    if (identity->Domain)
        message.domain.assign(reinterpret_cast<const char16_t*>(identity->Domain),
                              identity->DomainLength);
    if (proof && proof->pvBuffer) {
        message.proof = static_cast<const uint8_t*>(proof->pvBuffer);
        message.proof_size = proof->cbBuffer;
    }
    message.encrypted_session_key = session_key;
    message.mic = mic;
    if (messages && messages->pvBuffer) {
        message.messages = static_cast<const uint8_t*>(messages->pvBuffer);
        message.messages_size = messages->cbBuffer;
    }
    return state->owner->handle_ntlm_authenticate(message, ntlmv2_key) ? 1 : 0;
}

BOOL on_capabilities(freerdp_peer* peer) {
    if (RdpPeer* self = owner_of(peer)) {
        self->note_phase(ConnectPhase::capabilities);
        self->handle_capabilities();
    }
    return TRUE;
}

BOOL on_post_connect(freerdp_peer* peer) {
    RdpPeer* self = owner_of(peer);
    return self && self->handle_post_connect() ? TRUE : FALSE;
}

BOOL on_activate(freerdp_peer* peer) {
    RdpPeer* self = owner_of(peer);
    if (self)
        self->note_phase(ConnectPhase::activation);
    return self && self->handle_activate() ? TRUE : FALSE;
}

BOOL on_frame_ack(rdpContext* context, UINT32 frame_id) {
    if (RdpPeer* self = owner_of(context))
        self->handle_frame_ack(frame_id);
    return TRUE;
}

BOOL on_refresh_rect(rdpContext* context, BYTE count, const RECTANGLE_16* areas) {
    RdpPeer* self = owner_of(context);
    if (!self)
        return FALSE;
    std::vector<Rect> rects;
    for (BYTE i = 0; areas && i < count; ++i) {
        rects.push_back(Rect{areas[i].left, areas[i].top, areas[i].right - areas[i].left,
                             areas[i].bottom - areas[i].top});
    }
    self->handle_refresh(rects);
    return TRUE;
}

BOOL on_suppress_output(rdpContext* context, BYTE allow, const RECTANGLE_16*) {
    if (RdpPeer* self = owner_of(context))
        self->handle_suppress_output(allow != 0);
    return TRUE;
}

BOOL on_keyboard(rdpInput* input, UINT16 flags, UINT16 code) {
    if (RdpPeer* self = owner_of(input->context)) {
        self->before_key();
        self->input().keyboard(flags, code);
    }
    return TRUE;
}

BOOL on_unicode(rdpInput* input, UINT16 flags, UINT16 code) {
    if (RdpPeer* self = owner_of(input->context))
        self->input().unicode(flags, code);
    return TRUE;
}

BOOL on_synchronize(rdpInput* input, UINT32 flags) {
    if (RdpPeer* self = owner_of(input->context))
        self->input().synchronize(flags);
    return TRUE;
}
}  // namespace

// Mouse callbacks need the desktop size, so they live where RdpPeer's privates are visible.
struct RdpPeerMouse {
    static BOOL on_mouse(rdpInput* input, UINT16 flags, UINT16 x, UINT16 y) {
        if (RdpPeer* self = owner_of(input->context)) {
            const DesktopMirror& d = self->server_.desktop();
            self->input_.mouse(flags, x, y, d.width(), d.height());
        }
        return TRUE;
    }
    static BOOL on_extended_mouse(rdpInput* input, UINT16 flags, UINT16 x, UINT16 y) {
        if (RdpPeer* self = owner_of(input->context)) {
            const DesktopMirror& d = self->server_.desktop();
            self->input_.extended_mouse(flags, x, y, d.width(), d.height());
        }
        return TRUE;
    }
};

bool RdpPeer::setup() {
    peer_->ContextSize = sizeof(PeerContext);
    peer_->ContextNew = context_new;
    peer_->ContextFree = context_free;
    if (!freerdp_peer_context_new(peer_))
        return false;
    state_ = state_of(peer_->context);
    state_->owner = this;

    const Config& config = server_.config();
    rdpSettings* s = peer_->settings;
    const bool nla = config.rdp_security == RdpSecurity::nla;
    bool ok = freerdp_settings_set_string(s, FreeRDP_CertificateFile, config.tls_cert.c_str()) &&
              freerdp_settings_set_string(s, FreeRDP_PrivateKeyFile, config.tls_key.c_str()) &&
              freerdp_settings_set_bool(s, FreeRDP_RdpSecurity, FALSE) &&
              freerdp_settings_set_bool(s, FreeRDP_TlsSecurity, TRUE) &&
              freerdp_settings_set_bool(s, FreeRDP_NlaSecurity, nla ? TRUE : FALSE);
    // NLA checks credentials through on_ntlm_hash, from memory: no SAM file on disk.
    if (nla)
        peer_->ComputeNtlmHash = on_ntlm_hash;
    ok =
        ok && freerdp_settings_set_bool(s, FreeRDP_RemoteFxCodec, TRUE) &&
        freerdp_settings_set_bool(s, FreeRDP_NSCodec, TRUE) &&
        freerdp_settings_set_bool(s, FreeRDP_FrameMarkerCommandEnabled, TRUE) &&
        freerdp_settings_set_bool(s, FreeRDP_SurfaceFrameMarkerEnabled, TRUE) &&
        freerdp_settings_set_bool(s, FreeRDP_SurfaceCommandsEnabled, TRUE) &&
        freerdp_settings_set_bool(s, FreeRDP_RefreshRect, TRUE) &&
        freerdp_settings_set_bool(s, FreeRDP_SuppressOutput, TRUE) &&
        freerdp_settings_set_bool(s, FreeRDP_DesktopResize, TRUE) &&
        // Offered to every client (unless --rdp-gfx off); FreeRDP keeps it only for those
        // that announce it.
        freerdp_settings_set_bool(s, FreeRDP_SupportGraphicsPipeline, config.rdp_gfx) &&
        freerdp_settings_set_bool(s, FreeRDP_HasExtendedMouseEvent, TRUE) &&
        freerdp_settings_set_bool(s, FreeRDP_HasHorizontalWheel, TRUE) &&
        freerdp_settings_set_bool(s, FreeRDP_UnicodeInput, TRUE) &&
        freerdp_settings_set_bool(s, FreeRDP_ColorPointerFlag, TRUE) &&
        freerdp_settings_set_uint32(s, FreeRDP_ColorDepth, 32) &&
        freerdp_settings_set_uint32(s, FreeRDP_LargePointerFlag, 0x0003) &&
        freerdp_settings_set_uint32(s, FreeRDP_FrameAcknowledge, kMaxFramesInFlight) &&
        freerdp_settings_set_uint32(s, FreeRDP_DesktopWidth, uint32_t(server_.desktop().width())) &&
        freerdp_settings_set_uint32(s, FreeRDP_DesktopHeight,
                                    uint32_t(server_.desktop().height())) &&
        // FreeRDP's default waits inside every write until its output buffer is flushed to the
        // socket, so a client that stops reading would hold the network thread (every viewer,
        // HTTP) until it read again or left. Writes are buffered instead; the peer watches the
        // socket and, while it is blocked, keeps only what it must (frames, cursor, clipboard
        // wait: docs/security.md, "Viewers that stop reading").
        freerdp_settings_set_bool(s, FreeRDP_WaitForOutputBufferFlush, FALSE);
    if (!ok)
        return false;

    peer_->Logon = on_logon;
    peer_->Capabilities = on_capabilities;
    peer_->PostConnect = on_post_connect;
    peer_->Activate = on_activate;
    peer_->input->KeyboardEvent = on_keyboard;
    peer_->input->UnicodeKeyboardEvent = on_unicode;
    peer_->input->SynchronizeEvent = on_synchronize;
    peer_->input->MouseEvent = RdpPeerMouse::on_mouse;
    peer_->input->ExtendedMouseEvent = RdpPeerMouse::on_extended_mouse;
    peer_->update->SurfaceFrameAcknowledge = on_frame_ack;
    peer_->update->RefreshRect = on_refresh_rect;
    peer_->update->SuppressOutput = on_suppress_output;

    return peer_->Initialize(peer_) != FALSE;
}

}  // namespace deskpod
