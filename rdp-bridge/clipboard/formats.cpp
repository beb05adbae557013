#include "rdp-bridge/clipboard/formats.hpp"

#include "rdp-bridge/image/png_encoder.hpp"

#include <png.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace deskpod::clipformat {
namespace {

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

// Decodes one code point from UTF-8 at `i` (advancing it); invalid sequences give U+FFFD
// and consume one byte, so garbage never stalls or overreads.
uint32_t next_codepoint(std::string_view s, size_t& i) {
    const auto b0 = uint8_t(s[i]);
    auto cont = [&](size_t k) { return i + k < s.size() && (uint8_t(s[i + k]) & 0xC0) == 0x80; };
    if (b0 < 0x80) {
        i += 1;
        return b0;
    }
    if ((b0 & 0xE0) == 0xC0 && cont(1)) {
        const uint32_t cp = (uint32_t(b0 & 0x1F) << 6) | (uint8_t(s[i + 1]) & 0x3F);
        i += 2;
        return cp >= 0x80 ? cp : 0xFFFD;
    }
    if ((b0 & 0xF0) == 0xE0 && cont(1) && cont(2)) {
        const uint32_t cp = (uint32_t(b0 & 0x0F) << 12) |
                            (uint32_t(uint8_t(s[i + 1]) & 0x3F) << 6) | (uint8_t(s[i + 2]) & 0x3F);
        i += 3;
        return cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF) ? cp : 0xFFFD;
    }
    if ((b0 & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
        const uint32_t cp = (uint32_t(b0 & 0x07) << 18) |
                            (uint32_t(uint8_t(s[i + 1]) & 0x3F) << 12) |
                            (uint32_t(uint8_t(s[i + 2]) & 0x3F) << 6) | (uint8_t(s[i + 3]) & 0x3F);
        i += 4;
        return cp >= 0x10000 && cp <= 0x10FFFF ? cp : 0xFFFD;
    }
    i += 1;
    return 0xFFFD;
}

// Windows-1252's 0x80-0x9F; 0 where it defines nothing (read as Latin-1 control codes).
constexpr std::array<uint16_t, 32> kCp1252High = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

uint16_t le16(const uint8_t* p) {
    return uint16_t(p[0] | (p[1] << 8));
}
uint32_t le32(const uint8_t* p) {
    return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}
void put16(Bytes& out, uint16_t v) {
    out.push_back(uint8_t(v));
    out.push_back(uint8_t(v >> 8));
}
void put32(Bytes& out, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out.push_back(uint8_t(v >> (8 * i)));
}

}  // namespace

// ---- text ----------------------------------------------------------------------------------

std::string crlf_to_lf(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
            continue;
        out += text[i];
    }
    return out;
}

std::string lf_to_crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32);
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
            out += '\r';
        out += text[i];
    }
    return out;
}

std::string utf8_from_unicodetext(const uint8_t* data, size_t size) {
    std::string out;
    out.reserve(size / 2);
    for (size_t i = 0; i + 1 < size; i += 2) {
        uint32_t unit = le16(data + i);
        if (unit == 0)
            break;
        if (unit >= 0xD800 && unit <= 0xDBFF) {
            if (i + 3 < size) {
                const uint32_t low = le16(data + i + 2);
                if (low >= 0xDC00 && low <= 0xDFFF) {
                    append_utf8(out, 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00));
                    i += 2;
                    continue;
                }
            }
            unit = 0xFFFD;
        } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
            unit = 0xFFFD;
        }
        append_utf8(out, unit);
    }
    return crlf_to_lf(out);
}

Bytes unicodetext_from_utf8(std::string_view utf8) {
    const std::string text = lf_to_crlf(utf8);
    Bytes out;
    out.reserve(text.size() * 2 + 2);
    for (size_t i = 0; i < text.size();) {
        const uint32_t cp = next_codepoint(text, i);
        if (cp == 0)
            break;  // CF_UNICODETEXT ends at the first NUL
        if (cp >= 0x10000) {
            put16(out, uint16_t(0xD800 + ((cp - 0x10000) >> 10)));
            put16(out, uint16_t(0xDC00 + ((cp - 0x10000) & 0x3FF)));
        } else {
            put16(out, uint16_t(cp));
        }
    }
    put16(out, 0);
    return out;
}

