// Turns desktop damage into Guacamole drawing instructions for one client. It keeps a shadow of
// what the client shows, so damage that did not really change pixels costs nothing, and per
// frame:
// 1. a vertical move inside the damaged area (scrolling; the search is the RDP graphics
//    pipeline's, rdp/gfx/scroll.hpp), or else a horizontal one, becomes one `copy` the
//    client makes itself;
// 2. what is left changed is found as exact rectangles (changed_rects.hpp: 64x64 cells shrunk
//    to their differing pixels, neighbours merged);
// 3. each rectangle goes out as the cheapest exact form that fits: one colour as `rect` +
//    `cfill`; content the client holds in one of its off-screen buffers (it was seen before)
//    as a `copy` from there; few colours (text, UI, flat drawing) as a palette PNG however
//    often it changes; many colours that change often (video, photos moving) as JPEG or WebP
//    when the client accepts them, sent again as PNG once they have been still for kSettle.
// Everything but a lossy image leaves the client's picture equal to the desktop's pixels.
// Writes into a string the caller sends. Network thread only; one per Guacamole user.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "rdp-bridge/image/image_view.hpp"
#include "rdp-bridge/rdp/gfx/tile_cache.hpp"
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
    size_t rects = 0;                   // images sent (png + webp_lossless + jpeg + webp)
    size_t png = 0, webp_lossless = 0;  // exact
    size_t jpeg = 0, webp = 0;          // lossy
    size_t fills = 0;                   // one-colour rectangles (`rect` + `cfill`)
    size_t copies = 0;                  // scrolls (`copy` within the visible layer)
    size_t cache_hits = 0;              // rectangles copied from an off-screen buffer
    size_t cached = 0;                  // rectangles stored into an off-screen buffer
    size_t refined = 0;                 // lossy areas sent again losslessly
    size_t patches = 0;                 // rectangles copied from the line above, then corrected
    size_t bytes = 0;
};

class DisplayEncoder {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr int kCell = 64;

    explicit DisplayEncoder(ImageFormats formats);

    // The client's layer is (re)sized to width x height and its content is unknown: the next
    // encode sends every damaged cell. The off-screen buffers survive: they are the client's.
    void reset(int32_t width, int32_t height);

    // Appends the instructions that bring the client's default layer up to date with `image`
    // inside `damage`, and refines lossy areas that have settled by `now`. `now` also drives
    // the change-frequency heuristic.
    EncodeStats encode(const ImageView& image, const Region& damage, std::string& out,
                       Clock::time_point now = Clock::now());

    // Which codec a changed rectangle gets (exposed for tests): PNG unless it changes often
    // (`hot`), is not small, has more colours than a palette holds, and the client takes a
    // lossy format.
    Codec choose_codec(const ImageView& image, const Rect& rect, bool hot) const;

    // Where the client shows a lossy approximation today.
    const Region& lossy() const { return lossy_; }
    // When the first lossy area will have been still for kSettle (the caller then encodes
    // again, damage or not, so that it is refined); nothing when no area is lossy.
    std::optional<Clock::time_point> refine_due() const;

