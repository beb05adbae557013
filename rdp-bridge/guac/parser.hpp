// The Guacamole instruction format: `LENGTH.VALUE,LENGTH.VALUE,...;` where each LENGTH counts
// Unicode code points (not bytes) of the UTF-8 VALUE that follows. The first element is the
// opcode. The parser is incremental (bytes arrive in arbitrary pieces from TCP or WebSocket) and
// enforces hard limits so a hostile client cannot make us buffer without bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace deskpod::guac {

struct Instruction {
    std::string opcode;
    std::vector<std::string> args;
};

struct ParserLimits {
    // guacd allows 128 elements and 8 KiB instructions; clipboard and file blobs from
    // guacamole-common-js are at most 8064 base64 characters, so 16 KiB leaves headroom.
    size_t max_elements = 128;
    size_t max_element_codepoints = 12 * 1024;
    size_t max_instruction_bytes = 16 * 1024;
};

class Parser {
  public:
    enum class Status { need_more, instruction, error };

    explicit Parser(ParserLimits limits = {}) : limits_(limits) {}

    // Appends received bytes. Cheap: parsing happens in next().
    void append(std::string_view bytes);
    // Parses the next complete instruction out of the buffered bytes. After `error`, the
    // parser stays in error (the connection must be closed) and error_message() says why.
    Status next(Instruction& out);
    const std::string& error_message() const { return error_; }
    // Bytes received but not yet consumed by a complete instruction.
    size_t buffered() const { return buffer_.size() - pos_; }

  private:
    Status fail(std::string why);

    ParserLimits limits_;
    std::string buffer_;
    size_t pos_ = 0;  // start of the instruction being parsed
    bool failed_ = false;
    std::string error_;
};

// Number of code points in valid UTF-8 (invalid bytes count as one each).
size_t codepoint_count(std::string_view utf8);

// Appends one encoded instruction to `out`.
void append_instruction(std::string& out, std::string_view opcode,
                        const std::vector<std::string_view>& args);
// Encodes one instruction; args may be strings, string_views or integers.
template <typename... Args>
std::string instruction(std::string_view opcode, const Args&... args);

// ---- implementation of the variadic helper ----
namespace detail {
inline std::string to_element(std::string_view s) {
    return std::string(s);
}
inline std::string to_element(const std::string& s) {
    return s;
}
inline std::string to_element(const char* s) {
    return s;
}
template <typename T>
requires std::is_integral_v<T> std::string to_element(T v) {
    return std::to_string(v);
}
}  // namespace detail

template <typename... Args>
std::string instruction(std::string_view opcode, const Args&... args) {
    const std::vector<std::string> owned{detail::to_element(args)...};
    std::vector<std::string_view> views(owned.begin(), owned.end());
    std::string out;
    append_instruction(out, opcode, views);
    return out;
}

}  // namespace deskpod::guac
