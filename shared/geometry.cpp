#include "shared/geometry.hpp"

#include <utility>

namespace deskpod {

Region::Region() {
    pixman_region32_init(&region_);
}

Region::Region(const Rect& r) {
    if (r.empty()) {
        pixman_region32_init(&region_);
    } else {
        pixman_region32_init_rect(&region_, r.x, r.y, unsigned(r.width), unsigned(r.height));
    }
}

Region::~Region() {
    pixman_region32_fini(&region_);
}

Region::Region(const Region& other) {
    pixman_region32_init(&region_);
    pixman_region32_copy(&region_, const_cast<pixman_region32_t*>(&other.region_));
}

Region& Region::operator=(const Region& other) {
    if (this != &other) {
        pixman_region32_copy(&region_, const_cast<pixman_region32_t*>(&other.region_));
    }
    return *this;
}

Region::Region(Region&& other) noexcept {
    pixman_region32_init(&region_);
    std::swap(region_, other.region_);
}

Region& Region::operator=(Region&& other) noexcept {
    std::swap(region_, other.region_);
    return *this;
}

void Region::add(const Rect& r) {
    if (r.empty())
        return;
    pixman_region32_union_rect(&region_, &region_, r.x, r.y, unsigned(r.width), unsigned(r.height));
}

void Region::add(const Region& other) {
    pixman_region32_union(&region_, &region_, const_cast<pixman_region32_t*>(&other.region_));
}

void Region::subtract(const Region& other) {
    pixman_region32_subtract(&region_, &region_, const_cast<pixman_region32_t*>(&other.region_));
}

void Region::clip(const Rect& bounds) {
    if (bounds.empty()) {
        clear();
        return;
    }
    pixman_region32_intersect_rect(&region_, &region_, bounds.x, bounds.y, unsigned(bounds.width),
                                   unsigned(bounds.height));
}

void Region::clear() {
    pixman_region32_clear(&region_);
}

bool Region::empty() const {
    return !pixman_region32_not_empty(const_cast<pixman_region32_t*>(&region_));
}

Rect Region::extents() const {
    const pixman_box32_t* b = pixman_region32_extents(const_cast<pixman_region32_t*>(&region_));
    return Rect{b->x1, b->y1, b->x2 - b->x1, b->y2 - b->y1};
}

int64_t Region::area() const {
    int64_t total = 0;
    int n = 0;
    const pixman_box32_t* boxes =
        pixman_region32_rectangles(const_cast<pixman_region32_t*>(&region_), &n);
    for (int i = 0; i < n; ++i) {
        total += int64_t(boxes[i].x2 - boxes[i].x1) * (boxes[i].y2 - boxes[i].y1);
    }
    return total;
}

std::vector<Rect> Region::rects() const {
    int n = 0;
    const pixman_box32_t* boxes =
        pixman_region32_rectangles(const_cast<pixman_region32_t*>(&region_), &n);
    std::vector<Rect> out;
    out.reserve(size_t(n));
    for (int i = 0; i < n; ++i) {
        out.push_back(
            Rect{boxes[i].x1, boxes[i].y1, boxes[i].x2 - boxes[i].x1, boxes[i].y2 - boxes[i].y1});
    }
    return out;
}

size_t Region::rect_count() const {
    return size_t(pixman_region32_n_rects(const_cast<pixman_region32_t*>(&region_)));
}

void Region::simplify(size_t max_rects, double max_waste) {
    if (empty())
        return;
    const Rect box = extents();
    const int64_t covered = area();
    const bool too_many = rect_count() > max_rects;
    const bool little_waste = double(box.area() - covered) <= max_waste * double(box.area());
    if (too_many || little_waste) {
        pixman_box32_t bounds = *pixman_region32_extents(&region_);
        pixman_region32_reset(&region_, &bounds);
    }
}

}  // namespace deskpod
