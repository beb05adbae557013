// Turns one output's rendered frames into FrameEvents for the network side: only the damaged
// rectangles are copied, into a desktop-sized buffer from the shared pool, at the output's
// place on the desktop (each output of a multi-monitor layout publishes its own frames; the
// network side's mirror assembles them). When the pool (or the queue) is full the damage is
// carried forward and captured once a buffer comes back, so a slow viewer costs coalescing,
// never memory.
#pragma once

#include <cstdint>

#include "compositor/wlr.hpp"
#include "shared/geometry.hpp"
#include "shared/log.hpp"

namespace deskpod::compositor {

class Server;
class Output;

class Capture {
  public:
    Capture(Server& server, Output& output);
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;

    // The next frame is published with full-output damage (first frame, after a resize).
    void request_full() { full_ = true; }
    void handle_precommit();
    void handle_commit(const wlr_output_event_commit& event);

    // A pool buffer came back: damage carried for lack of one is drawn and captured again.
    void retry_carried();

  private:
    bool copy_and_publish(wlr_buffer* buffer, const Region& damage);

    Server& server_;
    Output& output_;
    const log::Logger log_{"capture"};
    Region frame_damage_;  // this commit's damage, from precommit
    Region carry_;         // damage not yet published for lack of a buffer or queue space
    bool full_ = true;
    bool format_warned_ = false;
};

}  // namespace deskpod::compositor
