// Conversions between Windows clipboard formats (what CLIPRDR carries) and the mime types of
// the desktop's selection. Pure functions over bytes; every parser here takes untrusted input
// from a remote client or a desktop app and is fuzzed (tests/fuzz/).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deskpod::clipformat {

using Bytes = std::vector<uint8_t>;

// ---- text ----
// CF_UNICODETEXT: UTF-16LE, NUL-terminated, CRLF line ends. Decoding stops at the first NUL
// and replaces unpaired surrogates with U+FFFD; the result has LF line ends.
std::string utf8_from_unicodetext(const uint8_t* data, size_t size);
Bytes unicodetext_from_utf8(std::string_view utf8);
// CF_TEXT / CF_OEMTEXT: one byte per character, NUL-terminated, CRLF. Read as Windows-1252
// (Latin-1 for the bytes it leaves undefined); written as Latin-1 with '?' for the rest.
std::string utf8_from_ansitext(const uint8_t* data, size_t size);
Bytes ansitext_from_utf8(std::string_view utf8);

std::string crlf_to_lf(std::string_view text);
std::string lf_to_crlf(std::string_view text);

// ---- HTML ("HTML Format", CF_HTML) ----
// CF_HTML is UTF-8 with a header of byte offsets (Version, StartHTML, EndHTML, StartFragment,
// EndFragment). Returns the HTML document between StartHTML and EndHTML (the fragment when
// StartHTML is -1), or nothing when the header is malformed or its offsets are out of range.
std::optional<std::string> html_from_cf_html(const uint8_t* data, size_t size);
// Wraps an HTML document (or fragment) with a valid header; the whole input is the fragment.
std::string cf_html_from_html(std::string_view html);

// ---- images ----
// CF_DIB / CF_DIBV5: a BITMAPINFOHEADER (40 bytes) or BITMAPV4/V5HEADER (108/124 bytes),
// optional masks/palette, then pixels. Supported: 1, 4, 8 bpp with palette, 16 bpp (555 or
// bitfields), 24 bpp, 32 bpp (BI_RGB or BI_BITFIELDS), bottom-up or top-down, uncompressed.
// Returns PNG bytes, or nothing for anything malformed, unsupported or larger than
// `max_pixels`.
std::optional<Bytes> png_from_dib(const uint8_t* data, size_t size,
                                  uint64_t max_pixels = 64ull * 1024 * 1024);
// PNG to a 32 bpp bottom-up DIB. `v5`: a BITMAPV5HEADER with alpha mask (CF_DIBV5), else a
// BITMAPINFOHEADER (CF_DIB, alpha kept in the fourth byte as Windows apps expect).
std::optional<Bytes> dib_from_png(const uint8_t* data, size_t size, bool v5,
                                  uint64_t max_pixels = 64ull * 1024 * 1024);

}  // namespace deskpod::clipformat