std::string utf8_from_ansitext(const uint8_t* data, size_t size) {
    std::string out;
    out.reserve(size);
    for (size_t i = 0; i < size && data[i] != 0; ++i) {
        const uint8_t b = data[i];
        uint32_t cp = b;
        if (b >= 0x80 && b < 0xA0 && kCp1252High[b - 0x80] != 0)
            cp = kCp1252High[b - 0x80];
        append_utf8(out, cp);
    }
    return crlf_to_lf(out);
}

Bytes ansitext_from_utf8(std::string_view utf8) {
    const std::string text = lf_to_crlf(utf8);
    Bytes out;
    out.reserve(text.size() + 1);
    for (size_t i = 0; i < text.size();) {
        const uint32_t cp = next_codepoint(text, i);
        if (cp == 0)
            break;
        out.push_back(cp < 0x100 ? uint8_t(cp) : uint8_t('?'));
    }
    out.push_back(0);
    return out;
}

// ---- HTML ----------------------------------------------------------------------------------

namespace {
// Reads "Name:<digits>" from the header (digits may be -1); nullopt when absent or bad.
std::optional<int64_t> header_field(std::string_view header, std::string_view name) {
    size_t at = 0;
    for (;;) {
        at = header.find(name, at);
        if (at == std::string_view::npos)
            return std::nullopt;
        // A field starts a line.
        if (at == 0 || header[at - 1] == '\n' || header[at - 1] == '\r')
            break;
        at += name.size();
    }
    size_t i = at + name.size();
    if (i >= header.size() || header[i] != ':')
        return std::nullopt;
    ++i;
    bool negative = false;
    if (i < header.size() && header[i] == '-') {
        negative = true;
        ++i;
    }
    int64_t value = 0;
    size_t digits = 0;
    while (i < header.size() && header[i] >= '0' && header[i] <= '9' && digits < 12) {
        value = value * 10 + (header[i] - '0');
        ++i;
        ++digits;
    }
    if (digits == 0)
        return std::nullopt;
    return negative ? -value : value;
}
}  // namespace

std::optional<std::string> html_from_cf_html(const uint8_t* data, size_t size) {
    // Real payloads may be NUL-terminated; offsets never point past the terminator.
    size_t length = 0;
    while (length < size && data[length] != 0)
        ++length;
    const std::string_view text(reinterpret_cast<const char*>(data), length);
    // The header is ASCII and short; looking only at its first kilobyte bounds the search.
    const std::string_view header = text.substr(0, std::min<size_t>(text.size(), 1024));
    if (!header_field(header, "Version"))
        return std::nullopt;
    auto start = header_field(header, "StartHTML");
    auto end = header_field(header, "EndHTML");
    if (!start || !end || *start < 0 || *end < 0) {
        start = header_field(header, "StartFragment");
        end = header_field(header, "EndFragment");
    }
    if (!start || !end || *start < 0 || *end < *start || uint64_t(*end) > text.size()) {
        return std::nullopt;
    }
    return std::string(text.substr(size_t(*start), size_t(*end - *start)));
}

std::string cf_html_from_html(std::string_view html) {
    // Fixed-width offsets, so the header's length does not depend on the values in it.
    static constexpr const char* kHeader =
        "Version:0.9\r\nStartHTML:%010zu\r\nEndHTML:%010zu\r\nStartFragment:%010zu\r\n"
        "EndFragment:%010zu\r\n";
    static constexpr std::string_view kBefore = "<html><body>\r\n<!--StartFragment-->";
    static constexpr std::string_view kAfter = "<!--EndFragment-->\r\n</body></html>";
    char probe[160];
    const int header_len =
        std::snprintf(probe, sizeof probe, kHeader, size_t(0), size_t(0), size_t(0), size_t(0));
    const size_t start_html = size_t(header_len);
    const size_t start_fragment = start_html + kBefore.size();
    const size_t end_fragment = start_fragment + html.size();
    const size_t end_html = end_fragment + kAfter.size();
    std::snprintf(probe, sizeof probe, kHeader, start_html, end_html, start_fragment, end_fragment);
    std::string out(probe, size_t(header_len));
    out.reserve(end_html + 1);
    out += kBefore;
    out += html;
    out += kAfter;
    return out;
}

// ---- images --------------------------------------------------------------------------------

