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

}  // namespace

std::optional<SurfaceCopy> find_vertical_scroll(const ImageView& before, const ImageView& after,
                                                const Rect& area, int32_t min_rows) {
    if (area.empty() || area.height < 2 * min_rows || area.x < 0 || area.y < 0 ||
        area.x + area.width > std::min(before.width, after.width) ||
        area.y + area.height > std::min(before.height, after.height)) {
        return std::nullopt;
    }
    const std::vector<uint64_t> old_rows = row_hashes(before, area);
    const std::vector<uint64_t> new_rows = row_hashes(after, area);
    // Where each old row's content was; a few places per content are enough (blank rows repeat
    // everywhere and would otherwise cost a vote for every offset).
    constexpr size_t kPlaces = 4;
    std::unordered_map<uint64_t, std::vector<int32_t>> places;
    places.reserve(old_rows.size());
    for (int32_t y = 0; y < area.height; ++y) {
        auto& p = places[old_rows[size_t(y)]];
        if (p.size() < kPlaces)
            p.push_back(y);
    }
    std::unordered_map<int32_t, int32_t> votes;
    for (int32_t y = 0; y < area.height; ++y) {
        if (new_rows[size_t(y)] == old_rows[size_t(y)])
            continue;  // unchanged rows say nothing about a move
        const auto it = places.find(new_rows[size_t(y)]);
        if (it == places.end())
            continue;
        for (const int32_t from : it->second)
            ++votes[y - from];
    }
    int32_t dy = 0, best = 0;
    for (const auto& [offset, n] : votes) {
        if (n > best || (n == best && std::abs(offset) < std::abs(dy))) {
            best = n;
            dy = offset;
        }
    }
    if (dy == 0 || best < min_rows / 2)
        return std::nullopt;
    // The longest band of new rows y whose content is old row y - dy.
    int32_t run_start = 0, run_len = 0, run_gain = 0;
    int32_t cur_start = 0, cur_len = 0, cur_gain = 0;
    for (int32_t y = 0; y < area.height; ++y) {
        const int32_t from = y - dy;
        // Hashes first, then the bytes: the copy must be exact.
        const bool same =
            from >= 0 && from < area.height && new_rows[size_t(y)] == old_rows[size_t(from)] &&
            std::memcmp(
                after.pixels + size_t(area.y + y) * size_t(after.stride) + size_t(area.x) * 4,
                before.pixels + size_t(area.y + from) * size_t(before.stride) + size_t(area.x) * 4,
                size_t(area.width) * 4) == 0;
        if (same) {
            if (cur_len == 0) {
                cur_start = y;
                cur_gain = 0;
            }
            ++cur_len;
            if (new_rows[size_t(y)] != old_rows[size_t(y)])
                ++cur_gain;
            if (cur_len > run_len) {
                run_start = cur_start;
                run_len = cur_len;
                run_gain = cur_gain;
            }
        } else {
            cur_len = 0;
        }
    }
    if (run_len < min_rows || run_gain < min_rows / 2)
        return std::nullopt;
    SurfaceCopy copy;
    copy.src = Rect{area.x, area.y + run_start - dy, area.width, run_len};
    copy.dst_x = area.x;
    copy.dst_y = area.y + run_start;
    return copy;
}

}  // namespace deskpod
