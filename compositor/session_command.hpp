// The session command (foot, a desktop shell, a browser...) run inside the desktop, watched
// through a pidfd so nothing polls, and restarted or ended on exit as configured.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "compositor/wlr.hpp"
#include "shared/log.hpp"

namespace deskpod::compositor {

class Server;

class SessionCommand {
  public:
    explicit SessionCommand(Server& server);
    ~SessionCommand();
    SessionCommand(const SessionCommand&) = delete;
    SessionCommand& operator=(const SessionCommand&) = delete;

    // Starts the command, or just reports "running" when there is none.
    void start();
    // SIGTERM to the session's process group, then SIGKILL if it lingers; reaps it.
    void stop();
    bool running() const { return pid_ > 0; }

  private:
    void spawn();
    void handle_exit();
    void report(bool running);
    std::vector<std::string> environment() const;

    Server& server_;
    const log::Logger log_{"session"};
    pid_t pid_ = -1;
    int pidfd_ = -1;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point started_at_;
    std::chrono::milliseconds restart_delay_{0};
    wl::EventSource exit_source_;
    wl::EventSource restart_timer_;
};

}  // namespace deskpod::compositor
