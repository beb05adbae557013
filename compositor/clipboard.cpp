// The clipboard's setup and teardown, and desktop -> viewers: an app's selection is announced,
// and read through a pipe when the bridge asks. Viewers -> desktop is clipboard_from_viewers.cpp.
#include "compositor/clipboard.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "compositor/clipboard_internal.hpp"
#include "compositor/server.hpp"
#include "shared/metrics.hpp"

namespace deskpod::compositor {
namespace {

using clipboard_internal::kChunk;
using clipboard_internal::kChunksPerWakeup;
using clipboard_internal::kTransferTimeoutMs;

// When the network queue is full, the selection announcement is retried after this.
constexpr int kOfferRetryMs = 50;

// wlr_data_source and wlr_primary_selection_source both keep their types in `mime_types`.
template <typename Source>
std::vector<std::string> mime_types_of(Source* source) {
    std::vector<std::string> out;
    if (!source)
        return out;
    // Not wl_array_for_each: it assigns the array's void* data to the typed cursor without a
    // cast, which C++ rejects.
    auto** begin = static_cast<char**>(source->mime_types.data);
    const size_t count = source->mime_types.size / sizeof(char*);
    for (size_t i = 0; i < count; ++i) {
        if (begin[i])
            out.emplace_back(begin[i]);
    }
    return out;
}

bool offers(const std::vector<std::string>& types, const std::string& mime) {
    return std::find(types.begin(), types.end(), mime) != types.end();
}

const char* selection_name(bool primary) {
    return primary ? "primary selection" : "clipboard";
}

}  // namespace

// Reading an app's selection: the read end of the pipe its data source writes into.
struct Clipboard::Read {
    Clipboard* self = nullptr;  // the event-loop callbacks get this struct
    uint64_t id = 0;
    int fd = -1;
    std::string mime_type;
    std::vector<uint8_t> data;
    wl::EventSource watch;
    wl::EventSource timeout;
    ~Read() {
        watch.reset();
        clipboard_internal::close_fd(fd);
    }
};

Clipboard::Clipboard(Server& server)
    : server_(server), share_primary_(server.config.primary_selection) {
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
    on_set_selection_.set_handler([this](void*) { selection_changed(false); });
    on_set_selection_.connect(server_.seat->events.set_selection);
    on_set_primary_selection_.set_handler([this](void*) { selection_changed(true); });
    on_set_primary_selection_.connect(server_.seat->events.set_primary_selection);
    if (share_primary_) {
        log_.info("the primary selection is shared with viewers (--primary-selection)");
    }
}

Clipboard::~Clipboard() {
    on_set_selection_.disconnect();
    on_set_primary_selection_.disconnect();
    offer_idle_.reset();
    offer_retry_.reset();
    reads_.clear();
    writes_.clear();
    // A remote source still set as the selection is destroyed with the seat; it must not
    // call back into this object then.
    if (remote_)
        remote_->owner = nullptr;
    if (remote_primary_)
        remote_primary_->owner = nullptr;
}

// ---- desktop -> network --------------------------------------------------------------------

void Clipboard::selection_changed(bool primary) {
    bool ours = false;
    bool empty = true;
    if (primary) {
        wlr_primary_selection_source* source = server_.seat->primary_selection_source;
        remote_primary_ = clipboard_internal::remote_source_of(source);
        ours = remote_primary_ != nullptr;
        empty = !source;
        if (!share_primary_) {
            // Kept inside the desktop: never announced, never read from the network side.
            log_.debug(
                "primary selection now offered by {}; not shared (--primary-selection "
                "is off)",
                empty ? "nobody" : "an app");
            return;
        }
    } else {
        wlr_data_source* source = server_.seat->selection_source;
        remote_ = clipboard_internal::remote_source_of(source);
        ours = remote_ != nullptr;
        empty = !source;
    }
    Announced& announced = primary ? primary_ : clipboard_;
    announced.serial = ++serial_;  // reads of the previous selection are stale from now on
    if (ours) {
        // A viewer's copy is not announced back; the bridge knows it already.
        announced.dirty = false;
        return;
    }
    log_.debug("{} now offered by {}", selection_name(primary), empty ? "nobody" : "an app");
    announced.dirty = true;
    schedule_publish();
}

void Clipboard::schedule_publish() {
    // A Ctrl+C storm sets the selection many times per loop turn: announce only the last.
    if (offer_idle_)
        return;
    offer_idle_ = wl::EventSource(wl_event_loop_add_idle(
        server_.loop,
        [](void* data) {
            auto* self = static_cast<Clipboard*>(data);
            // Idle sources are one-shot: wayland frees them after this call.
            self->offer_idle_ = wl::EventSource();
            self->publish_offer();
        },
        this));
}

void Clipboard::publish_offer() {
    // Both changed in one loop turn: the older first, so the bridge ends with the newer one
    // (the most recent of the clipboard and the primary selection is what viewers get).
    const bool primary_first = primary_.serial < clipboard_.serial;
    if (publish_one(primary_first) && publish_one(!primary_first))
        return;
    if (!offer_retry_) {
        offer_retry_ = wl::EventSource(wl_event_loop_add_timer(
            server_.loop,
            [](void* data) {
                static_cast<Clipboard*>(data)->publish_offer();
                return 0;
            },
            this));
    }
    wl_event_source_timer_update(offer_retry_.get(), kOfferRetryMs);
}

bool Clipboard::publish_one(bool primary) {
    Announced& announced = primary ? primary_ : clipboard_;
    if (!announced.dirty)
        return true;
    SelectionOfferEvent event{announced.serial, primary,
                              primary ? mime_types_of(server_.seat->primary_selection_source)
                                      : mime_types_of(server_.seat->selection_source)};
    if (!server_.publish(std::move(event)))
        return false;
    announced.dirty = false;
    return true;
}

void Clipboard::read_selection(const ReadSelectionRequest& request) {
    auto refuse = [&](const std::string& why) {
        server_.publish(SelectionDataEvent{request.request_id, false, why, request.mime_type, {}});
    };
    if (request.mime_type.empty()) {
        // The bridge's ordering barrier (clipboard_broker.hpp): answered at once, in order.
        return refuse("no mime type");
    }
    if (request.primary && !share_primary_) {
        log_.info(
            "refused to read the primary selection: it is not shared (--primary-selection "
            "is off)");
        return refuse("the primary selection is not shared (--primary-selection is off)");
    }
    wlr_data_source* source = server_.seat->selection_source;
    wlr_primary_selection_source* primary = server_.seat->primary_selection_source;
    const bool present = request.primary ? primary != nullptr : source != nullptr;
    const bool remote = request.primary ? remote_primary_ != nullptr : remote_ != nullptr;
    const Announced& announced = request.primary ? primary_ : clipboard_;
    if (!present || remote || request.serial != announced.serial) {
        return refuse(std::string("the ") + selection_name(request.primary) +
                      " changed since it was announced");
    }
    const auto types = request.primary ? mime_types_of(primary) : mime_types_of(source);
    if (!offers(types, request.mime_type))
        return refuse("not offered as " + request.mime_type);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        return refuse(std::string("pipe2 failed: ") + std::strerror(errno));
    }
    auto read = std::make_unique<Read>();
    read->fd = fds[0];
    read->mime_type = request.mime_type;
    // The source takes the write end (and closes it when its app has been told).
    if (request.primary) {
        wlr_primary_selection_source_send(primary, request.mime_type.c_str(), fds[1]);
    } else {
        wlr_data_source_send(source, request.mime_type.c_str(), fds[1]);
    }
    read->self = this;
    read->id = request.request_id;
    Read* r = read.get();
    // Stable address: the Read lives in reads_ behind its unique_ptr until finish_read.
    read->watch = wl::EventSource(wl_event_loop_add_fd(
        server_.loop, read->fd, WL_EVENT_READABLE,
        [](int, uint32_t, void* data) {
            auto* reading = static_cast<Read*>(data);
            return reading->self->on_readable(reading->id);
        },
        r));
    read->timeout = wl::EventSource(wl_event_loop_add_timer(
        server_.loop,
        [](void* data) {
            auto* reading = static_cast<Read*>(data);
            reading->self->finish_read(reading->id, false, "the app did not deliver its clipboard");
            return 0;
        },
        r));
    wl_event_source_timer_update(read->timeout.get(), kTransferTimeoutMs);
    const uint64_t id = request.request_id;
    reads_[id] = std::move(read);
}

