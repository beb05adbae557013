// What the peer sends once active: frames from the mirror's damage, and the pointer.
#include "rdp-bridge/rdp/peer.hpp"

#include <chrono>

#include "rdp-bridge/rdp/frame_sender.hpp"
#include "rdp-bridge/rdp/peer_context.hpp"
#include "rdp-bridge/rdp/pointer.hpp"
#include "rdp-bridge/rdp/server.hpp"

namespace deskpod {

// ---- viewer --------------------------------------------------------------------------------

void RdpPeer::on_damage(const Region& damage) {
    pacer_.add_damage(damage, server_.desktop().last_captured_at());
}

void RdpPeer::on_resize(int32_t width, int32_t height) {
    if (is_closing() || waits_for_size())
        return;
    clear_tls_errors();
    rdpSettings* s = peer_->settings;
    if (freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth) != uint32_t(width) ||
        freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight) != uint32_t(height)) {
        if (!freerdp_settings_get_bool(s, FreeRDP_DesktopResize)) {
            log_.warn("client cannot resize; it keeps showing the top-left of {}x{}", width,
                      height);
        } else {
            freerdp_settings_set_uint32(s, FreeRDP_DesktopWidth, uint32_t(width));
            freerdp_settings_set_uint32(s, FreeRDP_DesktopHeight, uint32_t(height));
            if (is_activated() && state_->gfx && state_->gfx->ready()) {
                // The pipeline resizes the client with ResetGraphics, no reactivation.
                log_.info("resizing client to {}x{} (graphics pipeline reset)", width, height);
                gfx_reset();
                return;
            }
            if (is_activated()) {
                log_.info("resizing client to {}x{}", width, height);
                peer_->update->DesktopResize(peer_->update->context);
                pacer_.forget_in_flight();  // the reactivation resets the frame pipeline
            }
        }
    }
    invalidate_all();
}

void RdpPeer::on_cursor(const CursorEvent&) {
    send_pointer();
}

void RdpPeer::handle_frame_ack(uint32_t frame_id) {
    // The frame acknowledged is the latest one sent with these low 32 bits.
    pacer_.acknowledge(last_frame_id_ - uint32_t(uint32_t(last_frame_id_) - frame_id));
}

void RdpPeer::handle_refresh(const std::vector<Rect>& areas) {
    // The client asks for pixels again: whatever the sender believes it has there is stale.
    if (areas.empty()) {
        if (state_->sender)
            state_->sender->forget(server_.desktop().bounds());
        invalidate_all();
        return;
    }
    for (const Rect& r : areas) {
        if (state_->sender)
            state_->sender->forget(r);
        pacer_.add(r);
    }
}

void RdpPeer::handle_suppress_output(bool allow) {
    output_suppressed_ = !allow;
    if (allow) {
        if (state_->sender)
            state_->sender->forget(server_.desktop().bounds());
        invalidate_all();
    }
}

void RdpPeer::invalidate_all() {
    pacer_.add(server_.desktop().bounds());
}

// ---- frames --------------------------------------------------------------------------------

bool RdpPeer::can_send() const {
    if (phase_ != PeerPhase::active || output_suppressed_ || write_blocked_)
        return false;
    return !pacer_.window_full();
}

void RdpPeer::flush() {
    if (pacer_.window_full() && pacer_.has_pending() && state_->gfx)
        state_->gfx->held_back();
    if (!can_send() || !pacer_.has_pending())
        return;
    clear_tls_errors();
    rdpSettings* s = peer_->settings;
    auto [damage, captured_at] = pacer_.take();
    damage.clip(server_.desktop().bounds());
    damage.clip(Rect{0, 0, int32_t(freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth)),
                     int32_t(freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight))});
    // Many tiny rectangles cost more per rectangle than the pixels they save.
    damage.simplify(64, 0.25);
    if (damage.empty())
        return;

    const auto started = std::chrono::steady_clock::now();
    const uint64_t frame_id = ++last_frame_id_;
    const FrameSender::Result result =
        state_->sender->send(damage, server_.desktop().image(), uint32_t(frame_id));
    const auto finished = std::chrono::steady_clock::now();
    metrics().encode_seconds[Protocol::rdp].observe(
        std::chrono::duration<double>(finished - started).count());
    if (result == FrameSender::Result::failed) {
        close(false, "sending a frame failed");
        return;
    }
    if (result == FrameSender::Result::nothing) {
        --last_frame_id_;  // the number was not used
        return;
    }
    if (state_->sender->acknowledged())
        pacer_.frame_sent(frame_id);
    metrics().frames_encoded[Protocol::rdp].add();
    metrics().frames_sent[Protocol::rdp].add();
    if (!connect_.first_frame_sent)
        note_first_frame(finished - started);
    if (captured_at != std::chrono::steady_clock::time_point{}) {
        metrics().capture_to_send_seconds[Protocol::rdp].observe(
            std::chrono::duration<double>(finished - captured_at).count());
    }
    check_write_blocked();
}

void RdpPeer::check_write_blocked() {
    if (peer_->IsWriteBlocked(peer_) && !write_blocked_) {
        write_blocked_ = true;
        watch_writable();
    }
}

void RdpPeer::send_pointer() {
    if (!is_activated() || !server_.desktop().has_cursor())
        return;
    pointer_pending_ = write_blocked_;
    if (pointer_pending_)
        return;  // the drain sends the cursor of that moment
    write_pointer();
    check_write_blocked();
}

void RdpPeer::write_pointer() {
    clear_tls_errors();
    rdpContext* context = peer_->context;
    rdpPointerUpdate* pointer = context->update->pointer;
    const CursorEvent& cursor = server_.desktop().cursor();
    if (cursor.hidden || cursor.width <= 0 || cursor.height <= 0) {
        POINTER_SYSTEM_UPDATE system{};
        system.type = SYSPTR_NULL;
        pointer->PointerSystem(context, &system);
        return;
    }
    const bool large =
        freerdp_settings_get_uint32(context->settings, FreeRDP_LargePointerFlag) != 0;
    PointerImage image = make_pointer_image(cursor, large ? 384 : 96);
    if (image.width > 96 || image.height > 96) {
        POINTER_LARGE_UPDATE update{};
        update.xorBpp = 32;
        update.hotSpotX = image.hotspot_x;
        update.hotSpotY = image.hotspot_y;
        update.width = image.width;
        update.height = image.height;
        update.lengthAndMask = UINT32(image.and_mask.size());
        update.lengthXorMask = UINT32(image.xor_mask.size());
        update.xorMaskData = image.xor_mask.data();
        update.andMaskData = image.and_mask.data();
        pointer->PointerLarge(context, &update);
        return;
    }
    POINTER_NEW_UPDATE update{};
    update.xorBpp = 32;
    POINTER_COLOR_UPDATE& color = update.colorPtrAttr;
    color.cacheIndex = 0;
    color.xPos = image.hotspot_x;
    color.yPos = image.hotspot_y;
    color.width = image.width;
    color.height = image.height;
    color.lengthAndMask = UINT32(image.and_mask.size());
    color.lengthXorMask = UINT32(image.xor_mask.size());
    color.xorMaskData = image.xor_mask.data();
    color.andMaskData = image.and_mask.data();
    pointer->PointerNew(context, &update);
}

}  // namespace deskpod
