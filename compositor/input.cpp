// Input and control requests from the network thread, applied on the compositor thread.
#include <variant>

#include "compositor/clipboard.hpp"
#include "compositor/keyboard.hpp"
#include "compositor/output.hpp"
#include "compositor/pointer.hpp"
#include "compositor/server.hpp"
#include "shared/metrics.hpp"
#include "shared/overloaded.hpp"
#include "shared/thread_affinity.hpp"

namespace deskpod::compositor {

void Server::handle_input_doorbell() {
    // Drain first: a ring after this point wakes the loop again, so nothing is lost.
    compositor_thread.check("Server::handle_input_doorbell");
    channels.to_compositor.doorbell().drain();
    DesktopRequest event;
    while (channels.to_compositor.try_pop(event)) {
        metrics().input_events.add();
        std::visit(Overloaded{
                       [&](const KeyInput& e) { keyboard->key(e.evdev_code, e.pressed); },
                       [&](const UnicodeInput& e) {
                           keyboard->keysym(xkb_utf32_to_keysym(e.codepoint), e.pressed);
                       },
                       [&](const KeysymInput& e) { keyboard->keysym(e.keysym, e.pressed); },
                       [&](const LockStateInput& e) {
                           keyboard->set_locks(e.caps_lock, e.num_lock, e.scroll_lock);
                       },
                       [&](const PointerMotionInput& e) {
                           double lx = 0, ly = 0;
                           desktop_to_layout(e.x, e.y, &lx, &ly);
                           pointer->motion(lx, ly);
                       },
                       [&](const PointerButtonInput& e) { pointer->button(e.button, e.pressed); },
                       [&](const PointerAxisInput& e) { pointer->axis(e.horizontal, e.steps); },
                       [&](const ReleaseAllInput&) {
                           keyboard->release_all();
                           pointer->release_all();
                       },
                       [&](const ResizeRequest& e) {
                           apply_layout(e.monitors.empty() ? single_monitor(e.width, e.height)
                                                           : e.monitors);
                       },
                       [&](const KeymapRequest& e) { keyboard->set_layout(e.layout, e.variant); },
                       [&](const PingRequest& e) { publish(PongEvent{e.id}); },
                       [&](const ShutdownRequest&) {
                           log.info("shutdown requested");
                           terminate(0);
                       },
                       [&](const ReadSelectionRequest& e) { clipboard->read_selection(e); },
                       [&](const RemoteOfferRequest& e) { clipboard->remote_offer(e); },
                       [&](const PasteDataInput& e) { clipboard->paste_data(e); },
                   },
                   event);
    }
}

}  // namespace deskpod::compositor
