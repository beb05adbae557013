// What changed between the picture a Guacamole client shows and the desktop, as few exact
// rectangles: each 64x64 cell that differs shrinks to the bounding box of its differing pixels,
// and neighbouring boxes merge when their union costs about as little as the two apart (a
// ball crossing a cell border is one rectangle again, a line of text one strip).
#pragma once

#include <cstdint>
#include <vector>

#include "rdp-bridge/image/image_view.hpp"
#include "shared/geometry.hpp"

namespace deskpod::guac {

// The bounding box of the pixels of `area` that differ (ignoring the X byte) between `before`
// and `after` (same coordinates); empty when none does.
Rect changed_bounds(const ImageView& before, const ImageView& after, const Rect& area);

// Merges pairs of rectangles whose bounding box covers at most `slack` pixels more than the
// two do, until no pair does. Every pixel of the input stays covered. Inputs are expected not
// to overlap (cells of a grid).
std::vector<Rect> merge_rects(std::vector<Rect> rects, int64_t slack);

}  // namespace deskpod::guac
