// Selections between Wayland (and, through Xwayland, X11) clients: the clipboard and the
// primary selection, plus the data-control protocol that wl-copy and wl-paste use.
#pragma once

#include "log.hpp"
#include "wlr.hpp"

namespace deskpod::compositor {

class Server;

class Clipboard {
  public:
    explicit Clipboard(Server& server);
    Clipboard(const Clipboard&) = delete;
    Clipboard& operator=(const Clipboard&) = delete;

  private:
    Server& server_;
    const log::Logger log_{"clipboard"};
    wl::Listener on_request_set_selection_;
    wl::Listener on_request_set_primary_selection_;
    wl::Listener on_set_selection_;
};

}  // namespace deskpod::compositor
