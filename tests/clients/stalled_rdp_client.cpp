// deskpod-stalled-rdp-client: an RDP client that stops reading and keeps sending, for the
// tests of deskpod's per-viewer output budget (tests/integration/test_stalled_rdp.py).
//
// It is a real FreeRDP 2 client (libfreerdp2: NLA, the "cliprdr" static channel, the GDI): it
// connects, reads until the server's clipboard channel has said Monitor Ready, answers with
// its capabilities and an empty format list, and from then on never calls
// freerdp_check_event_handles() again: nothing the server sends is read, so the server's
// socket fills and stays full. Commands on stdin make it send meanwhile (straight onto the
// transport, which does not need the client to read):
//
//   clip N        N CLIPRDR Format Data Requests for CF_UNICODETEXT, one per line read
//                 (the test paces them by what the server counted)
//   move N MS     N mouse moves alternating between the left and the right quarter of the
//                 desktop, MS milliseconds apart
//   quit          disconnect and exit 0
//
// After each command it prints "sent clip N" or "sent move N" on stdout (line-buffered).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <freerdp/channels/channels.h>
#include <freerdp/channels/cliprdr.h>
#include <freerdp/freerdp.h>
#include <freerdp/gdi/gdi.h>
#include <freerdp/input.h>
#include <freerdp/settings.h>
#include <winpr/synch.h>
#include <winpr/user.h>
#include <winpr/wtsapi.h>
#pragma GCC diagnostic pop

namespace {

const char kUsage[] =
    "Usage: deskpod-stalled-rdp-client --port N --user NAME --password PW [--size WxH]\n"
    "Connects to 127.0.0.1:N with NLA and the clipboard channel, then stops reading and\n"
    "sends what stdin asks for: 'clip N', 'move N MS', 'quit' (see the source's header).\n";

constexpr const char* kClipboardChannel = "cliprdr";

struct State {
    bool monitor_ready = false;
    std::vector<uint8_t> channel_pdu;  // reassembled from the channel's chunks
};
State g_state;

void die(const std::string& what) {
    std::fprintf(stderr, "deskpod-stalled-rdp-client: %s\n", what.c_str());
    std::exit(1);
}

void put16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(uint8_t(v));
    out.push_back(uint8_t(v >> 8));
}
void put32(std::vector<uint8_t>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out.push_back(uint8_t(v >> (8 * i)));
}

