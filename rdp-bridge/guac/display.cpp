#include "rdp-bridge/guac/display.hpp"

#include <algorithm>
#include <climits>
#include <cstring>

#define XXH_INLINE_ALL  // one short call per rectangle
#include <xxhash.h>

#include "rdp-bridge/guac/changed_rects.hpp"
#include "rdp-bridge/guac/codecs.hpp"
#include "rdp-bridge/guac/parser.hpp"
#include "rdp-bridge/rdp/gfx/scroll.hpp"
#include "rdp-bridge/rdp/gfx/tile_diff.hpp"

namespace deskpod::guac {

namespace {

// guacd's blob size: a blob of 6048 bytes is 8064 base64 characters, well inside every
// client's instruction limit.
constexpr size_t kBlobBytes = 6048;
// Quality of lossy regions: what guacd uses for JPEG; text in a hot region stays readable.
constexpr int kLossyQuality = 80;
// Streams cycle through a few indices; a client frees each at `end`.
constexpr int kStreamCount = 64;

// The content of `rect` with its size: equal keys, equal pixels (64-bit XXH3, as the RDP
// pipeline's tile cache; the X byte is part of the hash, which only costs a miss).
uint64_t content_key(const ImageView& image, const Rect& rect) {
    XXH3_state_t state;
    XXH3_INITSTATE(&state);  // as xxhash.h asks for a state on the stack
    XXH3_64bits_reset_withSeed(&state,
                               (uint64_t(uint32_t(rect.width)) << 32) | uint32_t(rect.height));
    for (int32_t y = rect.y; y < rect.y + rect.height; ++y)
        XXH3_64bits_update(&state,
                           image.pixels + size_t(y) * size_t(image.stride) + size_t(rect.x) * 4,
                           size_t(rect.width) * 4);
    return XXH3_64bits_digest(&state);
}

bool intersects(const Region& region, const Rect& rect) {
    Region part = region;
    part.clip(rect);
    return !part.empty();
}

bool overlaps(const Rect& a, const Rect& b) {
    return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height &&
           b.y < a.y + a.height;
}

}  // namespace

ImageFormats ImageFormats::from_mimetypes(const std::vector<std::string>& mimetypes) {
    ImageFormats f;
    for (const auto& m : mimetypes) {
        if (m == "image/jpeg")
            f.jpeg = true;
        if (m == "image/webp")
            f.webp = true;
    }
    return f;
}

void append_image_stream(std::string& out, int stream, int mask, int layer,
                         std::string_view mimetype, int x, int y,
                         const std::vector<uint8_t>& data) {
    out += instruction("img", stream, mask, layer, mimetype, x, y);
    for (size_t off = 0; off < data.size(); off += kBlobBytes) {
        const size_t n = std::min(kBlobBytes, data.size() - off);
        out += instruction("blob", stream, base64_encode(data.data() + off, n));
    }
    out += instruction("end", stream);
}

DisplayEncoder::DisplayEncoder(ImageFormats formats) : formats_(formats) {}

void DisplayEncoder::reset(int32_t width, int32_t height) {
    width_ = width;
    height_ = height;
    cols_ = (width + kCell - 1) / kCell;
    rows_ = (height + kCell - 1) / kCell;
    shadow_.assign(size_t(width) * size_t(height) * 4, 0);
    cells_.assign(size_t(cols_) * size_t(rows_), Cell{});
    lossy_.clear();
}

ImageView DisplayEncoder::shadow_view() const {
    return ImageView{shadow_.data(), width_, height_, width_ * 4};
}

template <typename F>
void DisplayEncoder::for_each_cell(const Rect& rect, F&& f) {
    for (int cy = rect.y / kCell; cy <= (rect.y + rect.height - 1) / kCell; ++cy)
        for (int cx = rect.x / kCell; cx <= (rect.x + rect.width - 1) / kCell; ++cx)
            f(cx, cy, cells_[size_t(cy * cols_ + cx)]);
}

template <typename F>
void DisplayEncoder::for_each_cell(const Rect& rect, F&& f) const {
    for (int cy = rect.y / kCell; cy <= (rect.y + rect.height - 1) / kCell; ++cy)
        for (int cx = rect.x / kCell; cx <= (rect.x + rect.width - 1) / kCell; ++cx)
            f(cx, cy, cells_[size_t(cy * cols_ + cx)]);
}

Codec DisplayEncoder::choose_codec(const ImageView& image, const Rect& rect, bool hot) const {
    const bool lossy_ok = formats_.jpeg || formats_.webp;
    // Lossy pays only where PNG is expensive and exactness is soon restored: content with
    // more colours than a palette holds (photos, video, gradients) that keeps changing. Text
    // and flat colours stay exact even when they change every frame: their palette PNGs are
    // small, and lossy ones would be both larger and blurred.
    if (!lossy_ok || !hot || rect.area() < kLossyMinArea)
        return Codec::png;
    if (count_colours(image, rect, kPhotoColours) <= kPhotoColours)
        return Codec::png;
    // JPEG first: libjpeg-turbo is about ten times faster than libwebp for the same size,
    // and hot regions are by definition re-encoded often.
    return formats_.jpeg ? Codec::jpeg : Codec::webp;
}

std::optional<DisplayEncoder::Clock::time_point> DisplayEncoder::refine_due() const {
    std::optional<Clock::time_point> due;
    for (const Rect& r : lossy_.rects()) {
        Clock::time_point last{};
        for_each_cell(r,
                      [&](int, int, const Cell& cell) { last = std::max(last, cell.last_change); });
        if (!due || last + kSettle < *due)
            due = last + kSettle;
    }
    return due;
}

void DisplayEncoder::send_image(const ImageView& image, const Rect& rect, Codec codec,
                                std::string& out, EncodeStats& stats) {
    std::vector<uint8_t> data;
    std::string_view mimetype;
    switch (codec) {
        case Codec::png:
            data = encode_png(image, rect);
            mimetype = "image/png";
            if (formats_.webp && rect.area() <= kWebpLosslessMaxArea) {
                Bytes webp = encode_webp_lossless(image, rect);
                if (webp.size() < data.size()) {
                    data = std::move(webp);
                    mimetype = "image/webp";
                    ++stats.webp_lossless;
                    break;
                }
            }
            ++stats.png;
            break;
        case Codec::jpeg:
            data = encode_jpeg(image, rect, kLossyQuality);
            mimetype = "image/jpeg";
            ++stats.jpeg;
            break;
        case Codec::webp:
            data = encode_webp(image, rect, kLossyQuality);
            mimetype = "image/webp";
            ++stats.webp;
            break;
    }
    next_stream_ = next_stream_ % kStreamCount + 1;
    append_image_stream(out, next_stream_, kCompositeOver, 0, mimetype, rect.x, rect.y, data);
    ++stats.rects;
}

void DisplayEncoder::send_rect(const ImageView& image, const Rect& rect, bool hot,
                               const std::vector<Rect>& frame, std::string& out,
                               EncodeStats& stats) {
    uint32_t colour = 0;
    if (uniform_tile(image, rect, colour)) {
        out += instruction("rect", 0, rect.x, rect.y, rect.width, rect.height);
        out += instruction("cfill", kCompositeOver, 0, (colour >> 16) & 0xFF, (colour >> 8) & 0xFF,
                           colour & 0xFF, 255);
        ++stats.fills;
        lossy_.subtract(Region(rect));
        return;
    }
    const bool cacheable = DisplayEncoder::cacheable(rect);
    uint64_t key = 0;
    if (cacheable) {
        key = content_key(image, rect);
        if (const uint16_t slot = cache_.find(key)) {
            out += instruction("copy", kFirstCacheLayer - (slot - 1), 0, 0, rect.width, rect.height,
                               kCompositeSrc, 0, rect.x, rect.y);
            ++stats.cache_hits;
            lossy_.subtract(Region(rect));
            return;
        }
    }
    const Codec codec = choose_codec(image, rect, hot);
    if (codec != Codec::png || !try_patch(image, rect, frame, out, stats))
        send_image(image, rect, codec, out, stats);
    if (codec != Codec::png) {
        lossy_.add(rect);
        return;
    }
    lossy_.subtract(Region(rect));
    if (cacheable)
        remember(key, rect, out, stats);
}

bool DisplayEncoder::cacheable(const Rect& rect) {
    return rect.area() >= kCacheMinArea && rect.area() <= kCacheMaxArea;
}

void DisplayEncoder::remember(uint64_t key, const Rect& rect, std::string& out,
                              EncodeStats& stats) {
    // Content seen once is likely new (a line of text); seen twice, it comes back (a moving
    // sprite, a blinking cursor, a window shown again): keep it where the client can copy it.
    if (seen_.insert(key).second) {
        seen_order_.push_back(key);
        if (seen_order_.size() > kSeenEntries) {
            seen_.erase(seen_order_.front());
            seen_order_.pop_front();
        }
        return;
    }
    bool evicted = false;
    const uint16_t slot = cache_.insert(key, evicted);
    const int layer = kFirstCacheLayer - (slot - 1);
    out += instruction("size", layer, rect.width, rect.height);
    out +=
        instruction("copy", 0, rect.x, rect.y, rect.width, rect.height, kCompositeSrc, layer, 0, 0);
    ++stats.cached;
}

bool DisplayEncoder::try_patch(const ImageView& image, const Rect& rect,
                               const std::vector<Rect>& frame, std::string& out,
                               EncodeStats& stats) {
    if (rect.height > kPatchMaxHeight || rect.area() > kPatchMaxArea)
        return false;
    const size_t stride = size_t(width_) * 4;
    const int32_t pitches[] = {line_pitch_, rect.height};
    for (size_t i = 0; i < std::size(pitches); ++i) {
        const int32_t pitch = pitches[i];
        if (pitch <= 0 || (i > 0 && pitch == pitches[0]))
            continue;
        const Rect src{rect.x, rect.y - pitch, rect.width, rect.height};
        if (src.y < 0 || intersects(lossy_, src))
            continue;
        // The client must show the shadow there when the copy runs: every cell known, none of
        // it changing in this frame (rectangles sent before this one are not in the shadow yet).
        bool known = true;
        for_each_cell(src, [&](int, int, const Cell& cell) { known = known && cell.valid; });
        for (const Rect& r : frame)
            known = known && !overlaps(r, src);
        if (!known)
            continue;
        // What would still differ after the copy, found in narrow pieces so that separate
        // differences (two numbers on one line) stay separate rectangles.
        const ImageView before{shadow_.data() + size_t(src.y) * stride, width_, rect.height,
                               width_ * 4};
        const ImageView after{image.pixels + size_t(rect.y) * size_t(image.stride), image.width,
                              rect.height, image.stride};
        std::vector<Rect> parts;
        int64_t left = 0;
        for (int32_t x = rect.x; x < rect.x + rect.width; x += kPatchPiece) {
            Rect piece = changed_bounds(
                before, after,
                Rect{x, 0, std::min(kPatchPiece, rect.x + rect.width - x), rect.height});
            if (piece.empty())
                continue;
            piece.y += rect.y;
            left += piece.area();
            parts.push_back(piece);
        }
        if (2 * left > rect.area())
            continue;  // mostly different: not a line like this one
        // Both ways, and the smaller goes out: a patch pays one `copy` and an image header
        // per difference, which for a short line can outweigh what it saves. The differences
        // are small and recur (the last digit of a counter), so they use the buffers too.
        std::string whole, patch;
        EncodeStats whole_stats, patch_stats;
        send_image(image, rect, Codec::png, whole, whole_stats);
        patch += instruction("copy", 0, src.x, src.y, src.width, src.height, kCompositeSrc, 0,
                             rect.x, rect.y);
        std::vector<std::pair<uint64_t, Rect>> new_parts;
        for (const Rect& part : merge_rects(std::move(parts), kMergeSlack)) {
            uint32_t colour = 0;
            if (uniform_tile(image, part, colour)) {
                patch += instruction("rect", 0, part.x, part.y, part.width, part.height);
                patch += instruction("cfill", kCompositeOver, 0, (colour >> 16) & 0xFF,
                                     (colour >> 8) & 0xFF, colour & 0xFF, 255);
                ++patch_stats.fills;
                continue;
            }
            if (cacheable(part)) {
                const uint64_t key = content_key(image, part);
                if (const uint16_t slot = cache_.find(key)) {
                    patch += instruction("copy", kFirstCacheLayer - (slot - 1), 0, 0, part.width,
                                         part.height, kCompositeSrc, 0, part.x, part.y);
                    ++patch_stats.cache_hits;
                    continue;
                }
                new_parts.emplace_back(key, part);
            }
            send_image(image, part, Codec::png, patch, patch_stats);
        }
        const bool patched = patch.size() < whole.size();
        const EncodeStats& used = patched ? patch_stats : whole_stats;
        out += patched ? patch : whole;
        stats.rects += used.rects;
        stats.png += used.png;
        stats.webp_lossless += used.webp_lossless;
        stats.fills += used.fills;
        stats.cache_hits += used.cache_hits;
        stats.patches += patched;
        if (patched)
            for (const auto& [key, part] : new_parts)
                remember(key, part, out, stats);
        return true;
    }
    return false;
}

bool DisplayEncoder::try_scroll(const ImageView& image, const Rect& box, std::string& out,
                                EncodeStats& stats) {
    const ImageView shadow = shadow_view();
    const std::optional<SurfaceCopy> move = find_vertical_scroll(shadow, image, box, kMinCopyRows);
    if (!move) {
        // Sideways (a wide table or a timeline panned): the same search over columns.
        const std::optional<SurfaceCopy> pan =
            find_horizontal_scroll(shadow, image, box, kMinCopyRows);
        if (!pan)
            return false;
        copy_within(pan->src, pan->dst_x, pan->dst_y, out, stats);
        return true;
    }
    // The search keeps to rows that moved unchanged. Rows next to the band may have moved and
    // changed a little (a terminal's cursor leaving the line that scrolled): copying them too
    // pays when it leaves fewer pixels to send than not copying them. What still differs
    // is sent after the copy like any other change, so the result stays exact.
    const int32_t dy = move->dst_y - move->src.y;
    line_pitch_ = std::abs(dy);
    const size_t stride = size_t(width_) * 4;
    struct Span {
        int32_t lo = INT32_MAX, hi = INT32_MIN;  // differing columns, inclusive; none: lo > hi
    };
    auto span = [&](const uint8_t* a, const uint8_t* b) {
        Span d;
        for (int32_t x = 0; x < box.width; ++x) {
            uint32_t p, q;
            std::memcpy(&p, a + size_t(x) * 4, 4);
            std::memcpy(&q, b + size_t(x) * 4, 4);
            if (((p ^ q) & 0x00FFFFFF) != 0) {
                d.lo = std::min(d.lo, x);
                d.hi = x;
            }
        }
        return d;
    };
    // How many rows from `start` on (going `step`) to add to the band.
    auto extension = [&](int32_t start, int32_t step) {
        std::vector<Span> copied, kept;
        for (int32_t y = start; int32_t(copied.size()) < kCell; y += step) {
            const int32_t from = y - dy;
            if (y < box.y || y >= box.y + box.height || from < box.y || from >= box.y + box.height)
                break;
            const uint8_t* now =
                image.pixels + size_t(y) * size_t(image.stride) + size_t(box.x) * 4;
            copied.push_back(span(now, shadow_.data() + size_t(from) * stride + size_t(box.x) * 4));
            kept.push_back(span(now, shadow_.data() + size_t(y) * stride + size_t(box.x) * 4));
        }
        const size_t n = copied.size();
        // The cost of what is left: the differing columns' extent summed over rows (separate
        // changes then go out as separate rectangles, as changed_rects.hpp finds them).
        auto width = [](const Span& d) { return d.lo > d.hi ? 0 : int64_t(d.hi - d.lo + 1); };
        int64_t cost = 0;
        for (const Span& d : kept)
            cost += width(d);
        size_t best = 0;
        int64_t best_cost = cost;
        for (size_t rows = 1; rows <= n; ++rows) {
            cost += width(copied[rows - 1]) - width(kept[rows - 1]);
            if (cost < best_cost) {
                best_cost = cost;
                best = rows;
            }
        }
        return int32_t(best);
    };
    int32_t top = move->dst_y, bottom = move->dst_y + move->src.height;
    bottom += extension(bottom, 1);
    top -= extension(top - 1, -1);
    copy_within(Rect{box.x, top - dy, box.width, bottom - top}, box.x, top, out, stats);
    return true;
}

void DisplayEncoder::copy_within(const Rect& src, int32_t dst_x, int32_t dst_y, std::string& out,
                                 EncodeStats& stats) {
    out +=
        instruction("copy", 0, src.x, src.y, src.width, src.height, kCompositeSrc, 0, dst_x, dst_y);
    ++stats.copies;
    // The client now shows the moved band at its new place; so does the shadow.
    const size_t stride = size_t(width_) * 4, row_bytes = size_t(src.width) * 4;
    std::vector<uint8_t> band(row_bytes * size_t(src.height));
    for (int k = 0; k < src.height; ++k)
        std::memcpy(band.data() + size_t(k) * row_bytes,
                    shadow_.data() + size_t(src.y + k) * stride + size_t(src.x) * 4, row_bytes);
    for (int k = 0; k < src.height; ++k)
        std::memcpy(shadow_.data() + size_t(dst_y + k) * stride + size_t(dst_x) * 4,
                    band.data() + size_t(k) * row_bytes, row_bytes);
}

void DisplayEncoder::refine(Clock::time_point now, std::string& out, EncodeStats& stats) {
    if (lossy_.empty())
        return;
    const ImageView shadow = shadow_view();
    for (const Rect& r : lossy_.rects()) {
        bool settled = true;
        for_each_cell(r, [&](int, int, const Cell& cell) {
            settled = settled && now - cell.last_change >= kSettle;
        });
        if (!settled)
            continue;
        send_image(shadow, r, Codec::png, out, stats);
        lossy_.subtract(Region(r));
        ++stats.refined;
    }
}

EncodeStats DisplayEncoder::encode(const ImageView& image, const Region& damage_in,
                                   std::string& out, Clock::time_point now) {
    EncodeStats stats;
    if (image.width != width_ || image.height != height_)
        reset(image.width, image.height);
    Region damage = damage_in;
    damage.clip(Rect{0, 0, width_, height_});
    const size_t before = out.size();

    if (!damage.empty()) {
        // Scrolling: only worth a look when a tall area changed, the client has all of it,
        // and none of it is lossy (a copy of an approximation would spread it).
        const Rect box = damage.extents();
        if (box.height >= 2 * kMinCopyRows && box.width >= kCell && !intersects(lossy_, box)) {
            bool all_valid = true;
            for_each_cell(box,
                          [&](int, int, const Cell& cell) { all_valid = all_valid && cell.valid; });
            if (all_valid)
                try_scroll(image, box, out, stats);
        }

        // The changed part of each touched cell, and how often each cell changes.
        const ImageView shadow = shadow_view();
        std::vector<uint8_t> state(cells_.size(), 0);  // 0 not looked at, 1 same, 2 changed, 3 hot
        std::vector<Rect> boxes;
        std::vector<int> changed_cells;
        for (const Rect& r : damage.rects()) {
            for_each_cell(r, [&](int cx, int cy, Cell& cell) {
                const size_t index = size_t(cy * cols_ + cx);
                if (state[index])
                    return;
                state[index] = 1;
                const Rect area{cx * kCell, cy * kCell, std::min(kCell, width_ - cx * kCell),
                                std::min(kCell, height_ - cy * kCell)};
                const Rect changed = cell.valid ? changed_bounds(shadow, image, area) : area;
                if (changed.empty())
                    return;
                cell.streak = (cell.valid && now - cell.last_change < kHotGap)
                                  ? uint16_t(std::min(cell.streak + 1, 1000))
                                  : 1;
                cell.last_change = now;
                cell.valid = true;
                state[index] = cell.streak >= kHotChanges ? 3 : 2;
                boxes.push_back(changed);
                changed_cells.push_back(int(index));
                ++stats.cells_changed;
            });
        }

        const std::vector<Rect> rects = merge_rects(std::move(boxes), kMergeSlack);
        for (const Rect& rect : rects) {
            bool hot = false;
            for_each_cell(rect, [&](int cx, int cy, const Cell&) {
                hot = hot || state[size_t(cy * cols_ + cx)] == 3;
            });
            send_rect(image, rect, hot, rects, out, stats);
        }
        // Outside the boxes the cells already equal the desktop (but for X bytes).
        const size_t stride = size_t(width_) * 4;
        for (const int index : changed_cells) {
            const int x0 = (index % cols_) * kCell, y0 = (index / cols_) * kCell;
            const int w = std::min(kCell, width_ - x0), h = std::min(kCell, height_ - y0);
            for (int y = y0; y < y0 + h; ++y)
                std::memcpy(shadow_.data() + size_t(y) * stride + size_t(x0) * 4,
                            image.pixels + size_t(y) * size_t(image.stride) + size_t(x0) * 4,
                            size_t(w) * 4);
        }
    }
    refine(now, out, stats);
    stats.bytes = out.size() - before;
    return stats;
}

}  // namespace deskpod::guac