namespace {

constexpr uint32_t kBiRgb = 0, kBiBitfields = 3, kBiAlphaBitfields = 6;

// Scales a masked channel value to 8 bits.
uint8_t channel(uint32_t pixel, uint32_t mask) {
    if (mask == 0)
        return 0;
    const int shift = std::countr_zero(mask);
    const uint32_t bits = std::popcount(mask);
    const uint32_t v = (pixel & mask) >> shift;
    const uint32_t max = bits >= 32 ? 0xFFFFFFFFu : (1u << bits) - 1;
    return uint8_t((uint64_t(v) * 255 + max / 2) / max);
}

bool contiguous(uint32_t mask) {
    if (mask == 0)
        return true;
    const uint32_t shifted = mask >> std::countr_zero(mask);
    return (shifted & (shifted + 1)) == 0;
}

std::optional<Bytes> encode_png(const std::vector<uint8_t>& rgba, uint32_t width, uint32_t height) {
    try {
        return encode_png_rgba(rgba.data(), int(width), int(height));
    } catch (const std::runtime_error&) {
        return std::nullopt;
    }
}

}  // namespace

std::optional<Bytes> png_from_dib(const uint8_t* data, size_t size, uint64_t max_pixels) {
    if (size < 40)
        return std::nullopt;
    const uint32_t header_size = le32(data);
    if (header_size != 40 && header_size != 52 && header_size != 56 && header_size != 108 &&
        header_size != 124) {
        return std::nullopt;
    }
    if (header_size > size)
        return std::nullopt;
    const int32_t raw_width = int32_t(le32(data + 4));
    const int32_t raw_height = int32_t(le32(data + 8));
    const uint16_t planes = le16(data + 12);
    const uint16_t bpp = le16(data + 14);
    const uint32_t compression = le32(data + 16);
    uint32_t colors_used = le32(data + 32);
    if (planes != 1 || raw_width <= 0 || raw_height == 0 ||
        raw_height == std::numeric_limits<int32_t>::min()) {
        return std::nullopt;
    }
    const bool top_down = raw_height < 0;
    const uint64_t width = uint64_t(raw_width);
    const uint64_t height = uint64_t(top_down ? -int64_t(raw_height) : raw_height);
    if (width * height > max_pixels || width > 65535 || height > 65535)
        return std::nullopt;

    size_t offset = header_size;
    uint32_t masks[4] = {0, 0, 0, 0};  // r, g, b, a
    bool has_alpha_mask = false;
    if (compression == kBiBitfields || compression == kBiAlphaBitfields) {
        if (bpp != 16 && bpp != 32)
            return std::nullopt;
        if (header_size >= 52) {
            // V2+/V4/V5 headers carry the masks inside themselves.
            for (int i = 0; i < 3; ++i)
                masks[i] = le32(data + 40 + 4 * i);
            if (header_size >= 56) {
                masks[3] = le32(data + 52);
                has_alpha_mask = masks[3] != 0;
            }
        } else {
            const size_t count = compression == kBiAlphaBitfields ? 4 : 3;
            if (size < offset + 4 * count)
                return std::nullopt;
            for (size_t i = 0; i < count; ++i)
                masks[i] = le32(data + offset + 4 * i);
            has_alpha_mask = count == 4 && masks[3] != 0;
            offset += 4 * count;
        }
    } else if (compression == kBiRgb) {
        if (bpp == 16) {
            masks[0] = 0x7C00, masks[1] = 0x03E0, masks[2] = 0x001F;
        } else if (bpp == 32) {
            masks[0] = 0x00FF0000, masks[1] = 0x0000FF00, masks[2] = 0x000000FF;
            masks[3] = 0xFF000000;
            has_alpha_mask = header_size >= 56;  // V3+ headers: alpha is meaningful
        }
    } else {
        return std::nullopt;  // RLE and embedded JPEG/PNG are not accepted from the wire
    }
    for (uint32_t m : masks) {
        if (!contiguous(m))
            return std::nullopt;
    }

    std::vector<std::array<uint8_t, 4>> palette;
    if (bpp <= 8) {
        if (bpp != 1 && bpp != 4 && bpp != 8)
            return std::nullopt;
        const uint32_t max_colors = 1u << bpp;
        if (colors_used == 0 || colors_used > max_colors)
            colors_used = max_colors;
        if (size < offset + 4ull * colors_used)
            return std::nullopt;
        for (uint32_t i = 0; i < colors_used; ++i) {
            const uint8_t* q = data + offset + 4 * i;
            palette.push_back({q[2], q[1], q[0], 255});
        }
        offset += 4ull * colors_used;
    } else if (bpp != 16 && bpp != 24 && bpp != 32) {
        return std::nullopt;
    }

    const uint64_t stride = ((width * bpp + 31) / 32) * 4;
    if (offset > size || stride * height > size - offset)
        return std::nullopt;
    const uint8_t* pixels = data + offset;

    std::vector<uint8_t> rgba(size_t(width * height * 4));
    bool any_alpha = false;
    for (uint64_t y = 0; y < height; ++y) {
        const uint8_t* row = pixels + stride * (top_down ? y : height - 1 - y);
        uint8_t* out = rgba.data() + y * width * 4;
        for (uint64_t x = 0; x < width; ++x, out += 4) {
            if (bpp <= 8) {
                const uint64_t bit = x * bpp;
                const uint8_t byte = row[bit / 8];
                const uint32_t index = (byte >> (8 - bpp - bit % 8)) & ((1u << bpp) - 1);
                const auto c =
                    index < palette.size() ? palette[index] : std::array<uint8_t, 4>{0, 0, 0, 255};
                std::memcpy(out, c.data(), 4);
                continue;
            }
            if (bpp == 24) {
                const uint8_t* p = row + x * 3;
                out[0] = p[2], out[1] = p[1], out[2] = p[0], out[3] = 255;
                continue;
            }
            const uint32_t pixel = bpp == 16 ? le16(row + x * 2) : le32(row + x * 4);
            out[0] = channel(pixel, masks[0]);
            out[1] = channel(pixel, masks[1]);
            out[2] = channel(pixel, masks[2]);
            out[3] = masks[3] ? channel(pixel, masks[3]) : 255;
            any_alpha = any_alpha || out[3] != 0;
        }
    }
    // Plain 32 bpp DIBs usually leave the fourth byte zero: an all-transparent image is
    // really an opaque one.
    if ((bpp == 16 || bpp == 32) && (!has_alpha_mask || !any_alpha)) {
        for (size_t i = 3; i < rgba.size(); i += 4)
            rgba[i] = 255;
    }
    return encode_png(rgba, uint32_t(width), uint32_t(height));
}

