// A bounded multi-producer queue with a doorbell, over moodycamel::ConcurrentQueue.
// ConcurrentQueue itself grows without limit; the bound is an atomic count checked before
// each push, so a consumer that falls behind makes producers drop (and count the drop)
// instead of growing memory. Callers decide what a drop means (e.g. coalescing).
// Order: ConcurrentQueue is FIFO per producing thread, not across threads. Events whose order
// matters (a DesktopSizeEvent before the frames of that size) must all be pushed from one
// thread: the compositor's start() and run() therefore run on the same thread.
#pragma once

#include <concurrentqueue/concurrentqueue.h>

#include <atomic>
#include <cstddef>
#include <utility>

#include "shared/doorbell.hpp"

namespace deskpod {

template <typename T>
class BoundedQueue {
  public:
    explicit BoundedQueue(size_t capacity) : capacity_(capacity), queue_(capacity) {}

    // Returns false (and leaves `value` untouched) when the queue is full.
    bool try_push(T&& value) {
        size_t n = count_.load(std::memory_order_relaxed);
        do {
            if (n >= capacity_) {
                dropped_.fetch_add(1, std::memory_order_relaxed);
                return false;
            }
        } while (!count_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel));
        queue_.enqueue(std::move(value));
        doorbell_.ring();
        return true;
    }

    bool try_pop(T& out) {
        if (!queue_.try_dequeue(out))
            return false;
        count_.fetch_sub(1, std::memory_order_acq_rel);
        return true;
    }

    size_t size_approx() const { return count_.load(std::memory_order_relaxed); }
    size_t capacity() const { return capacity_; }
    uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
    Doorbell& doorbell() { return doorbell_; }

  private:
    const size_t capacity_;
    std::atomic<size_t> count_{0};
    std::atomic<uint64_t> dropped_{0};
    moodycamel::ConcurrentQueue<T> queue_;
    Doorbell doorbell_;
};

}  // namespace deskpod
