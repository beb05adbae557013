// Turns desktop damage into Guacamole drawing instructions for one client, libguac-style:
// - keeps a shadow of what the client shows, so damage that did not really change pixels
//   costs nothing, and compares in 64x64 cells;
// - finds content that moved vertically (scrolling) and sends it as one `copy`;
// - merges changed cells into rectangles and encodes each as PNG (text, UI) or, when the
//   client accepts them, JPEG/WebP (cells that change often, photo-like content);
// - writes `img` streams (`img`, `blob`s, `end`) into a string the caller sends.
// Network thread only; one per Guacamole user.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "rdp-bridge/image/image_view.hpp"
#include "shared/geometry.hpp"

namespace deskpod::guac {

struct ImageFormats {
    bool png = true;  // every Guacamole client decodes PNG
    bool jpeg = false;
    bool webp = false;
    static ImageFormats from_mimetypes(const std::vector<std::string>& mimetypes);
};

enum class Codec { png, jpeg, webp };

struct EncodeStats {
    size_t cells_changed = 0;
    size_t rects = 0;
    size_t png = 0, jpeg = 0, webp = 0;
    size_t copies = 0;
    size_t bytes = 0;
};

class DisplayEncoder {
  public:
    static constexpr int kCell = 64;

    explicit DisplayEncoder(ImageFormats formats) : formats_(formats) {}

    // The client's layer is (re)sized to width x height and its content is unknown: the next
    // encode sends every damaged cell.
    void reset(int32_t width, int32_t height);

    // Appends the instructions that bring the client's default layer up to date with `image`
    // inside `damage`. `now` drives the change-frequency heuristic.
    EncodeStats encode(
        const ImageView& image, const Region& damage, std::string& out,
        std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

    // Which codec a changed rectangle gets (exposed for tests).
    Codec choose_codec(const ImageView& image, const Rect& rect, bool hot) const;

    // Moves of at least this many rows are sent as `copy`.
    static constexpr int kMinCopyRows = 32;
    // A cell that changed this many times, each within kHotGap of the previous, is "hot".
    static constexpr int kHotChanges = 4;
    static constexpr std::chrono::milliseconds kHotGap{500};

  private:
    struct Cell {
        bool valid = false;   // the shadow holds what the client shows
        uint16_t streak = 0;  // consecutive changes, each soon after the previous
        std::chrono::steady_clock::time_point last_change{};
    };

    bool detect_scroll(const ImageView& image, const Rect& box, std::string& out,
                       EncodeStats& stats);
    void send_image(const ImageView& image, const Rect& rect, Codec codec, std::string& out,
                    EncodeStats& stats);

    ImageFormats formats_;
    int32_t width_ = 0, height_ = 0;
    int32_t cols_ = 0, rows_ = 0;
    std::vector<uint8_t> shadow_;  // XRGB8888, width_ * 4 stride
    std::vector<Cell> cells_;
    int next_stream_ = 0;
};

// Guacamole composite operation for opaque drawing (GUAC_COMP_OVER).
inline constexpr int kCompositeOver = 0xE;
// Replace destination including alpha (GUAC_COMP_SRC).
inline constexpr int kCompositeSrc = 0xC;

// Appends `img` + `blob`s + `end` for an encoded image on `layer`.
void append_image_stream(std::string& out, int stream, int mask, int layer,
                         std::string_view mimetype, int x, int y, const std::vector<uint8_t>& data);

}  // namespace deskpod::guac
