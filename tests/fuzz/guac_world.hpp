// A desktop for Guacamole users to connect to in a fuzz target: the host objects a guac::User
// needs (loop, config, channels, desktop mirror, clipboard broker) without a compositor, and a
// transport that keeps what the user sends. Checks what reaches the compositor and what goes
// back to the client.
#pragma once

#include <linux/input-event-codes.h>

#include <set>
#include <string>
#include <variant>

#include "rdp-bridge/asio.hpp"
#include "rdp-bridge/clipboard/broker.hpp"
#include "rdp-bridge/desktop_mirror.hpp"
#include "rdp-bridge/guac/parser.hpp"
#include "rdp-bridge/guac/user.hpp"
#include "shared/channels.hpp"
#include "shared/config.hpp"
#include "shared/monitors.hpp"
#include "shared/overloaded.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace deskpod::fuzz {

inline constexpr const char* kConnectionId = "$6a1f0c52-93b4-4e8d-b7a2-5c0d9e81f364";
inline constexpr uint64_t kClipboardLimit = 4096;

class FakeTransport final : public guac::Transport {
  public:
    void send(std::string data) override { sent += data; }
    size_t backlog() const override { return 0; }
    void close() override { closed = true; }
    void abort() override { aborted = true; }

    std::string sent;
    bool closed = false;
    bool aborted = false;
};

struct GuacWorld {
    GuacWorld() { quiet_logs(); }

    // Everything the user sent must be whole, well-formed instructions.
    void check_output(const FakeTransport& transport) const {
        guac::Parser parser(guac::ParserLimits{1u << 20, 1u << 30, 1u << 30});
        parser.append(transport.sent);
        guac::Instruction in;
        guac::Parser::Status status;
        while ((status = parser.next(in)) == guac::Parser::Status::instruction) {
        }
        FUZZ_CHECK(status == guac::Parser::Status::need_more && parser.buffered() == 0);
    }

    // What the users asked of the compositor; answers clipboard barriers as the compositor
    // does (at once, refused), and remembers the latest clipboard offer.
    void drain() {
        DesktopRequest request;
        while (channels.to_compositor.try_pop(request)) {
            std::visit(
                Overloaded{
                    [&](const PointerMotionInput& m) {
                        FUZZ_CHECK(m.x >= 0 && m.x < desktop.width());
                        FUZZ_CHECK(m.y >= 0 && m.y < desktop.height());
                    },
                    [&](const PointerButtonInput& b) {
                        FUZZ_CHECK(b.button == BTN_LEFT || b.button == BTN_MIDDLE ||
                                   b.button == BTN_RIGHT);
                        if (b.pressed) {
                            FUZZ_CHECK(buttons.insert(b.button).second);
                        } else {
                            FUZZ_CHECK(buttons.erase(b.button) == 1);
                        }
                    },
                    [&](const PointerAxisInput& a) { FUZZ_CHECK(a.steps == 1 || a.steps == -1); },
                    [&](const KeysymInput& k) { FUZZ_CHECK(k.keysym <= 0x7FFFFFFF); },
                    [&](const ReleaseAllInput&) { buttons.clear(); },
                    [&](const ResizeRequest& r) {
                        FUZZ_CHECK(r.monitors.size() == 1);
                        std::string why;
                        FUZZ_CHECK(normalize_layout(r.monitors, &why).has_value());
                    },
                    [&](const ReadSelectionRequest& r) {
                        SelectionDataEvent refused;
                        refused.request_id = r.request_id;
                        refused.error = "no such type";
                        clipboard.handle(refused);
                    },
                    [&](const RemoteOfferRequest& r) {
                        offer_id = r.offer_id;
                        offered = !r.mime_types.empty();
                    },
                    [&](const PasteDataInput& p) {
                        FUZZ_CHECK(p.transfer_id == transfer_id);
                        FUZZ_CHECK(!p.ok || (p.data && p.data->size() <= kClipboardLimit));
                        ++pastes_answered;
                    },
                    [](const auto&) {},
                },
                request);
        }
    }

    // A desktop app pastes what the client copied (if it copied): the answer must come back.
    // Every user is gone: once their last work ran, nothing may still hold a seat or a button.
    void check_all_released() {
        io.poll();
        drain();
        FUZZ_CHECK(desktop.seats_in_use() == 0);
        FUZZ_CHECK(buttons.empty());
    }

    void paste_from_client() {
        if (!offered)
            return;
        const int before = pastes_answered;
        clipboard.handle(PasteRequestEvent{offer_id, ++transfer_id, "text/plain;charset=utf-8"});
        io.poll();
        drain();
        FUZZ_CHECK(pastes_answered == before + 1);
    }

    boost::asio::io_context io;
    Config config;
    Channels& channels = drained_channels();
    DesktopMirror desktop{320, 200, 2};
    ClipboardBroker clipboard{io, channels, kClipboardLimit};
    guac::Host host{io, config, channels, desktop, kConnectionId, &clipboard};
    std::set<uint32_t> buttons;
    uint64_t offer_id = 0;
    bool offered = false;
    uint64_t transfer_id = 1000;
    int pastes_answered = 0;
};

}  // namespace deskpod::fuzz
