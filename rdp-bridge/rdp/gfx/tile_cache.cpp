#include "rdp-bridge/rdp/gfx/tile_cache.hpp"

#include <algorithm>

namespace deskpod {

TileCache::TileCache(size_t slots) : slot_keys_(std::min<size_t>(slots, 0xFFFF), 0) {}

uint16_t TileCache::find(uint64_t key) {
    const auto it = by_key_.find(key);
    if (it == by_key_.end())
        return 0;
    lru_.splice(lru_.begin(), lru_, it->second.use);
    return it->second.slot;
}

uint16_t TileCache::insert(uint64_t key, bool& evicted) {
    evicted = false;
    if (slot_keys_.empty())
        return 0;
    if (const uint16_t cached = find(key))
        return cached;  // already there: nothing to store
    uint16_t slot = 0;
    if (next_free_ < slot_keys_.size()) {
        slot = uint16_t(++next_free_);
    } else {
        // The least recently used slot gets the new content.
        slot = lru_.back();
        lru_.pop_back();
        by_key_.erase(slot_keys_[slot - 1]);
        evicted = true;
    }
    lru_.push_front(slot);
    by_key_[key] = Entry{slot, lru_.begin()};
    slot_keys_[slot - 1] = key;
    return slot;
}

}  // namespace deskpod
