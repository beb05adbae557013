// What the fuzz targets share: reading typed values off the input, checking invariants, and
// logging turned down so a run measures parsing rather than log lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "shared/channels.hpp"
#include "shared/log.hpp"

namespace deskpod::fuzz {

// Reads values off the front of a fuzz input; past its end every value is zero or empty.
class Input {
  public:
    Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    bool empty() const { return pos_ >= size_; }
    size_t remaining() const { return size_ - pos_; }
    uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
    uint16_t u16() {
        const uint16_t lo = u8();
        return uint16_t(lo | uint16_t(u8()) << 8);
    }
    uint32_t u32() {
        const uint32_t lo = u16();
        return lo | uint32_t(u16()) << 16;
    }
    bool flag() { return (u8() & 1) != 0; }
    // The next `n` bytes (fewer at the end).
    std::string_view bytes(size_t n) {
        n = std::min(n, remaining());
        const std::string_view out(reinterpret_cast<const char*>(data_) + pos_, n);
        pos_ += n;
        return out;
    }
    // A length byte, then that many bytes.
    std::string_view short_string() { return bytes(u8()); }
    std::string_view rest() { return bytes(remaining()); }

  private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

[[noreturn]] inline void violated(const char* what, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, what);
    std::abort();
}

// Only errors are logged: a fuzz run would spend its time writing warnings.
inline void quiet_logs() {
    static const bool done = [] {
        log::init(LogLevel::error, LogFormat::text);
        return true;
    }();
    (void)done;
}

// The channels to the compositor, drained, shared by every run: their queues preallocate
// thousands of slots, which would otherwise be most of a run's time.
inline Channels& drained_channels() {
    static Channels channels;
    DesktopRequest request;
    while (channels.to_compositor.try_pop(request)) {
    }
    DesktopEvent event;
    while (channels.to_bridge.try_pop(event)) {
    }
    return channels;
}

// Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
inline bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto c = uint8_t(s[i]);
        size_t n = 0;
        uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t k = 1; k <= n; ++k) {
            if (i + k >= s.size() || (uint8_t(s[i + k]) & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (uint8_t(s[i + k]) & 0x3F);
        }
        static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
        if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

}  // namespace deskpod::fuzz

#define FUZZ_CHECK(cond)                                          \
    do {                                                          \
        if (!(cond))                                              \
            ::deskpod::fuzz::violated(#cond, __FILE__, __LINE__); \
    } while (0)