// A CLIPRDR PDU: msgType, msgFlags, dataLen, data ([MS-RDPECLIP] 2.2.1).
std::vector<uint8_t> cliprdr_pdu(uint16_t type, const std::vector<uint8_t>& data) {
    std::vector<uint8_t> out;
    put16(out, type);
    put16(out, 0);
    put32(out, uint32_t(data.size()));
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

bool send_clipboard(freerdp* instance, const std::vector<uint8_t>& pdu) {
    const UINT16 id = freerdp_channels_get_id_by_name(instance, kClipboardChannel);
    if (id == 0)
        return false;
    return instance->SendChannelData(instance, id, pdu.data(), pdu.size());
}

// Only the clipboard channel is joined; its PDUs are read only to see Monitor Ready.
BOOL receive_channel_data(freerdp* instance, UINT16 channel_id, const BYTE* data, size_t size,
                          UINT32 flags, size_t) {
    if (channel_id != freerdp_channels_get_id_by_name(instance, kClipboardChannel))
        return TRUE;
    if (flags & CHANNEL_FLAG_FIRST)
        g_state.channel_pdu.clear();
    g_state.channel_pdu.insert(g_state.channel_pdu.end(), data, data + size);
    if ((flags & CHANNEL_FLAG_LAST) && g_state.channel_pdu.size() >= 2) {
        const uint16_t type = uint16_t(g_state.channel_pdu[0] | (g_state.channel_pdu[1] << 8));
        if (type == CB_MONITOR_READY)
            g_state.monitor_ready = true;
    }
    return TRUE;
}

BOOL pre_connect(freerdp* instance) {
    rdpSettings* settings = instance->settings;
    if (settings->ChannelCount >= settings->ChannelDefArraySize)
        return FALSE;
    CHANNEL_DEF& def = settings->ChannelDefArray[settings->ChannelCount++];
    def = CHANNEL_DEF{};
    std::snprintf(def.name, sizeof(def.name), "%s", kClipboardChannel);
    def.options = CHANNEL_OPTION_INITIALIZED | CHANNEL_OPTION_ENCRYPT_RDP |
                  CHANNEL_OPTION_COMPRESS_RDP | CHANNEL_OPTION_SHOW_PROTOCOL;
    return TRUE;
}

// Paints go into the GDI's framebuffer, which nobody looks at.
BOOL begin_paint(rdpContext*) {
    return TRUE;
}
BOOL end_paint(rdpContext*) {
    return TRUE;
}

BOOL post_connect(freerdp* instance) {
    if (!gdi_init(instance, PIXEL_FORMAT_BGRX32))
        return FALSE;
    instance->update->BeginPaint = begin_paint;
    instance->update->EndPaint = end_paint;
    return TRUE;
}

void post_disconnect(freerdp* instance) {
    gdi_free(instance);
}

DWORD accept_certificate(freerdp*, const char*, UINT16, const char*, const char*, const char*,
                         const char*, DWORD) {
    return 2;  // accept for this session: the test's deskpod has a self-signed certificate
}

// Reads what the server sends until `done` or the timeout.
template <typename Done>
bool pump_until(freerdp* instance, Done done, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        HANDLE handles[MAXIMUM_WAIT_OBJECTS];
        const DWORD count = freerdp_get_event_handles(instance->context, handles, 64);
        if (count == 0)
            return false;
        WaitForMultipleObjects(count, handles, FALSE, 100);
        if (!freerdp_check_event_handles(instance->context) || freerdp_shall_disconnect(instance))
            return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::string user, password;
    int port = 0, width = 1024, height = 768;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                die(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--port") {
            port = std::atoi(value().c_str());
        } else if (arg == "--user") {
            user = value();
        } else if (arg == "--password") {
            password = value();
        } else if (arg == "--size") {
            if (std::sscanf(value().c_str(), "%dx%d", &width, &height) != 2)
                die("--size takes WxH");
        } else if (arg == "--help" || arg == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        } else {
            die("unknown option " + arg + "\n" + kUsage);
        }
    }
    if (port <= 0 || user.empty())
        die(std::string("--port and --user are required\n") + kUsage);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);

    freerdp* instance = freerdp_new();
    if (!instance)
        die("freerdp_new failed");
    instance->PreConnect = pre_connect;
    instance->PostConnect = post_connect;
    instance->PostDisconnect = post_disconnect;
    instance->VerifyCertificateEx = accept_certificate;
    instance->ReceiveChannelData = receive_channel_data;
    if (!freerdp_context_new(instance))
        die("freerdp_context_new failed");
    rdpSettings* settings = instance->settings;
    freerdp_settings_set_string(settings, FreeRDP_ServerHostname, "127.0.0.1");
    freerdp_settings_set_uint32(settings, FreeRDP_ServerPort, uint32_t(port));
    freerdp_settings_set_string(settings, FreeRDP_Username, user.c_str());
    freerdp_settings_set_string(settings, FreeRDP_Password, password.c_str());
    freerdp_settings_set_bool(settings, FreeRDP_NlaSecurity, TRUE);
    freerdp_settings_set_bool(settings, FreeRDP_TlsSecurity, FALSE);
    freerdp_settings_set_bool(settings, FreeRDP_RdpSecurity, FALSE);
    freerdp_settings_set_bool(settings, FreeRDP_IgnoreCertificate, TRUE);
    freerdp_settings_set_bool(settings, FreeRDP_AutoReconnectionEnabled, FALSE);
    freerdp_settings_set_uint32(settings, FreeRDP_DesktopWidth, uint32_t(width));
    freerdp_settings_set_uint32(settings, FreeRDP_DesktopHeight, uint32_t(height));
    freerdp_settings_set_uint32(settings, FreeRDP_ColorDepth, 32);
    freerdp_settings_set_bool(settings, FreeRDP_SupportGraphicsPipeline, FALSE);
    // Without bulk compression what the server queues is what it would send.
    freerdp_settings_set_bool(settings, FreeRDP_CompressionEnabled, FALSE);

    if (!freerdp_connect(instance))
        die("cannot connect: " +
            std::string(freerdp_get_last_error_string(freerdp_get_last_error(instance->context))));
    std::printf("connected\n");
    if (freerdp_channels_get_id_by_name(instance, kClipboardChannel) == 0)
        die("the server did not join the clipboard channel");
    if (!pump_until(
            instance, [] { return g_state.monitor_ready; }, std::chrono::seconds(30)))
        die("no Monitor Ready on the clipboard channel");
    // Client Capabilities (one general set: version 2, long format names) and an empty
    // Format List, as a client that has nothing on its clipboard sends them.
    std::vector<uint8_t> caps;
    put16(caps, 1);  // cCapabilitiesSets
    put16(caps, 0);
    put16(caps, CB_CAPSTYPE_GENERAL);
    put16(caps, 12);
    put32(caps, CB_CAPS_VERSION_2);
    put32(caps, CB_USE_LONG_FORMAT_NAMES);
    if (!send_clipboard(instance, cliprdr_pdu(CB_CLIP_CAPS, caps)) ||
        !send_clipboard(instance, cliprdr_pdu(CB_FORMAT_LIST, {}))) {
        die("cannot send on the clipboard channel");
    }
    // From here on nothing is read.
    std::printf("stopped reading\n");

    rdpInput* input = instance->context->input;
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream words(line);
        std::string command;
        long count = 0, interval_ms = 0;
        words >> command >> count >> interval_ms;
        if (command == "quit")
            break;
        if (command == "clip") {
            std::vector<uint8_t> format;
            put32(format, CF_UNICODETEXT);
            for (long i = 0; i < count; ++i) {
                if (!send_clipboard(instance, cliprdr_pdu(CB_FORMAT_DATA_REQUEST, format)))
                    die("cannot send a format data request");
            }
            std::printf("sent clip %ld\n", count);
        } else if (command == "move") {
            for (long i = 0; i < count; ++i) {
                const UINT16 x = UINT16(i % 2 == 0 ? width / 4 : width * 3 / 4);
                if (!freerdp_input_send_mouse_event(input, PTR_FLAGS_MOVE, x, UINT16(height / 2)))
                    die("cannot send a mouse move");
                std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
            }
            std::printf("sent move %ld\n", count);
        } else {
            die("unknown command: " + line);
        }
    }
    freerdp_disconnect(instance);
    freerdp_context_free(instance);
    freerdp_free(instance);
    return 0;
}
