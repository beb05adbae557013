#include "shared/frame_pool.hpp"

namespace deskpod {

FrameRef::FrameRef(FrameSlot* slot) : slot_(slot) {
    if (slot_)
        slot_->refs.fetch_add(1, std::memory_order_relaxed);
}

FrameRef::FrameRef(const FrameRef& other) : FrameRef(other.slot_) {}

FrameRef& FrameRef::operator=(const FrameRef& other) {
    if (this != &other) {
        FrameRef copy(other);
        *this = std::move(copy);
    }
    return *this;
}

FrameRef::FrameRef(FrameRef&& other) noexcept : slot_(other.slot_) {
    other.slot_ = nullptr;
}

FrameRef& FrameRef::operator=(FrameRef&& other) noexcept {
    if (this != &other) {
        reset();
        slot_ = other.slot_;
        other.slot_ = nullptr;
    }
    return *this;
}

FrameRef::~FrameRef() {
    reset();
}

void FrameRef::reset() {
    if (!slot_)
        return;
    FrameSlot* slot = slot_;
    slot_ = nullptr;
    if (slot->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        slot->pool->release(slot);
    }
}

FramePool::FramePool(size_t slots) {
    slots_.reserve(slots);
    for (size_t i = 0; i < slots; ++i) {
        auto slot = std::make_unique<FrameSlot>();
        slot->pool = this;
        slots_.push_back(std::move(slot));
    }
}

FrameWriter FramePool::acquire(int32_t width, int32_t height) {
    for (auto& slot : slots_) {
        if (slot->refs.load(std::memory_order_acquire) != 0)
            continue;
        if (slot->width != width || slot->height != height) {
            slot->width = width;
            slot->height = height;
            slot->stride = width * 4;
            slot->pixels.assign(size_t(slot->stride) * size_t(height), 0);
        }
        return FrameWriter(slot.get());
    }
    return FrameWriter();
}

size_t FramePool::in_use() const {
    size_t n = 0;
    for (const auto& slot : slots_) {
        if (slot->refs.load(std::memory_order_relaxed) != 0)
            ++n;
    }
    return n;
}

void FramePool::release(FrameSlot*) {
    returned_.ring();
}

}  // namespace deskpod
