#include "rdp-bridge/rdp/cliprdr.hpp"

#include <algorithm>
#include <cstring>

#include "rdp-bridge/clipboard/formats.hpp"
#include "rdp-bridge/rdp/freerdp.hpp"
#include "shared/metrics.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <freerdp/server/cliprdr.h>
#pragma GCC diagnostic pop

namespace deskpod {

namespace asio = boost::asio;

namespace {

// Registered formats carry a name on the wire; the ids are ours to choose (>= 0xC000).
constexpr uint32_t kHtmlFormatId = 0xD010;  // "HTML Format" (FreeRDP uses the same id)
// FreeRDP's clients (xfreerdp 2.x) offer and accept PNG as this id without a name.
constexpr uint32_t kPngFormatId = 0xD011;
constexpr const char* kHtmlFormatName = "HTML Format";
// How long the client has to answer one of our data requests before the next one goes.
constexpr std::chrono::seconds kRequestTimeout = ClipboardBroker::kPasteTimeout;
// Channel PDUs handled per pump, so a flood cannot hold the network thread.
constexpr int kMaxPdusPerPump = 64;

const std::string kTextMime = "text/plain;charset=utf-8";
const std::string kHtmlMime = "text/html";
const std::string kPngMime = "image/png";

RdpCliprdr* self_of(CliprdrServerContext* context) {
    return static_cast<RdpCliprdr*>(context->custom);
}

bool is_text(const std::string& mime) {
    const auto& text = ClipboardBroker::kTextMimeTypes;
    return std::find(text.begin(), text.end(), mime) != text.end();
}

bool has(const std::vector<std::string>& list, const std::string& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

ClipboardBytes bytes_of(std::string_view text) {
    return std::make_shared<const std::vector<uint8_t>>(text.begin(), text.end());
}
ClipboardBytes bytes_of(std::vector<uint8_t>&& data) {
    return std::make_shared<const std::vector<uint8_t>>(std::move(data));
}

UINT on_client_capabilities(CliprdrServerContext* context, const CLIPRDR_CAPABILITIES* caps) {
    uint32_t flags = 0;
    const auto* set = reinterpret_cast<const uint8_t*>(caps->capabilitySets);
    for (uint32_t i = 0; set && i < caps->cCapabilitiesSets; ++i) {
        const auto* cap = reinterpret_cast<const CLIPRDR_CAPABILITY_SET*>(set);
        if (cap->capabilitySetType == CB_CAPSTYPE_GENERAL) {
            flags = reinterpret_cast<const CLIPRDR_GENERAL_CAPABILITY_SET*>(cap)->generalFlags;
            break;
        }
        // FreeRDP stores the sets as an array of the general set's size.
        set += sizeof(CLIPRDR_GENERAL_CAPABILITY_SET);
    }
    return self_of(context)->client_capabilities(flags);
}
UINT on_client_format_list(CliprdrServerContext* context, const CLIPRDR_FORMAT_LIST* list) {
    std::vector<std::pair<uint32_t, std::string>> formats;
    for (uint32_t i = 0; i < list->numFormats; ++i) {
        const CLIPRDR_FORMAT& f = list->formats[i];
        formats.emplace_back(f.formatId, f.formatName ? f.formatName : "");
    }
    return self_of(context)->client_format_list(formats);
}
UINT on_client_format_list_response(CliprdrServerContext*, const CLIPRDR_FORMAT_LIST_RESPONSE*) {
    return CHANNEL_RC_OK;
}
UINT on_client_format_data_request(CliprdrServerContext* context,
                                   const CLIPRDR_FORMAT_DATA_REQUEST* request) {
    return self_of(context)->client_format_data_request(request->requestedFormatId);
}
UINT on_client_format_data_response(CliprdrServerContext* context,
                                    const CLIPRDR_FORMAT_DATA_RESPONSE* response) {
    const bool ok = (response->msgFlags & CB_RESPONSE_OK) != 0;
    return self_of(context)->client_format_data_response(ok, response->requestedFormatData,
                                                         response->dataLen);
}
UINT on_ignored_lock(CliprdrServerContext*, const CLIPRDR_LOCK_CLIPBOARD_DATA*) {
    return CHANNEL_RC_OK;
}
UINT on_ignored_unlock(CliprdrServerContext*, const CLIPRDR_UNLOCK_CLIPBOARD_DATA*) {
    return CHANNEL_RC_OK;
}
UINT on_temp_directory(CliprdrServerContext*, const CLIPRDR_TEMP_DIRECTORY*) {
    return CHANNEL_RC_OK;
}

}  // namespace

RdpCliprdr::RdpCliprdr(asio::io_context& io, ClipboardBroker& broker, void* vcm,
                       const log::Logger& log)
    : io_(io), broker_(broker), log_(log), request_timer_(io) {
    context_ = cliprdr_server_context_new(static_cast<HANDLE>(vcm));
    if (!context_)
        throw std::runtime_error("cliprdr_server_context_new failed");
    context_->custom = this;
    context_->useLongFormatNames = TRUE;
    context_->autoInitializationSequence = FALSE;  // no channel thread: we send it ourselves
    context_->ClientCapabilities = on_client_capabilities;
    context_->ClientFormatList = on_client_format_list;
    context_->ClientFormatListResponse = on_client_format_list_response;
    context_->ClientFormatDataRequest = on_client_format_data_request;
    context_->ClientFormatDataResponse = on_client_format_data_response;
    context_->ClientLockClipboardData = on_ignored_lock;
    context_->ClientUnlockClipboardData = on_ignored_unlock;
    context_->TempDirectory = on_temp_directory;
}

RdpCliprdr::~RdpCliprdr() {
    *alive_ = false;
    broker_.remove_client(this);
    if (context_) {
        context_->Close(context_);
        cliprdr_server_context_free(context_);
    }
}

bool RdpCliprdr::start() {
    if (context_->Open(context_) != CHANNEL_RC_OK)
        return false;
    CLIPRDR_GENERAL_CAPABILITY_SET general{};
    general.capabilitySetType = CB_CAPSTYPE_GENERAL;
    general.capabilitySetLength = 12;
    general.version = CB_CAPS_VERSION_2;
    general.generalFlags = CB_USE_LONG_FORMAT_NAMES;
    CLIPRDR_CAPABILITIES caps{};
    caps.cCapabilitiesSets = 1;
    caps.capabilitySets = reinterpret_cast<CLIPRDR_CAPABILITY_SET*>(&general);
    CLIPRDR_MONITOR_READY ready{};
    if (context_->ServerCapabilities(context_, &caps) != CHANNEL_RC_OK ||
        context_->MonitorReady(context_, &ready) != CHANNEL_RC_OK) {
        return false;
    }
    broker_.add_client(this, Protocol::rdp);
    return true;
}

void RdpCliprdr::pump() {
    HANDLE event = context_->GetEventHandle(context_);
    for (int i = 0; event && i < kMaxPdusPerPump; ++i) {
        if (WaitForSingleObject(event, 0) != WAIT_OBJECT_0)
            break;
        const std::weak_ptr<bool> alive = alive_;
        if (context_->CheckEventHandle(context_) != CHANNEL_RC_OK) {
            log_.warn("clipboard channel: malformed PDU from the client");
            break;
        }
        if (alive.expired())
            return;
    }
}

// ---- desktop -> client ---------------------------------------------------------------------

void RdpCliprdr::on_clipboard_offer(const std::vector<std::string>& mime_types) {
    desktop_types_ = mime_types;
    if (!ready_) {
        announce_ = true;
        return;
    }
    send_format_list();
}

void RdpCliprdr::send_format_list() {
    // A fixed array: GCC 12 misjudges vector growth of this C struct (-Wstringop-overflow).
    CLIPRDR_FORMAT formats[8] = {};
    uint32_t count = 0;
    char html_name[] = "HTML Format";
    bool text = false;
    for (const std::string& m : desktop_types_)
        text = text || is_text(m);
    if (text) {
        formats[count++] = {CF_UNICODETEXT, nullptr};
        formats[count++] = {CF_TEXT, nullptr};
        formats[count++] = {CF_OEMTEXT, nullptr};
    }
    if (has(desktop_types_, kHtmlMime))
        formats[count++] = {kHtmlFormatId, html_name};
    if (has(desktop_types_, kPngMime)) {
        formats[count++] = {kPngFormatId, nullptr};
        formats[count++] = {CF_DIB, nullptr};
        formats[count++] = {CF_DIBV5, nullptr};
    }
    CLIPRDR_FORMAT_LIST list{};
    list.msgType = CB_FORMAT_LIST;
    list.numFormats = count;
    list.formats = count ? formats : nullptr;
    // An empty list tells the client the desktop clipboard no longer has anything it can use.
    if (context_->ServerFormatList(context_, &list) != CHANNEL_RC_OK) {
        log_.warn("clipboard: cannot send the format list");
    } else {
        log_.debug("clipboard: offered {} formats to the client", count);
    }
}

unsigned RdpCliprdr::client_capabilities(uint32_t general_flags) {
    // The channel library keeps long format names only when both sides support them.
    context_->useLongFormatNames = (general_flags & CB_USE_LONG_FORMAT_NAMES) ? TRUE : FALSE;
    ready_ = true;
    if (announce_) {
        announce_ = false;
        send_format_list();
    }
    return CHANNEL_RC_OK;
}

unsigned RdpCliprdr::client_format_data_request(uint32_t format_id) {
    // A new request supersedes an answer still held for a blocked client.
    if (held_response_) {
        held_response_.reset();
        metrics().clipboard_coalesced.add();
    }
    std::string mime;
    if (format_id == CF_UNICODETEXT || format_id == CF_TEXT || format_id == CF_OEMTEXT) {
        mime = kTextMime;
    } else if (format_id == kHtmlFormatId) {
        mime = kHtmlMime;
    } else if (format_id == kPngFormatId || format_id == CF_DIB || format_id == CF_DIBV5) {
        mime = kPngMime;
    } else {
        respond(nullptr, 0, false);
        return CHANNEL_RC_OK;
    }
    const uint64_t serving = ++serving_;
    std::weak_ptr<bool> alive = alive_;
    broker_.read(this, mime, [this, alive, serving, format_id](const SelectionDataEvent& e) {
        if (alive.expired() || serving != serving_)
            return;  // a newer request superseded it
        if (!e.ok || !e.data) {
            log_.info("clipboard: paste at the client failed: {}", e.error);
            respond(nullptr, 0, false);
            return;
        }
        const auto& d = *e.data;
        const std::string_view text(reinterpret_cast<const char*>(d.data()), d.size());
        std::vector<uint8_t> out;
        if (format_id == CF_UNICODETEXT) {
            out = clipformat::unicodetext_from_utf8(text);
        } else if (format_id == CF_TEXT || format_id == CF_OEMTEXT) {
            out = clipformat::ansitext_from_utf8(text);
        } else if (format_id == kHtmlFormatId) {
            const std::string html = clipformat::cf_html_from_html(text);
            out.assign(html.begin(), html.end());
            out.push_back(0);
        } else if (format_id == kPngFormatId) {
            out = d;
        } else {
            auto dib = clipformat::dib_from_png(d.data(), d.size(), format_id == CF_DIBV5);
            if (!dib) {
                log_.info("clipboard: the desktop's PNG could not be decoded");
                respond(nullptr, 0, false);
                return;
            }
            out = std::move(*dib);
        }
        if (output_blocked_ && output_blocked_()) {
            if (held_response_)
                metrics().clipboard_coalesced.add();
            held_response_ = std::move(out);
            return;
        }
        respond(out.data(), out.size(), true);
    });
    return CHANNEL_RC_OK;
}

void RdpCliprdr::on_writable() {
    if (!held_response_)
        return;
    const std::vector<uint8_t> out = std::move(*held_response_);
    held_response_.reset();
    respond(out.data(), out.size(), true);
}

void RdpCliprdr::respond(const uint8_t* data, size_t size, bool ok) {
    CLIPRDR_FORMAT_DATA_RESPONSE response{};
    response.msgType = CB_FORMAT_DATA_RESPONSE;
    response.msgFlags = ok ? CB_RESPONSE_OK : CB_RESPONSE_FAIL;
    response.dataLen = ok ? uint32_t(size) : 0;
    response.requestedFormatData = ok ? data : nullptr;
    if (context_->ServerFormatDataResponse(context_, &response) != CHANNEL_RC_OK) {
        log_.warn("clipboard: cannot send the data response");
    }
}

// ---- client -> desktop ---------------------------------------------------------------------

unsigned RdpCliprdr::client_format_list(
    const std::vector<std::pair<uint32_t, std::string>>& formats) {
    CLIPRDR_FORMAT_LIST_RESPONSE response{};
    response.msgType = CB_FORMAT_LIST_RESPONSE;
    response.msgFlags = CB_RESPONSE_OK;
    context_->ServerFormatListResponse(context_, &response);

    client_formats_ = formats;
    std::vector<std::string> mimes;
    bool text = false, html = false, png = false;
    for (const auto& [id, name] : formats) {
        if (id == CF_UNICODETEXT || id == CF_TEXT || id == CF_OEMTEXT)
            text = true;
        if (name == kHtmlFormatName)
            html = true;
        if ((id == kPngFormatId && name.empty()) || name == "PNG" || id == CF_DIB ||
            id == CF_DIBV5) {
            png = true;
        }
    }
    if (text)
        mimes = ClipboardBroker::kTextMimeTypes;
    if (html)
        mimes.push_back(kHtmlMime);
    if (png)
        mimes.push_back(kPngMime);
    log_.debug("clipboard: client offers {} formats ({} mime types)", formats.size(), mimes.size());
    // A new copy at the client makes any queued request for the old one pointless, but the
    // one in flight still gets its (old) answer; CLIPRDR has no way to cancel it.
    broker_.offer(this, std::move(mimes));
    return CHANNEL_RC_OK;
}

void RdpCliprdr::on_paste_request(uint64_t transfer_id, const std::string& mime_type) {
    auto find = [&](auto pred) -> std::optional<uint32_t> {
        for (const auto& [id, name] : client_formats_) {
            if (pred(id, name))
                return id;
        }
        return std::nullopt;
    };
    std::optional<uint32_t> format;
    if (is_text(mime_type)) {
        format = find([](uint32_t id, const std::string&) { return id == CF_UNICODETEXT; });
        if (!format) {
            format = find(
                [](uint32_t id, const std::string&) { return id == CF_TEXT || id == CF_OEMTEXT; });
        }
    } else if (mime_type == kHtmlMime) {
        format = find([](uint32_t, const std::string& name) { return name == kHtmlFormatName; });
    } else if (mime_type == kPngMime) {
        format = find([](uint32_t id, const std::string& name) {
            return (id == kPngFormatId && name.empty()) || name == "PNG";
        });
        if (!format)
            format = find([](uint32_t id, const std::string&) { return id == CF_DIBV5; });
        if (!format)
            format = find([](uint32_t id, const std::string&) { return id == CF_DIB; });
    }
    if (!format) {
        broker_.answer_paste(transfer_id, nullptr);
        return;
    }
    requests_.push_back(Request{transfer_id, *format, mime_type});
    send_next_request();
}

void RdpCliprdr::send_next_request() {
    if (request_in_flight_ || requests_.empty())
        return;
    CLIPRDR_FORMAT_DATA_REQUEST request{};
    request.msgType = CB_FORMAT_DATA_REQUEST;
    request.dataLen = 4;
    request.requestedFormatId = requests_.front().format_id;
    if (context_->ServerFormatDataRequest(context_, &request) != CHANNEL_RC_OK) {
        broker_.answer_paste(requests_.front().transfer_id, nullptr);
        requests_.pop_front();
        asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
            if (!alive.expired())
                send_next_request();
        });
        return;
    }
    request_in_flight_ = true;
    request_timer_.expires_after(kRequestTimeout);
    request_timer_.async_wait(
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
            if (ec || alive.expired() || !request_in_flight_)
                return;
            log_.warn("clipboard: the client did not answer a data request");
            client_format_data_response(false, nullptr, 0);
        });
}