std::optional<Bytes> dib_from_png(const uint8_t* data, size_t size, bool v5, uint64_t max_pixels) {
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        png_image_free(&image);
        return std::nullopt;
    }
    if (uint64_t(image.width) * image.height > max_pixels || image.width > 65535 ||
        image.height > 65535 || image.width == 0 || image.height == 0) {
        png_image_free(&image);
        return std::nullopt;
    }
    image.format = PNG_FORMAT_BGRA;
    const uint32_t width = image.width, height = image.height;
    std::vector<uint8_t> bgra(size_t(width) * height * 4);
    if (!png_image_finish_read(&image, nullptr, bgra.data(), 0, nullptr)) {
        png_image_free(&image);
        return std::nullopt;
    }
    const uint32_t header_size = v5 ? 124 : 40;
    const uint32_t image_size = width * height * 4;
    Bytes out;
    out.reserve(header_size + image_size);
    put32(out, header_size);
    put32(out, width);
    put32(out, height);  // positive: bottom-up, the form every Windows app reads
    put16(out, 1);
    put16(out, 32);
    put32(out, v5 ? kBiBitfields : kBiRgb);
    put32(out, image_size);
    put32(out, 2835);  // 72 dpi
    put32(out, 2835);
    put32(out, 0);
    put32(out, 0);
    if (v5) {
        put32(out, 0x00FF0000);
        put32(out, 0x0000FF00);
        put32(out, 0x000000FF);
        put32(out, 0xFF000000);
        put32(out, 0x73524742);  // LCS_sRGB
        for (int i = 0; i < 9 + 3; ++i)
            put32(out, 0);  // endpoints, gamma
        put32(out, 4);      // LCS_GM_IMAGES
        put32(out, 0);      // profile data
        put32(out, 0);      // profile size
        put32(out, 0);      // reserved
    }
    for (uint32_t y = 0; y < height; ++y) {
        const uint8_t* row = bgra.data() + size_t(height - 1 - y) * width * 4;
        out.insert(out.end(), row, row + size_t(width) * 4);
    }
    return out;
}

}  // namespace deskpod::clipformat
