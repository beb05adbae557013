#include "rdp-bridge/rdp/gfx/scroll.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <vector>

#define XXH_INLINE_ALL  // row hashes: one short call per row
#include <xxhash.h>

namespace deskpod {

namespace {

std::vector<uint64_t> row_hashes(const ImageView& image, const Rect& area) {
    std::vector<uint64_t> out(size_t(area.height));
    const size_t bytes = size_t(area.width) * 4;
    for (int32_t y = 0; y < area.height; ++y) {
        const uint8_t* row =
            image.pixels + size_t(area.y + y) * size_t(image.stride) + size_t(area.x) * 4;
        out[size_t(y)] = XXH3_64bits(row, bytes);
    }
    return out;
}

// A hash per column. Columns are not contiguous in memory, so XXH3 does not apply; this mixes
// each pixel into its column's running value row by row (cache-friendly), and every match it
// suggests is verified pixel by pixel before it is used.
std::vector<uint64_t> column_hashes(const ImageView& image, const Rect& area) {
    std::vector<uint64_t> out(size_t(area.width), 0x9E3779B97F4A7C15ull);
    for (int32_t y = 0; y < area.height; ++y) {
        const auto* row = reinterpret_cast<const uint32_t*>(
            image.pixels + size_t(area.y + y) * size_t(image.stride) + size_t(area.x) * 4);
        for (int32_t x = 0; x < area.width; ++x) {
            uint64_t& h = out[size_t(x)];
            h = (h ^ (row[x] & 0xFFFFFFu)) * 0x100000001B3ull;
            h ^= h >> 29;
        }
    }
    return out;
}

struct Shift {
    int32_t delta = 0;  // new line index - old line index
    int32_t start = 0;  // first new line of the band
    int32_t length = 0;
};

// The shift most lines agree on (lines compared by hash), then the longest band of new lines
// that are the old lines at that shift; `same(new_line, old_line)` confirms a match exactly.
// Returns it when the band has at least `min_lines` lines, at least half of which differ
// from the line they replace (so the copy saves something).
template <typename Same>
std::optional<Shift> find_shift(const std::vector<uint64_t>& old_lines,
                                const std::vector<uint64_t>& new_lines, int32_t min_lines,
                                Same same) {
    const auto count = int32_t(old_lines.size());
    // Where each old line's content was; a few places per content are enough (blank lines
    // repeat everywhere and would otherwise cost a vote for every offset).
    constexpr size_t kPlaces = 4;
    std::unordered_map<uint64_t, std::vector<int32_t>> places;
    places.reserve(old_lines.size());
    for (int32_t i = 0; i < count; ++i) {
        auto& p = places[old_lines[size_t(i)]];
        if (p.size() < kPlaces)
            p.push_back(i);
    }
    std::unordered_map<int32_t, int32_t> votes;
    for (int32_t i = 0; i < count; ++i) {
        if (new_lines[size_t(i)] == old_lines[size_t(i)])
            continue;  // unchanged lines say nothing about a move
        const auto it = places.find(new_lines[size_t(i)]);
        if (it == places.end())
            continue;
        for (const int32_t from : it->second)
            ++votes[i - from];
    }
    int32_t delta = 0, best = 0;
    for (const auto& [offset, n] : votes) {
        if (n > best || (n == best && std::abs(offset) < std::abs(delta))) {
            best = n;
            delta = offset;
        }
    }
    if (delta == 0 || best < min_lines / 2)
        return std::nullopt;
    Shift found;
    int32_t found_gain = 0;
    int32_t cur_start = 0, cur_len = 0, cur_gain = 0;
    for (int32_t i = 0; i < count; ++i) {
        const int32_t from = i - delta;
        // Hashes first, then the pixels: the copy must be exact.
        const bool match = from >= 0 && from < count &&
                           new_lines[size_t(i)] == old_lines[size_t(from)] && same(i, from);
        if (!match) {
            cur_len = 0;
            continue;
        }
        if (cur_len == 0) {
            cur_start = i;
            cur_gain = 0;
        }
        ++cur_len;
        if (new_lines[size_t(i)] != old_lines[size_t(i)])
            ++cur_gain;
        if (cur_len > found.length) {
            found = Shift{delta, cur_start, cur_len};
            found_gain = cur_gain;
        }
    }
    if (found.length < min_lines || found_gain < min_lines / 2)
        return std::nullopt;
    return found;
}

bool inside(const ImageView& before, const ImageView& after, const Rect& area) {
    return !area.empty() && area.x >= 0 && area.y >= 0 &&
           area.x + area.width <= std::min(before.width, after.width) &&
           area.y + area.height <= std::min(before.height, after.height);
}

}  // namespace

std::optional<SurfaceCopy> find_vertical_scroll(const ImageView& before, const ImageView& after,
                                                const Rect& area, int32_t min_rows,
                                                RowHashes* rows) {
    if (!inside(before, after, area) || area.height < 2 * min_rows) {
        if (rows)
            rows->area = Rect{};
        return std::nullopt;
    }
    const size_t bytes = size_t(area.width) * 4;
    std::vector<uint64_t> old_rows = rows && rows->area == area && !rows->area.empty()
                                         ? std::move(rows->rows)
                                         : row_hashes(before, area);
    std::vector<uint64_t> new_rows = row_hashes(after, area);
    const auto shift = find_shift(old_rows, new_rows, min_rows, [&](int32_t y, int32_t from) {
        return std::memcmp(
                   after.pixels + size_t(area.y + y) * size_t(after.stride) + size_t(area.x) * 4,
                   before.pixels + size_t(area.y + from) * size_t(before.stride) +
                       size_t(area.x) * 4,
                   bytes) == 0;
    });
    if (rows) {
        rows->area = area;
        rows->rows = std::move(new_rows);
    }
    if (!shift)
        return std::nullopt;
    SurfaceCopy copy;
    copy.src = Rect{area.x, area.y + shift->start - shift->delta, area.width, shift->length};
    copy.dst_x = area.x;
    copy.dst_y = area.y + shift->start;
    return copy;
}

std::optional<SurfaceCopy> find_horizontal_scroll(const ImageView& before, const ImageView& after,
                                                  const Rect& area, int32_t min_columns) {
    if (!inside(before, after, area) || area.width < 2 * min_columns)
        return std::nullopt;
    auto pixel = [](const ImageView& image, int32_t x, int32_t y) {
        uint32_t p;
        std::memcpy(&p, image.pixels + size_t(y) * size_t(image.stride) + size_t(x) * 4, 4);
        return p & 0xFFFFFFu;
    };
    const auto shift =
        find_shift(column_hashes(before, area), column_hashes(after, area), min_columns,
                   [&](int32_t x, int32_t from) {
                       for (int32_t y = area.y; y < area.y + area.height; ++y) {
                           if (pixel(after, area.x + x, y) != pixel(before, area.x + from, y))
                               return false;
                       }
                       return true;
                   });
    if (!shift)
        return std::nullopt;
    SurfaceCopy copy;
    copy.src = Rect{area.x + shift->start - shift->delta, area.y, shift->length, area.height};
    copy.dst_x = area.x + shift->start;
    copy.dst_y = area.y;
    return copy;
}

std::vector<SurfaceCopy> find_vertical_scrolls(const ImageView& before, const ImageView& after,
                                               const Rect& area, int32_t strip, int32_t min_rows,
                                               std::vector<RowHashes>* rows) {
    std::vector<SurfaceCopy> out;
    if (area.empty() || strip <= 0)
        return out;
    for (int32_t x = area.x - area.x % strip; x < area.x + area.width; x += strip) {
        const int32_t left = std::max(x, area.x);
        const int32_t right = std::min(x + strip, area.x + area.width);
        RowHashes* cache = nullptr;
        if (rows) {
            const auto index = size_t(x / strip);
            if (rows->size() <= index)
                rows->resize(index + 1);
            cache = &(*rows)[index];
        }
        const auto copy = find_vertical_scroll(
            before, after, Rect{left, area.y, right - left, area.height}, min_rows, cache);
        if (!copy)
            continue;
        if (!out.empty()) {
            SurfaceCopy& last = out.back();
            if (last.src.y == copy->src.y && last.src.height == copy->src.height &&
                last.dst_y == copy->dst_y && last.src.x + last.src.width == copy->src.x) {
                last.src.width += copy->src.width;
                continue;
            }
        }
        out.push_back(*copy);
    }
    return out;
}

std::vector<SurfaceCopy> find_horizontal_scrolls(const ImageView& before, const ImageView& after,
                                                 const Rect& area, int32_t band,
                                                 int32_t min_columns) {
    std::vector<SurfaceCopy> out;
    if (area.empty() || band <= 0)
        return out;
    for (int32_t y = area.y - area.y % band; y < area.y + area.height; y += band) {
        const int32_t top = std::max(y, area.y);
        const int32_t bottom = std::min(y + band, area.y + area.height);
        const auto copy = find_horizontal_scroll(
            before, after, Rect{area.x, top, area.width, bottom - top}, min_columns);
        if (!copy)
            continue;
        if (!out.empty()) {
            SurfaceCopy& last = out.back();
            if (last.src.x == copy->src.x && last.src.width == copy->src.width &&
                last.dst_x == copy->dst_x && last.src.y + last.src.height == copy->src.y) {
                last.src.height += copy->src.height;
                continue;
            }
        }
        out.push_back(*copy);
    }
    return out;
}

}  // namespace deskpod
