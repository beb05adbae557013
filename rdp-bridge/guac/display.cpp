#include "rdp-bridge/guac/display.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "rdp-bridge/guac/codecs.hpp"
#include "rdp-bridge/guac/parser.hpp"

namespace deskpod::guac {

namespace {

// guacd's blob size: a blob of 6048 bytes is 8064 base64 characters, well inside every
// client's instruction limit.
constexpr size_t kBlobBytes = 6048;
// Quality of lossy regions: what guacd uses for JPEG; text in a hot region stays readable.
constexpr int kLossyQuality = 80;
// Photo-like: more distinct colours in a sample than UI and text ever have.
constexpr size_t kPhotoColours = 160;
constexpr int64_t kPhotoMinArea = 128 * 128;
// Streams cycle through a few indices; a client frees each at `end`.
constexpr int kStreamCount = 64;

uint64_t hash_row(const uint8_t* p, size_t bytes) {
    // FNV-1a over 8-byte words: enough to find candidate moves, which memcmp then confirms.
    uint64_t h = 1469598103934665603ull;
    size_t i = 0;
    for (; i + 8 <= bytes; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        h = (h ^ w) * 1099511628211ull;
    }
    for (; i < bytes; ++i)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
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

void DisplayEncoder::reset(int32_t width, int32_t height) {
    width_ = width;
    height_ = height;
    cols_ = (width + kCell - 1) / kCell;
    rows_ = (height + kCell - 1) / kCell;
    shadow_.assign(size_t(width) * size_t(height) * 4, 0);
    cells_.assign(size_t(cols_) * size_t(rows_), Cell{});
}

Codec DisplayEncoder::choose_codec(const ImageView& image, const Rect& rect, bool hot) const {
    const bool lossy_ok = formats_.jpeg || formats_.webp;
    if (!lossy_ok)
        return Codec::png;
    // JPEG first: libjpeg-turbo is about ten times faster than libwebp for the same size,
    // and hot regions are by definition re-encoded often.
    const Codec lossy = formats_.jpeg ? Codec::jpeg : Codec::webp;
    if (hot)
        return lossy;
    if (rect.area() < kPhotoMinArea)
        return Codec::png;
    // Sample a grid of pixels; UI and text use few colours, photos and video many.
    std::unordered_map<uint32_t, bool> seen;
    seen.reserve(kPhotoColours * 2);
    const int step = 5;
    for (int y = rect.y; y < rect.y + rect.height; y += step) {
        const auto* row =
            reinterpret_cast<const uint32_t*>(image.pixels + size_t(y) * image.stride);
        for (int x = rect.x; x < rect.x + rect.width; x += step) {
            seen.emplace(row[x] & 0xFFFFFF, true);
            if (seen.size() >= kPhotoColours)
                return lossy;
        }
    }
    return Codec::png;
}

void DisplayEncoder::send_image(const ImageView& image, const Rect& rect, Codec codec,
                                std::string& out, EncodeStats& stats) {
    std::vector<uint8_t> data;
    std::string_view mimetype;
    switch (codec) {
        case Codec::png:
            data = encode_png(image, rect);
            mimetype = "image/png";
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

bool DisplayEncoder::detect_scroll(const ImageView& image, const Rect& box, std::string& out,
                                   EncodeStats& stats) {
    const size_t row_bytes = size_t(box.width) * 4;
    const size_t stride = size_t(width_) * 4;
    auto new_row = [&](int y) {
        return image.pixels + size_t(y) * image.stride + size_t(box.x) * 4;
    };
    auto old_row = [&](int y) { return shadow_.data() + size_t(y) * stride + size_t(box.x) * 4; };

    // Old rows by hash; rows that repeat (blank lines) cannot tell a move apart.
    std::unordered_map<uint64_t, int> old_rows;
    old_rows.reserve(size_t(box.height) * 2);
    for (int y = box.y; y < box.y + box.height; ++y) {
        const auto [it, inserted] = old_rows.emplace(hash_row(old_row(y), row_bytes), y);
        if (!inserted)
            it->second = -1;
    }
    std::unordered_map<int, int> votes;  // dy (old y - new y) -> rows agreeing
    for (int y = box.y; y < box.y + box.height; ++y) {
        const auto it = old_rows.find(hash_row(new_row(y), row_bytes));
        if (it == old_rows.end() || it->second < 0 || it->second == y)
            continue;
        ++votes[it->second - y];
    }
    int best_dy = 0, best_votes = 0;
    for (const auto& [dy, n] : votes) {
        if (n > best_votes)
            best_dy = dy, best_votes = n;
    }
    if (best_votes < kMinCopyRows / 4)
        return false;

    // The longest band of rows that really moved by best_dy.
    int run_start = 0, run_len = 0, best_start = 0, best_len = 0;
    for (int y = box.y; y < box.y + box.height; ++y) {
        const int src = y + best_dy;
        const bool same = src >= box.y && src < box.y + box.height &&
                          std::memcmp(new_row(y), old_row(src), row_bytes) == 0;
        if (same) {
            if (run_len == 0)
                run_start = y;
            if (++run_len > best_len)
                best_start = run_start, best_len = run_len;
        } else {
            run_len = 0;
        }
    }
    if (best_len < kMinCopyRows)
        return false;

    out += instruction("copy", 0, box.x, best_start + best_dy, box.width, best_len, kCompositeSrc,
                       0, box.x, best_start);
    ++stats.copies;
    // The client now shows the moved band at its new place; so does the shadow.
    std::vector<uint8_t> band(row_bytes * size_t(best_len));
    for (int k = 0; k < best_len; ++k)
        std::memcpy(band.data() + size_t(k) * row_bytes, old_row(best_start + best_dy + k),
                    row_bytes);
    for (int k = 0; k < best_len; ++k)
        std::memcpy(shadow_.data() + size_t(best_start + k) * stride + size_t(box.x) * 4,
                    band.data() + size_t(k) * row_bytes, row_bytes);
    return true;
}

EncodeStats DisplayEncoder::encode(const ImageView& image, const Region& damage_in,
                                   std::string& out, std::chrono::steady_clock::time_point now) {
    EncodeStats stats;
    if (image.width != width_ || image.height != height_)
        reset(image.width, image.height);
    Region damage = damage_in;
    damage.clip(Rect{0, 0, width_, height_});
    if (damage.empty())
        return stats;
    const size_t before = out.size();

    // Scrolling: only worth a look when a tall area changed and the client has it all.
    const Rect box = damage.extents();
    if (box.height >= 2 * kMinCopyRows && box.width >= kCell) {
        bool all_valid = true;
        for (int cy = box.y / kCell; all_valid && cy <= (box.y + box.height - 1) / kCell; ++cy)
            for (int cx = box.x / kCell; cx <= (box.x + box.width - 1) / kCell; ++cx)
                if (!cells_[size_t(cy * cols_ + cx)].valid) {
                    all_valid = false;
                    break;
                }
        if (all_valid)
            detect_scroll(image, box, out, stats);
    }

    // Cells touched by damage whose pixels differ from the shadow.
    std::vector<uint8_t> changed(cells_.size(), 0);  // 0 no, 1 lossless, 2 hot
    const size_t stride = size_t(width_) * 4;
    for (const Rect& r : damage.rects()) {
        for (int cy = r.y / kCell; cy <= (r.y + r.height - 1) / kCell; ++cy) {
            for (int cx = r.x / kCell; cx <= (r.x + r.width - 1) / kCell; ++cx) {
                const size_t index = size_t(cy * cols_ + cx);
                if (changed[index])
                    continue;
                Cell& cell = cells_[index];
                const int x0 = cx * kCell, y0 = cy * kCell;
                const int w = std::min(kCell, width_ - x0), h = std::min(kCell, height_ - y0);
                bool differs = !cell.valid;
                for (int y = y0; !differs && y < y0 + h; ++y) {
                    differs = std::memcmp(image.pixels + size_t(y) * image.stride + size_t(x0) * 4,
                                          shadow_.data() + size_t(y) * stride + size_t(x0) * 4,
                                          size_t(w) * 4) != 0;
                }
                if (!differs)
                    continue;
                cell.streak = (cell.valid && now - cell.last_change < kHotGap)
                                  ? uint16_t(std::min(cell.streak + 1, 1000))
                                  : 1;
                cell.last_change = now;
                cell.valid = true;
                changed[index] = cell.streak >= kHotChanges ? 2 : 1;
                ++stats.cells_changed;
            }
        }
    }

    // Merge: horizontal runs of equally classified cells, then stack runs with the same span.
    struct Run {
        int x0, x1, y0, y1;  // in cells, inclusive-exclusive
        uint8_t kind;
    };
    std::vector<Run> open, done;
    for (int cy = 0; cy < rows_; ++cy) {
        std::vector<Run> row_runs;
        for (int cx = 0; cx < cols_;) {
            const uint8_t kind = changed[size_t(cy * cols_ + cx)];
            if (!kind) {
                ++cx;
                continue;
            }
            int end = cx + 1;
            while (end < cols_ && changed[size_t(cy * cols_ + end)] == kind)
                ++end;
            row_runs.push_back(Run{cx, end, cy, cy + 1, kind});
            cx = end;
        }
        std::vector<Run> next_open;
        for (Run& r : row_runs) {
            auto match = std::find_if(open.begin(), open.end(), [&](const Run& o) {
                return o.x0 == r.x0 && o.x1 == r.x1 && o.kind == r.kind && o.y1 == cy;
            });
            if (match != open.end()) {
                match->y1 = cy + 1;
                next_open.push_back(*match);
                open.erase(match);
            } else {
                next_open.push_back(r);
            }
        }
        done.insert(done.end(), open.begin(), open.end());
        open = std::move(next_open);
    }
    done.insert(done.end(), open.begin(), open.end());

    for (const Run& run : done) {
        Rect rect{run.x0 * kCell, run.y0 * kCell, 0, 0};
        rect.width = std::min(run.x1 * kCell, width_) - rect.x;
        rect.height = std::min(run.y1 * kCell, height_) - rect.y;
        send_image(image, rect, choose_codec(image, rect, run.kind == 2), out, stats);
        for (int y = rect.y; y < rect.y + rect.height; ++y)
            std::memcpy(shadow_.data() + size_t(y) * stride + size_t(rect.x) * 4,
                        image.pixels + size_t(y) * image.stride + size_t(rect.x) * 4,
                        size_t(rect.width) * 4);
    }
    stats.bytes = out.size() - before;
    return stats;
}

}  // namespace deskpod::guac
