#include "clipboard.hpp"

#include "server.hpp"

namespace deskpod::compositor {

Clipboard::Clipboard(Server& server) : server_(server) {
    wlr_data_device_manager_create(server_.display);
    wlr_primary_selection_v1_device_manager_create(server_.display);
    wlr_data_control_manager_v1_create(server_.display);

    // wlroots validates the serial; the compositor only has to accept the request.
    on_request_set_selection_.set_handler([this](void* data) {
        auto* event = static_cast<wlr_seat_request_set_selection_event*>(data);
        wlr_seat_set_selection(server_.seat, event->source, event->serial);
    });
    on_request_set_selection_.connect(server_.seat->events.request_set_selection);
    on_request_set_primary_selection_.set_handler([this](void* data) {
        auto* event = static_cast<wlr_seat_request_set_primary_selection_event*>(data);
        wlr_seat_set_primary_selection(server_.seat, event->source, event->serial);
    });
    on_request_set_primary_selection_.connect(server_.seat->events.request_set_primary_selection);
    on_set_selection_.set_handler([this](void*) {
        wlr_data_source* source = server_.seat->selection_source;
        log_.debug("clipboard now offered by {}", source ? "a client" : "nobody");
    });
    on_set_selection_.connect(server_.seat->events.set_selection);
}

}  // namespace deskpod::compositor
