// The graphics pipeline's bitmap cache for one client: which of its cache slots holds which
// tile content (keyed by the content's hash and size), least recently used first out. Content
// that comes back (a window shown again, a blinking cursor, undo) is then a CacheToSurface
// instead of encoded pixels. Network thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

namespace deskpod {

class TileCache {
  public:
    // Slots are numbered 1 ... `slots` (the protocol's slot 0 is invalid).
    explicit TileCache(size_t slots);

    size_t slots() const { return slot_keys_.size(); }
    // The slot holding `key`, or 0; a hit counts as a use.
    uint16_t find(uint64_t key);
    // A slot for new content `key`: a free one, else the least recently used. `evicted` is
    // true when the slot held other content (the client must drop it first). Content that is
    // cached already keeps its slot.
    uint16_t insert(uint64_t key, bool& evicted);

  private:
    std::list<uint16_t> lru_;  // front: most recently used
    struct Entry {
        uint16_t slot;
        std::list<uint16_t>::iterator use;
    };
    std::unordered_map<uint64_t, Entry> by_key_;
    std::vector<uint64_t> slot_keys_;  // [slot - 1]
    size_t next_free_ = 0;
};

}  // namespace deskpod
