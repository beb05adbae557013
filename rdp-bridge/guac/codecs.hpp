// Image encoders for Guacamole `img` streams, and base64 for `blob`s. Inputs are views of the
// desktop mirror (XRGB8888, bytes B,G,R,X) so nothing is converted or copied before encoding.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rdp-bridge/image/image_view.hpp"
#include "shared/geometry.hpp"

namespace deskpod::guac {

using Bytes = std::vector<uint8_t>;

// Lossless, for text and UI: a palette PNG when `rect` has at most 256 colours (text, flat UI:
// several times smaller), else 8-bit RGB (png_encoder.hpp says how each is tuned).
Bytes encode_png(const ImageView& image, const Rect& rect);

// How many distinct colours (ignoring the X byte) `rect` has, counting up to `limit`: a result
// above `limit` means "more than limit" (counting stops there, so photos cost little).
size_t count_colours(const ImageView& image, const Rect& rect, size_t limit);
// Lossy, for video-like and photographic regions.
Bytes encode_jpeg(const ImageView& image, const Rect& rect, int quality);
Bytes encode_webp(const ImageView& image, const Rect& rect, int quality);
// Lossless WebP: for small images (a few glyphs) it is about half the size of the smallest
// PNG, whose fixed chunks (signature, IHDR, PLTE, IDAT and IEND framing: about 75 bytes for
// two colours) outweigh the pixels.
Bytes encode_webp_lossless(const ImageView& image, const Rect& rect);

std::string base64_encode(const uint8_t* data, size_t size);
// Returns false on characters outside the base64 alphabet.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace deskpod::guac
