// libFuzzer target for the guacd handshake state machine: any sequence of instructions (parsed
// from the input) through guac::Handshake, as a guacd-port user feeds it. Beyond not crashing:
// the replies are whole instructions (`args` once, after `select`; `ready` with the connection
// id once, after `connect`), the handshake ends exactly once, nothing is accepted after it
// ended or failed, and what it learnt about the client is within the documented ranges.
#include <cstdint>
#include <string_view>

#include "rdp-bridge/guac/handshake.hpp"
#include "rdp-bridge/guac/parser.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace deskpod;
using namespace deskpod::guac;

namespace {
constexpr const char* kConnectionId = "$6a1f0c52-93b4-4e8d-b7a2-5c0d9e81f364";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Parser parser;
    parser.append(std::string_view(reinterpret_cast<const char*>(data), size));
    Handshake handshake(kConnectionId);
    Instruction in;
    bool over = false, done = false;
    int args_sent = 0;
    while (parser.next(in) == Parser::Status::instruction) {
        const Handshake::Step step = handshake.on_instruction(in);
        if (over) {
            // Ended or failed: nothing more is accepted.
            FUZZ_CHECK(step.failure && step.reply.empty() && !step.done);
            continue;
        }
        FUZZ_CHECK(!(step.failure && step.done));
        FUZZ_CHECK(!step.failure || !step.failure_message.empty());
        Parser replies;
        replies.append(step.reply);
        Instruction reply;
        while (replies.next(reply) == Parser::Status::instruction) {
            if (reply.opcode == "args") {
                FUZZ_CHECK(++args_sent == 1 && in.opcode == "select");
                FUZZ_CHECK(reply.args.size() == parameter_names().size() + 1);
                FUZZ_CHECK(parse_version(reply.args[0]) == kServerVersion);
            } else {
                FUZZ_CHECK(reply.opcode == "ready" && step.done && in.opcode == "connect");
                FUZZ_CHECK(reply.args.size() == 1 && reply.args[0] == kConnectionId);
            }
        }
        FUZZ_CHECK(replies.buffered() == 0);
        FUZZ_CHECK(handshake.finished() == step.done);
        if (step.done) {
            FUZZ_CHECK(args_sent == 1);
            done = true;
        }
        over = step.failure.has_value() || step.done;
    }
    const ClientInfo& info = handshake.info();
    FUZZ_CHECK(handshake.finished() == done);
    FUZZ_CHECK(info.width >= 1 && info.width <= 16384 && info.height >= 1 && info.height <= 16384);
    FUZZ_CHECK(info.dpi >= 1 && info.dpi <= 10000);
    FUZZ_CHECK(info.version <= kServerVersion);  // a client may claim any lower version
    FUZZ_CHECK(info.parameters.size() <= parameter_names().size());
    // A version string parses back to itself.
    FUZZ_CHECK(parse_version(info.version.to_string()) == info.version);
    return 0;
}
