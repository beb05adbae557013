// What the clipboard's two directions share, private to compositor/clipboard*.cpp: desktop ->
// viewers (clipboard.cpp, which also owns the setup and teardown) needs to tell a viewer's offer
// from an app's and to drop pastes still in flight; viewers -> desktop
// (clipboard_from_viewers.cpp) defines those offers and pastes.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "compositor/clipboard.hpp"
#include "compositor/wlr.hpp"
#include "shared/events.hpp"

namespace deskpod::compositor {

namespace clipboard_internal {

// Bytes moved per wakeup, so one big transfer cannot starve frames and input.
inline constexpr size_t kChunk = 64 * 1024;
inline constexpr size_t kChunksPerWakeup = 4;
// An app that neither writes nor closes its end of a read, or a paste the network side never
// answers, is given up after this (the bridge's own timeouts are shorter).
inline constexpr int kTransferTimeoutMs = 60000;

inline void close_fd(int& fd) {
    if (fd >= 0)
        ::close(fd);
    fd = -1;
}

}  // namespace clipboard_internal

// A clipboard offered by a remote viewer. `base` first: wlroots hands back the
// wlr_data_source pointer, which is also a pointer to this (standard layout).
struct Clipboard::RemoteSource {
    wlr_data_source base;
    Clipboard* owner;  // null once the compositor is shutting down
    uint64_t offer_id;
};
static_assert(std::is_standard_layout_v<Clipboard::RemoteSource>);

// The same offer as the primary selection (--primary-selection).
struct Clipboard::RemotePrimarySource {
    wlr_primary_selection_source base;
    Clipboard* owner;
    uint64_t offer_id;
};
static_assert(std::is_standard_layout_v<Clipboard::RemotePrimarySource>);

// Writing a remote viewer's bytes into a pasting app's fd.
struct Clipboard::Write {
    Clipboard* self = nullptr;  // the event-loop callbacks get this struct
    uint64_t id = 0;
    int fd = -1;
    std::string mime_type;
    ClipboardBytes data;  // null until the network side delivers
    size_t written = 0;
    wl::EventSource watch;
    wl::EventSource timeout;
    ~Write() {
        watch.reset();
        clipboard_internal::close_fd(fd);
    }
};

namespace clipboard_internal {

// The remote viewer's offer behind a selection source, or null when an app offers it.
Clipboard::RemoteSource* remote_source_of(wlr_data_source* source);
Clipboard::RemotePrimarySource* remote_source_of(wlr_primary_selection_source* source);

}  // namespace clipboard_internal

}  // namespace deskpod::compositor