int Clipboard::on_readable(uint64_t request_id) {
    const auto it = reads_.find(request_id);
    if (it == reads_.end())
        return 0;
    Read& r = *it->second;
    const uint64_t limit = server_.config.clipboard_limit;
    for (size_t i = 0; i < kChunksPerWakeup; ++i) {
        const size_t old = r.data.size();
        r.data.resize(old + kChunk);
        const ssize_t n = ::read(r.fd, r.data.data() + old, kChunk);
        r.data.resize(old + size_t(std::max<ssize_t>(n, 0)));
        if (n == 0) {
            finish_read(request_id, true, {});
            return 0;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            finish_read(request_id, false, std::string("read failed: ") + std::strerror(errno));
            return 0;
        }
        if (r.data.size() > limit) {
            metrics().clipboard_refused.add();
            log_.warn("desktop clipboard ({}) is larger than --clipboard-limit {}: refused",
                      r.mime_type, limit);
            finish_read(request_id, false, "larger than --clipboard-limit");
            return 0;
        }
    }
    return 0;
}

void Clipboard::finish_read(uint64_t request_id, bool ok, const std::string& error) {
    const auto it = reads_.find(request_id);
    if (it == reads_.end())
        return;
    std::unique_ptr<Read> read = std::move(it->second);
    reads_.erase(it);
    SelectionDataEvent event{request_id, ok, error, read->mime_type, {}};
    if (ok) {
        read->data.shrink_to_fit();
        event.data = std::make_shared<const std::vector<uint8_t>>(std::move(read->data));
        log_.debug("read {} bytes of {}", event.data->size(), event.mime_type);
    }
    read.reset();
    server_.publish(std::move(event));
}

}  // namespace deskpod::compositor
