// Turns rendered output frames into FrameEvents for the network side: only the damaged
// rectangles are copied, into a buffer from the shared pool. When the pool (or the queue) is
// full the damage is carried forward and captured once a buffer comes back, so a slow viewer
// costs coalescing, never memory.
#pragma once

#include <cstdint>

#include "geometry.hpp"
#include "log.hpp"
#include "wlr.hpp"

namespace deskpod::compositor {

class Server;

class Capture {
  public:
    Capture(Server& server, wlr_output* output);
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;

    // The next frame is published with full-output damage (first frame, after a resize).
    void request_full() { full_ = true; }
    void handle_precommit();
    void handle_commit(const wlr_output_event_commit& event);

  private:
    void handle_buffer_returned();
    bool copy_and_publish(wlr_buffer* buffer, const Region& damage);

    Server& server_;
    wlr_output* output_;
    const log::Logger log_{"capture"};
    Region frame_damage_;  // this commit's damage, from precommit
    Region carry_;         // damage not yet published for lack of a buffer or queue space
    bool full_ = true;
    bool format_warned_ = false;
    uint64_t seq_ = 0;
    wl::EventSource returned_source_;
};

}  // namespace deskpod::compositor
