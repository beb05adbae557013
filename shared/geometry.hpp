// Rectangles and damage regions shared by the compositor and the bridge.
// Region wraps pixman's region code: it is what wlroots itself uses for damage, and it is
// well tested, so we do not write our own rectangle-set algebra.
#pragma once

#include <pixman.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace deskpod {

struct Rect {
    int32_t x = 0;
    int32_t y = 0;
    int32_t width = 0;
    int32_t height = 0;

    bool empty() const { return width <= 0 || height <= 0; }
    int64_t area() const { return empty() ? 0 : int64_t(width) * height; }
    bool operator==(const Rect&) const = default;
};

class Region {
  public:
    Region();
    explicit Region(const Rect& r);
    ~Region();
    Region(const Region& other);
    Region& operator=(const Region& other);
    Region(Region&& other) noexcept;
    Region& operator=(Region&& other) noexcept;

    void add(const Rect& r);
    void add(const Region& other);
    void subtract(const Region& other);
    void clip(const Rect& bounds);
    void clear();

    bool empty() const;
    Rect extents() const;
    int64_t area() const;
    std::vector<Rect> rects() const;
    size_t rect_count() const;

    // Replaces a fragmented region by its bounding box when the box wastes little area.
    // Encoders pay a fixed cost per rectangle, so many tiny rectangles are slower than one box.
    void simplify(size_t max_rects, double max_waste);

    pixman_region32_t* raw() { return &region_; }
    const pixman_region32_t* raw() const { return &region_; }

  private:
    pixman_region32_t region_;
};

}  // namespace deskpod
