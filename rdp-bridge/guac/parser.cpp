#include "rdp-bridge/guac/parser.hpp"

#include <fmt/format.h>

namespace deskpod::guac {

namespace {

// Length of the UTF-8 sequence started by `lead`, or 0 when `lead` cannot start one.
size_t sequence_length(unsigned char lead) {
    if (lead < 0x80)
        return 1;
    if (lead >= 0xC2 && lead <= 0xDF)
        return 2;
    if (lead >= 0xE0 && lead <= 0xEF)
        return 3;
    if (lead >= 0xF0 && lead <= 0xF4)
        return 4;
    return 0;
}

bool is_continuation(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

// guacd accepts at most five length digits; more is either hostile or garbage.
constexpr size_t kMaxLengthDigits = 5;

}  // namespace

size_t codepoint_count(std::string_view utf8) {
    size_t count = 0;
    for (size_t i = 0; i < utf8.size();) {
        const size_t n = sequence_length(static_cast<unsigned char>(utf8[i]));
        i += (n == 0 || i + n > utf8.size()) ? 1 : n;
        ++count;
    }
    return count;
}

void Parser::append(std::string_view bytes) {
    if (failed_)
        return;
    // Drop consumed bytes before growing, so the buffer never holds more than one partial
    // instruction plus what just arrived.
    if (pos_ > 0 && pos_ >= buffer_.size() / 2) {
        buffer_.erase(0, pos_);
        pos_ = 0;
    }
    buffer_.append(bytes);
}

Parser::Status Parser::fail(std::string why) {
    failed_ = true;
    error_ = std::move(why);
    return Status::error;
}

Parser::Status Parser::next(Instruction& out) {
    if (failed_)
        return Status::error;
    Instruction parsed;
    size_t i = pos_;
    size_t elements = 0;
    const std::string_view buf(buffer_);
    while (true) {
        if (i - pos_ > limits_.max_instruction_bytes)
            return fail(
                fmt::format("instruction longer than {} bytes", limits_.max_instruction_bytes));
        // LENGTH
        size_t length = 0;
        size_t digits = 0;
        while (i < buf.size() && buf[i] >= '0' && buf[i] <= '9') {
            length = length * 10 + size_t(buf[i] - '0');
            ++i;
            if (++digits > kMaxLengthDigits)
                return fail("element length has too many digits");
        }
        if (i >= buf.size())
            break;  // need more
        if (digits == 0 || buf[i] != '.')
            return fail(fmt::format("expected a length and '.' at byte {}", i - pos_));
        ++i;
        if (length > limits_.max_element_codepoints)
            return fail(fmt::format("element of {} code points exceeds the limit of {}", length,
                                    limits_.max_element_codepoints));
        if (++elements > limits_.max_elements)
            return fail(fmt::format("more than {} elements", limits_.max_elements));
        // VALUE: `length` code points of valid UTF-8.
        const size_t value_start = i;
        size_t seen = 0;
        while (seen < length && i < buf.size()) {
            const auto lead = static_cast<unsigned char>(buf[i]);
            const size_t n = sequence_length(lead);
            if (n == 0)
                return fail("invalid UTF-8");
            if (i + n > buf.size())
                break;
            for (size_t k = 1; k < n; ++k) {
                if (!is_continuation(static_cast<unsigned char>(buf[i + k])))
                    return fail("invalid UTF-8");
            }
            i += n;
            ++seen;
        }
        if (seen < length || i >= buf.size()) {
            if (i - pos_ > limits_.max_instruction_bytes)
                return fail(
                    fmt::format("instruction longer than {} bytes", limits_.max_instruction_bytes));
            break;  // need more
        }
        std::string value(buf.substr(value_start, i - value_start));
        if (elements == 1)
            parsed.opcode = std::move(value);
        else
            parsed.args.push_back(std::move(value));
        const char terminator = buf[i++];
        if (terminator == ';') {
            pos_ = i;
            out = std::move(parsed);
            return Status::instruction;
        }
        if (terminator != ',')
            return fail(fmt::format("expected ',' or ';' after an element, got byte 0x{:02x}",
                                    static_cast<unsigned char>(terminator)));
    }
    return Status::need_more;
}

void append_instruction(std::string& out, std::string_view opcode,
                        const std::vector<std::string_view>& args) {
    auto element = [&out](std::string_view value) {
        out += std::to_string(codepoint_count(value));
        out += '.';
        out += value;
    };
    element(opcode);
    for (std::string_view a : args) {
        out += ',';
        element(a);
    }
    out += ';';
}

}  // namespace deskpod::guac
