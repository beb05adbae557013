#include "compositor/session_command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "compositor/server.hpp"
#include "compositor/xwayland.hpp"
#include "shared/metrics.hpp"

extern char** environ;

namespace deskpod::compositor {
namespace {

using namespace std::chrono_literals;

// A session that lives at least this long counts as healthy: the next restart is immediate.
constexpr auto kHealthyRun = 10s;
constexpr auto kFirstRestartDelay = 500ms;
constexpr auto kMaxRestartDelay = 30s;

int pidfd_open(pid_t pid) {
    return int(syscall(SYS_pidfd_open, pid, 0));
}

bool has_prefix(const std::string& s, const char* prefix) {
    return s.rfind(prefix, 0) == 0;
}

}  // namespace

SessionCommand::SessionCommand(Server& server) : server_(server) {}

SessionCommand::~SessionCommand() {
    stop();
}

std::vector<std::string> SessionCommand::environment() const {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        const std::string entry(*e);
        // The session sees this desktop, never the X server the x11 backend draws into.
        if (has_prefix(entry, "WAYLAND_DISPLAY=") || has_prefix(entry, "DISPLAY=") ||
            has_prefix(entry, "XDG_RUNTIME_DIR=") || has_prefix(entry, "WAYLAND_SOCKET=")) {
            continue;
        }
        env.push_back(entry);
    }
    env.push_back("WAYLAND_DISPLAY=" + server_.socket_name);
    env.push_back("XDG_RUNTIME_DIR=" + server_.runtime_dir);
    if (server_.xwayland && server_.xwayland->ready()) {
        env.push_back("DISPLAY=" + server_.xwayland->display_name());
    }
    return env;
}

void SessionCommand::start() {
    if (server_.config.session.empty()) {
        log_.info("no session command: the desktop is ready");
        report(true);
        return;
    }
    spawn();
}

void SessionCommand::spawn() {
    restart_timer_.reset();
    // Everything the child needs is built before fork: after it, only async-signal-safe calls.
    const std::vector<std::string> env = environment();
    std::vector<char*> envp;
    for (const auto& e : env)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const std::string& command = server_.config.session;
    char* argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"),
                    const_cast<char*>(command.c_str()), nullptr};

    const pid_t pid = fork();
    if (pid < 0) {
        log_.error("cannot start the session: fork: {}", std::strerror(errno));
        return;
    }
    if (pid == 0) {
        setpgid(0, 0);
        // main() blocks SIGTERM/SIGINT and ignores SIGPIPE; exec keeps both, so undo them.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        signal(SIGPIPE, SIG_DFL);
        execve("/bin/sh", argv, envp.data());
        _exit(127);
    }
    setpgid(pid, pid);  // also here, so the group exists before anyone signals it
    pid_ = pid;
    started_at_ = std::chrono::steady_clock::now();
    pidfd_ = pidfd_open(pid);
    if (pidfd_ < 0) {
        log_.error("pidfd_open: {}: the session's exit will not be noticed", std::strerror(errno));
    } else {
        exit_source_ = wl::EventSource(wl_event_loop_add_fd(
            server_.loop, pidfd_, WL_EVENT_READABLE,
            [](int, uint32_t, void* data) {
                static_cast<SessionCommand*>(data)->handle_exit();
                return 0;
            },
            this));
    }
    log_.info("started session (pid {}): {}", pid, command);
    report(true);
}

void SessionCommand::handle_exit() {
    int status = 0;
    const pid_t reaped = waitpid(pid_, &status, WNOHANG);
    if (reaped == 0)
        return;  // not yet
    exit_source_.reset();
    close(pidfd_);
    pidfd_ = -1;
    // Leftover children of the session command go with it.
    kill(-pid_, SIGTERM);
    const pid_t pid = pid_;
    pid_ = -1;
    report(false);

    if (WIFEXITED(status)) {
        log_.info("session (pid {}) exited with status {}", pid, WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        log_.info("session (pid {}) killed by signal {}", pid, WTERMSIG(status));
    }
    if (stopping_)
        return;
    if (server_.config.session_exit == SessionExit::quit) {
        server_.terminate(0);
        return;
    }

    const auto lived = std::chrono::steady_clock::now() - started_at_;
    if (lived >= kHealthyRun) {
        restart_delay_ = 0ms;
    } else {
        restart_delay_ = restart_delay_ == 0ms ? std::chrono::milliseconds(kFirstRestartDelay)
                                               : std::min<std::chrono::milliseconds>(
                                                     restart_delay_ * 2, kMaxRestartDelay);
    }
    if (restart_delay_ == 0ms) {
        spawn();
        return;
    }
    log_.warn("session died after {} ms: restarting in {} ms",
              std::chrono::duration_cast<std::chrono::milliseconds>(lived).count(),
              restart_delay_.count());
    restart_timer_ = wl::EventSource(wl_event_loop_add_timer(
        server_.loop,
        [](void* data) {
            static_cast<SessionCommand*>(data)->spawn();
            return 0;
        },
        this));
    wl_event_source_timer_update(restart_timer_.get(), int(restart_delay_.count()));
}

void SessionCommand::stop() {
    stopping_ = true;
    restart_timer_.reset();
    exit_source_.reset();
    if (pid_ > 0) {
        kill(-pid_, SIGTERM);
        // Shutdown only: a short bounded wait so the session can save its state.
        int status = 0;
        bool reaped = false;
        for (int i = 0; i < 200 && !reaped; ++i) {
            reaped = waitpid(pid_, &status, WNOHANG) == pid_;
            if (!reaped)
                std::this_thread::sleep_for(10ms);
        }
        if (!reaped) {
            log_.warn("session (pid {}) ignored SIGTERM: killing it", pid_);
            kill(-pid_, SIGKILL);
            waitpid(pid_, &status, 0);
        }
        kill(-pid_, SIGTERM);  // whatever the shell left behind
        pid_ = -1;
        report(false);
    }
    if (pidfd_ >= 0) {
        close(pidfd_);
        pidfd_ = -1;
    }
}

void SessionCommand::report(bool running) {
    metrics().session_running.set(running ? 1 : 0);
    server_.publish(SessionStateEvent{running});
}

}  // namespace deskpod::compositor
