// Fixed pool of frame buffers shared by the compositor (writer) and the bridge (reader).
//
// The compositor acquires a free slot on its thread as a FrameWriter (the only writable handle),
// copies the damaged rectangles of the rendered output into it and publishes it, which yields
// the read-only FrameRef that crosses to the network thread. The bridge copies those rectangles
// into its desktop mirror and drops the ref; the last drop frees the slot and rings `returned()`,
// so a compositor that found the pool exhausted (and carried its damage forward) can capture again.
// Buffers are allocated once per size and reused: a fresh 8 MB allocation costs tens of ms on
// first touch (the kernel faults in and zeroes each of its ~2000 4 KiB pages; measured: about
// 40 ms at 1920x1080), a reused one nothing.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "shared/doorbell.hpp"

namespace deskpod {

class FramePool;

struct FrameSlot {
    std::atomic<int> refs{0};
    int32_t width = 0;
    int32_t height = 0;
    int32_t stride = 0;  // bytes per row; pixels are XRGB8888 (little-endian B,G,R,X bytes)
    std::vector<uint8_t> pixels;
    FramePool* pool = nullptr;
};

// Reference-counted, read-only view of one published pool slot. No heap allocation. Only a
// FrameWriter makes one (publish()), so nothing that holds a FrameRef can write the pixels.
class FrameRef {
  public:
    FrameRef() = default;
    FrameRef(const FrameRef& other);
    FrameRef& operator=(const FrameRef& other);
    FrameRef(FrameRef&& other) noexcept;
    FrameRef& operator=(FrameRef&& other) noexcept;
    ~FrameRef();

    explicit operator bool() const { return slot_ != nullptr; }
    int32_t width() const { return slot_->width; }
    int32_t height() const { return slot_->height; }
    int32_t stride() const { return slot_->stride; }
    const uint8_t* data() const { return slot_->pixels.data(); }
    void reset();

  private:
    friend class FrameWriter;
    explicit FrameRef(FrameSlot* slot);  // takes one reference

    FrameSlot* slot_ = nullptr;
};

// The compositor's handle on a slot it is filling: move-only and writable. publish() hands the
// pixels over as a read-only FrameRef; a writer dropped unpublished returns its slot.
class FrameWriter {
  public:
    FrameWriter() = default;
    FrameWriter(const FrameWriter&) = delete;
    FrameWriter& operator=(const FrameWriter&) = delete;
    FrameWriter(FrameWriter&&) noexcept = default;
    FrameWriter& operator=(FrameWriter&&) noexcept = default;

    explicit operator bool() const { return bool(ref_); }
    int32_t width() const { return ref_.width(); }
    int32_t height() const { return ref_.height(); }
    int32_t stride() const { return ref_.stride(); }
    uint8_t* data() { return ref_.slot_->pixels.data(); }
    // Ends writing: from here on the pixels are shared and immutable.
    FrameRef publish() && { return std::move(ref_); }

  private:
    friend class FramePool;
    explicit FrameWriter(FrameSlot* slot) : ref_(slot) {}

    FrameRef ref_;
};

class FramePool {
  public:
    explicit FramePool(size_t slots);
    FramePool(const FramePool&) = delete;
    FramePool& operator=(const FramePool&) = delete;

    // Compositor thread only. Returns an empty writer when every slot is still in use.
    FrameWriter acquire(int32_t width, int32_t height);
    size_t size() const { return slots_.size(); }
    size_t in_use() const;
    // Rung whenever a slot becomes free again.
    Doorbell& returned() { return returned_; }

  private:
    friend class FrameRef;
    void release(FrameSlot* slot);

    std::vector<std::unique_ptr<FrameSlot>> slots_;
    Doorbell returned_;
};

}  // namespace deskpod
