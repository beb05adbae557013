// The one object both threads share: the frame pool and the two bounded queues.
#pragma once

#include "shared/bounded_queue.hpp"
#include "shared/events.hpp"
#include "shared/frame_pool.hpp"

namespace deskpod {

struct Channels {
    // Four slots: one being filled, one queued, one being mirrored, one spare. The bridge
    // copies each frame into its mirror right away, so slots return within microseconds unless
    // the network thread is busy; when none is free the compositor carries the damage forward.
    FramePool frames{4};
    // Frames are bounded by the pool; the rest (cursor, size, pong) are rare.
    BoundedQueue<DesktopEvent> to_bridge{64};
    // Input bursts (a paste typed as unicode, fast mouse motion) fit; beyond this the input
    // is dropped and counted rather than queued without bound.
    BoundedQueue<DesktopRequest> to_compositor{8192};
};

}  // namespace deskpod
