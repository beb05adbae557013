// libFuzzer target for an RDP client's clipboard channel as deskpod takes it from FreeRDP: the
// CLIPRDR PDUs FreeRDP decoded (capabilities, format lists with arbitrary ids and names, data
// requests, data responses with arbitrary flags and bytes), handed to the callbacks RdpCliprdr
// registers in its channel context, interleaved with what the rest of the desktop does (the
// desktop copies and answers reads, a desktop app pastes from the client, another viewer
// pastes). The channel's send side is a stub that accepts everything, so requests go in flight
// and answers are converted. Beyond not crashing: every paste of the client's data gets exactly
// one answer by the time the client leaves, within --clipboard-limit, text as valid UTF-8;
// every viewer read is answered at most once; and what goes back to the client
// is well-formed for the format it asked for (a DIB made from the desktop's PNG reads back).
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "rdp-bridge/clipboard/broker.hpp"
#include "rdp-bridge/clipboard/formats.hpp"
#include "rdp-bridge/rdp/cliprdr.hpp"
#include "rdp-bridge/rdp/freerdp.hpp"
#include "shared/overloaded.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <freerdp/server/cliprdr.h>
#pragma GCC diagnostic pop

using namespace deskpod;

namespace {

constexpr uint64_t kLimit = 64 * 1024;
constexpr uint32_t kHtmlId = 0xD010, kPngId = 0xD011;
const std::string kText = "text/plain;charset=utf-8";

const std::string kMimes[] = {kText,        "text/html", "image/png", "UTF8_STRING",
                              "text/plain", "TEXT",      "STRING",    "application/x-other"};

bool is_text_mime(const std::string& m) {
    for (const auto& t : ClipboardBroker::kTextMimeTypes)
        if (m == t)
            return true;
    return false;
}

// What deskpod sends back to the client (the channel's send side, stubbed).
struct Wire {
    uint32_t asked_format = 0;  // the client's latest data request
    int data_responses = 0;
    std::set<uint32_t> offered;  // every format id the client listed
} wire;

UINT accept_format_list(CliprdrServerContext*, const CLIPRDR_FORMAT_LIST* list) {
    FUZZ_CHECK(list->numFormats <= 8 && (list->numFormats == 0 || list->formats));
    return CHANNEL_RC_OK;
}
UINT accept_list_response(CliprdrServerContext*, const CLIPRDR_FORMAT_LIST_RESPONSE*) {
    return CHANNEL_RC_OK;
}
UINT accept_data_request(CliprdrServerContext*, const CLIPRDR_FORMAT_DATA_REQUEST* request) {
    // Only formats the client offered are asked for.
    FUZZ_CHECK(wire.offered.count(request->requestedFormatId) == 1);
    return CHANNEL_RC_OK;
}
UINT accept_data_response(CliprdrServerContext*, const CLIPRDR_FORMAT_DATA_RESPONSE* response) {
    ++wire.data_responses;
    if (!(response->msgFlags & CB_RESPONSE_OK)) {
        FUZZ_CHECK(response->msgFlags == CB_RESPONSE_FAIL && response->dataLen == 0);
        return CHANNEL_RC_OK;
    }
    const uint8_t* d = response->requestedFormatData;
    const size_t n = response->dataLen;
    FUZZ_CHECK(d || n == 0);
    switch (wire.asked_format) {
        case CF_UNICODETEXT:
            FUZZ_CHECK(n >= 2 && n % 2 == 0 && d[n - 1] == 0 && d[n - 2] == 0);
            break;
        case CF_TEXT:
        case CF_OEMTEXT:
            FUZZ_CHECK(n >= 1 && d[n - 1] == 0);
            break;
        case kHtmlId:
            FUZZ_CHECK(n >= 1 && d[n - 1] == 0);
            FUZZ_CHECK(clipformat::html_from_cf_html(d, n - 1).has_value());
            break;
        case CF_DIB:
        case CF_DIBV5:
            FUZZ_CHECK(clipformat::png_from_dib(d, n).has_value());
            break;
        default:
            break;
    }
    return CHANNEL_RC_OK;
}

// Another viewer (a Guacamole user, say) that pastes.
struct OtherViewer final : ClipboardClient {
    void on_clipboard_offer(const std::vector<std::string>&) override {}
    void on_paste_request(uint64_t, const std::string&) override {}
};

uint32_t format_id(fuzz::Input& in) {
    static constexpr uint32_t kIds[] = {CF_UNICODETEXT, CF_TEXT, CF_OEMTEXT, CF_DIB,
                                        CF_DIBV5,       kHtmlId, kPngId,     0xC004};
    const uint8_t pick = in.u8();
    return pick < 0xF0 ? kIds[pick % 8] : in.u32();
}

const std::string& mime(fuzz::Input& in) {
    return kMimes[in.u8() % 8];
}

std::shared_ptr<const std::vector<uint8_t>> blob(fuzz::Input& in) {
    const std::string_view b = in.bytes(in.u16() % 4096);
    return std::make_shared<const std::vector<uint8_t>>(b.begin(), b.end());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const bool once = [] {
        fuzz::quiet_logs();
        WTSRegisterWtsApiFunctionTable(FreeRDP_InitWtsApi());
        return true;
    }();
    (void)once;
    fuzz::Input in(data, size);
    wire = Wire{};

    boost::asio::io_context io;
    Channels& channels = fuzz::drained_channels();
    ClipboardBroker broker(io, channels, kLimit);
    OtherViewer viewer;
    broker.add_client(&viewer, Protocol::guac);
    const log::Logger logger("rdp", "rdp#1");
    auto cliprdr = std::make_unique<RdpCliprdr>(io, broker, nullptr, logger);
    CliprdrServerContext* context = cliprdr->channel_context();
    context->ServerFormatList = accept_format_list;
    context->ServerFormatListResponse = accept_list_response;
    context->ServerFormatDataRequest = accept_data_request;
    context->ServerFormatDataResponse = accept_data_response;

    // The compositor's side.
    uint64_t serial = 0, offer_id = 0, transfer_id = 0;
    std::deque<ReadSelectionRequest> reads;  // unanswered desktop reads
    std::map<uint64_t, std::string> pastes;  // desktop pastes awaiting an answer
    std::map<uint64_t, int> viewer_reads;    // answers per viewer read
    uint64_t next_viewer_read = 0;
    auto drain = [&] {
        io.poll();
        DesktopRequest request;
        while (channels.to_compositor.try_pop(request)) {
            std::visit(Overloaded{
                           [&](const ReadSelectionRequest& r) {
                               if (r.mime_type.empty()) {  // a barrier: refused at once
                                   SelectionDataEvent refused;
                                   refused.request_id = r.request_id;
                                   broker.handle(refused);
                               } else {
                                   reads.push_back(r);
                               }
                           },
                           [&](const RemoteOfferRequest& r) { offer_id = r.offer_id; },
                           [&](const PasteDataInput& p) {
                               const auto it = pastes.find(p.transfer_id);
                               FUZZ_CHECK(it != pastes.end());
                               if (p.ok) {
                                   FUZZ_CHECK(p.data && p.data->size() <= kLimit);
                                   const std::string_view text(
                                       reinterpret_cast<const char*>(p.data->data()),
                                       p.data->size());
                                   if (is_text_mime(it->second))
                                       FUZZ_CHECK(fuzz::valid_utf8(text));
                               }
                               pastes.erase(it);
                           },
                           [](const auto&) {},
                       },
                       request);
        }
        io.poll();
    };

    std::vector<CLIPRDR_GENERAL_CAPABILITY_SET> caps_sets;
    std::vector<std::string> names;
    std::vector<CLIPRDR_FORMAT> formats;
    while (!in.empty()) {
        switch (in.u8() % 8) {
            case 0: {  // the client's capabilities
                caps_sets.assign(in.u8() % 3, {});
                for (auto& set : caps_sets) {
                    set.capabilitySetType = in.u8() < 0xF0 ? CB_CAPSTYPE_GENERAL : in.u16();
                    set.capabilitySetLength = CB_CAPSTYPE_GENERAL_LEN;
                    set.version = in.u8() % 3;
                    set.generalFlags = in.u32();
                }
                CLIPRDR_CAPABILITIES caps{};
                caps.msgType = CB_CLIP_CAPS;
                caps.cCapabilitiesSets = uint32_t(caps_sets.size());
                caps.capabilitySets = reinterpret_cast<CLIPRDR_CAPABILITY_SET*>(caps_sets.data());
                context->ClientCapabilities(context, &caps);
                break;
            }
            case 1: {  // the client copied: its format list
                const size_t n = in.u8() % 10;
                names.assign(n, {});
                formats.assign(n, {});
                std::vector<bool> named(n, true);
                for (size_t i = 0; i < n; ++i) {
                    formats[i].formatId = format_id(in);
                    wire.offered.insert(formats[i].formatId);
                    switch (in.u8() % 5) {
                        case 0:
                            named[i] = false;
                            break;
                        case 1:
                            names[i] = "HTML Format";
                            break;
                        case 2:
                            names[i] = "PNG";
                            break;
                        case 3:
                            break;
                        default:
                            names[i] = std::string(in.short_string());
                            break;
                    }
                }
                for (size_t i = 0; i < n; ++i)
                    formats[i].formatName = named[i] ? names[i].data() : nullptr;
                CLIPRDR_FORMAT_LIST list{};
                list.msgType = CB_FORMAT_LIST;
                list.numFormats = uint32_t(n);
                list.formats = n ? formats.data() : nullptr;
                context->ClientFormatList(context, &list);
                break;
            }
            case 2: {  // the client pastes
                CLIPRDR_FORMAT_DATA_REQUEST request{};
                request.msgType = CB_FORMAT_DATA_REQUEST;
                request.requestedFormatId = format_id(in);
                wire.asked_format = request.requestedFormatId;
                context->ClientFormatDataRequest(context, &request);
                break;
            }
            case 3: {  // the client answers our data request
                CLIPRDR_FORMAT_DATA_RESPONSE response{};
                response.msgType = CB_FORMAT_DATA_RESPONSE;
                response.msgFlags = in.u8() & 3;
                const std::string_view bytes = in.bytes(in.u16() % 8192);
                response.dataLen = uint32_t(bytes.size());
                response.requestedFormatData = bytes.empty() && in.flag()
                                                   ? nullptr
                                                   : reinterpret_cast<const BYTE*>(bytes.data());
                context->ClientFormatDataResponse(context, &response);
                break;
            }
            case 4: {  // a desktop app copied
                SelectionOfferEvent offer;
                offer.serial = ++serial;
                const uint8_t which = in.u8();
                for (int k = 0; k < 8; ++k)
                    if (which & (1 << k))
                        offer.mime_types.push_back(kMimes[k]);
                broker.handle(offer);
                break;
            }
            case 5: {  // the desktop answers a read
                if (reads.empty())
                    break;
                SelectionDataEvent answer;
                answer.request_id = reads.front().request_id;
                answer.ok = in.u8() < 0xE0;
                answer.mime_type = reads.front().mime_type;
                answer.data = blob(in);
                reads.pop_front();
                broker.handle(answer);
                break;
            }
            case 6: {  // a desktop app pastes what the client copied
                const uint64_t id = ++transfer_id;
                const std::string& m = mime(in);
                pastes.emplace(id, m);
                broker.handle(PasteRequestEvent{offer_id, id, m});
                break;
            }
            default: {  // another viewer pastes
                const uint64_t id = next_viewer_read++;
                viewer_reads[id] = 0;
                broker.read(&viewer, mime(in), [&viewer_reads, id](const SelectionDataEvent& e) {
                    FUZZ_CHECK(++viewer_reads[id] == 1);
                    FUZZ_CHECK(!e.ok || (e.data && e.data->size() <= kLimit));
                });
                break;
            }
        }
        drain();
    }
    // The client leaves: every paste from it is answered (failed, if nothing else).
    cliprdr.reset();
    drain();
    FUZZ_CHECK(pastes.empty());
    broker.remove_client(&viewer);
    drain();
    return 0;
}