    // Moves of at least this many rows are sent as `copy`.
    static constexpr int kMinCopyRows = 32;
    // A cell that changed this many times, each within kHotGap of the previous, is "hot".
    static constexpr int kHotChanges = 4;
    static constexpr std::chrono::milliseconds kHotGap{500};
    // A lossy area unchanged for this long is sent again as PNG.
    static constexpr std::chrono::milliseconds kSettle{300};
    // Two changed boxes merge when their bounding box wastes at most this many pixels: about
    // what a separate image costs in headers.
    static constexpr int64_t kMergeSlack = 1024;
    // Lossy only from this area on, and for more colours than a PNG palette holds.
    static constexpr int64_t kLossyMinArea = 32 * 32;
    static constexpr size_t kPhotoColours = 256;
    // Exact images up to this area are also encoded as lossless WebP when the client takes
    // WebP, and the smaller one is sent; larger ones stay PNG (libwebp's lossless encoder is
    // several times slower than libpng's, and the headers it saves matter less).
    static constexpr int64_t kWebpLosslessMaxArea = 128 * 128;
    // Off-screen buffers: content seen twice is kept in one (buffer layers -2, -3, ...; -1 is
    // the cursor) and sent as a copy from there the next times. Bounded: kCacheEntries
    // buffers of at most kCacheMaxArea pixels each (4 MB of client memory). From
    // kCacheMinArea on (part of a glyph): a `copy` from a buffer is about 50 bytes, the
    // smallest image stream about 130.
    static constexpr size_t kCacheEntries = 64;
    static constexpr int64_t kCacheMinArea = 32;
    static constexpr int64_t kCacheMaxArea = 128 * 128;
    static constexpr int kFirstCacheLayer = -2;
    // A changed rectangle up to this height and area is also tried as a copy of the
    // rectangle one text line above it (the last scroll's distance, or its own height) plus
    // the differences, found in pieces this wide.
    static constexpr int32_t kPatchMaxHeight = 64;
    static constexpr int64_t kPatchMaxArea = 64 * 1024;
    static constexpr int32_t kPatchPiece = 16;
    // How many rectangles' content hashes are remembered to recognise a second sighting.
    static constexpr size_t kSeenEntries = 4096;

  private:
    struct Cell {
        bool valid = false;   // the shadow holds what the client shows
        uint16_t streak = 0;  // consecutive changes, each soon after the previous
        Clock::time_point last_change{};
    };

    ImageView shadow_view() const;
    bool try_scroll(const ImageView& image, const Rect& box, std::string& out, EncodeStats& stats);
    // `copy` within the visible layer, and the same move in the shadow.
    void copy_within(const Rect& src, int32_t dst_x, int32_t dst_y, std::string& out,
                     EncodeStats& stats);
    // Sends `rect` of `image` in its cheapest exact form (or lossy when `hot` and photo-like).
    // `frame` is every rectangle this frame sends.
    void send_rect(const ImageView& image, const Rect& rect, bool hot,
                   const std::vector<Rect>& frame, std::string& out, EncodeStats& stats);
    // New text that mostly repeats the line above it (numbered output, log lines, a table's
    // rows): sends `rect` as a `copy` of that line plus what differs, or whole, whichever is
    // smaller. False when no line above qualifies (nothing was sent).
    bool try_patch(const ImageView& image, const Rect& rect, const std::vector<Rect>& frame,
                   std::string& out, EncodeStats& stats);
    void send_image(const ImageView& image, const Rect& rect, Codec codec, std::string& out,
                    EncodeStats& stats);
    // Whether content of this size goes into the off-screen buffers.
    static bool cacheable(const Rect& rect);
    // Content `key` was just drawn at `rect` of the visible layer: keeps it in a buffer if it
    // was seen before.
    void remember(uint64_t key, const Rect& rect, std::string& out, EncodeStats& stats);
    void refine(Clock::time_point now, std::string& out, EncodeStats& stats);
    // The cells `rect` touches.
    template <typename F>
    void for_each_cell(const Rect& rect, F&& f);
    template <typename F>
    void for_each_cell(const Rect& rect, F&& f) const;

    ImageFormats formats_;
    int32_t width_ = 0, height_ = 0;
    int32_t cols_ = 0, rows_ = 0;
    std::vector<uint8_t> shadow_;  // XRGB8888, width_ * 4 stride
    std::vector<Cell> cells_;
    Region lossy_;
    TileCache cache_{kCacheEntries};
    std::unordered_set<uint64_t> seen_;
    std::deque<uint64_t> seen_order_;
    int next_stream_ = 0;
    int32_t line_pitch_ = 0;  // rows the last vertical scroll moved by
};

// Guacamole composite operation for opaque drawing (GUAC_COMP_OVER).
inline constexpr int kCompositeOver = 0xE;
// Replace destination including alpha (GUAC_COMP_SRC).
inline constexpr int kCompositeSrc = 0xC;

// Appends `img` + `blob`s + `end` for an encoded image on `layer`.
void append_image_stream(std::string& out, int stream, int mask, int layer,
                         std::string_view mimetype, int x, int y, const std::vector<uint8_t>& data);

}  // namespace deskpod::guac
