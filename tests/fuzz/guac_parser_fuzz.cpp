// libFuzzer target for the Guacamole instruction parser: arbitrary bytes, split at an
// input-chosen point (as TCP may split them), must never crash, hang or exceed the limits,
// and every parsed instruction must re-encode to bytes the parser reads back identically.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rdp-bridge/guac/parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace deskpod::guac;
    if (size == 0)
        return 0;
    const size_t split = data[0] % (size);
    const std::string_view all(reinterpret_cast<const char*>(data) + 1, size - 1);
    const ParserLimits limits{16, 64, 256};
    Parser parser(limits);
    Instruction in;
    auto drain = [&] {
        Parser::Status s;
        while ((s = parser.next(in)) == Parser::Status::instruction) {
            if (in.args.size() + 1 > limits.max_elements)
                std::abort();
            std::vector<std::string_view> args(in.args.begin(), in.args.end());
            std::string again;
            append_instruction(again, in.opcode, args);
            Parser check;
            check.append(again);
            Instruction back;
            if (check.next(back) != Parser::Status::instruction || back.opcode != in.opcode ||
                back.args != in.args)
                std::abort();
        }
        return s;
    };
    parser.append(all.substr(0, std::min(split, all.size())));
    if (drain() == Parser::Status::error)
        return 0;
    parser.append(all.substr(std::min(split, all.size())));
    drain();
    if (parser.buffered() > limits.max_instruction_bytes + 8 * 4 + all.size())
        std::abort();
    return 0;
}
