// Scroll detection for the graphics pipeline: where the new picture is the old one moved up,
// down, left or right, the client can copy what it has (SurfaceToSurface) instead of
// receiving it again.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "rdp-bridge/image/image_view.hpp"
#include "shared/geometry.hpp"

namespace deskpod {

struct SurfaceCopy {
    Rect src;           // in the old picture
    int32_t dst_x = 0;  // where its top-left lands in the new one
    int32_t dst_y = 0;
};

// Looks inside `area` (within both images, same size) for one vertical move: the offset the
// most rows agree on (rows compared by hash), then the longest band of consecutive rows of
// `after` that equal the rows of `before` at that offset. Returns it when the band has at least
// `min_rows` rows, and at least `min_rows` / 2 of them differ from the row they replace (so the
// copy saves something).
//
// `rows`, when given, saves hashing `before` again: if it holds hashes of `area`'s rows of
// `before` they are used, and it is left holding those of `after` (valid for the next call if
// the caller makes `before` equal `after` over `area` meanwhile, as the pipeline's shadow does).
struct RowHashes {
    Rect area;
    std::vector<uint64_t> rows;
};
std::optional<SurfaceCopy> find_vertical_scroll(const ImageView& before, const ImageView& after,
                                                const Rect& area, int32_t min_rows = 32,
                                                RowHashes* rows = nullptr);

// Vertical moves strip by strip (`strip` columns each, aligned to multiples of `strip`): a
// page scrolled under a scroll bar, or next to a sidebar, moves in most strips while the bar
// stays. Strips side by side that moved alike come back as one copy. `rows` keeps each
// strip's row hashes between calls (see RowHashes).
std::vector<SurfaceCopy> find_vertical_scrolls(const ImageView& before, const ImageView& after,
                                               const Rect& area, int32_t strip = 64,
                                               int32_t min_rows = 32,
                                               std::vector<RowHashes>* rows = nullptr);

// The same for one horizontal move: columns instead of rows (a spreadsheet or a timeline
// scrolled sideways, a text field panning).
std::optional<SurfaceCopy> find_horizontal_scroll(const ImageView& before, const ImageView& after,
                                                  const Rect& area, int32_t min_columns = 32);

// Horizontal moves band by band (`band` rows each, aligned to multiples of `band`): an app
// that pans its lines over several frames (a terminal redrawing line by line) shifts only some
// bands in a frame. Bands that moved alike next to each other come back as one copy.
std::vector<SurfaceCopy> find_horizontal_scrolls(const ImageView& before, const ImageView& after,
                                                 const Rect& area, int32_t band = 64,
                                                 int32_t min_columns = 32);

}  // namespace deskpod