unsigned RdpCliprdr::client_format_data_response(bool ok, const uint8_t* data, size_t size) {
    if (!request_in_flight_ || requests_.empty())
        return CHANNEL_RC_OK;  // unsolicited
    const Request request = requests_.front();
    requests_.pop_front();
    request_in_flight_ = false;
    request_timer_.cancel();

    ClipboardBytes out;
    if (ok && data) {
        if (size > broker_.limit()) {
            // Refused by the broker (logged and counted there); don't convert it first.
            out = bytes_of(std::vector<uint8_t>(data, data + size));
        } else if (request.format_id == CF_UNICODETEXT) {
            out = bytes_of(clipformat::utf8_from_unicodetext(data, size));
        } else if (request.format_id == CF_TEXT || request.format_id == CF_OEMTEXT) {
            out = bytes_of(clipformat::utf8_from_ansitext(data, size));
        } else if (request.mime_type == kHtmlMime) {
            if (auto html = clipformat::html_from_cf_html(data, size)) {
                out = bytes_of(*html);
            } else {
                log_.info("clipboard: malformed HTML Format from the client");
            }
        } else if (request.format_id == CF_DIB || request.format_id == CF_DIBV5) {
            if (auto png = clipformat::png_from_dib(data, size)) {
                out = bytes_of(std::move(*png));
            } else {
                log_.info("clipboard: unsupported or malformed bitmap from the client");
            }
        } else {
            out = bytes_of(std::vector<uint8_t>(data, data + size));
        }
    }
    broker_.answer_paste(request.transfer_id, std::move(out));
    send_next_request();
    return CHANNEL_RC_OK;
}

}  // namespace deskpod
