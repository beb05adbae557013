// Logging: one line per record, text or JSON, with a scope (subsystem) and an optional
// connection id so one client's story can be followed through a busy log.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "shared/config.hpp"

namespace deskpod::log {

void init(LogLevel level, LogFormat format);
bool enabled(LogLevel level);
LogLevel level();
void set_level(LogLevel level);
const char* level_name(LogLevel level);

// Run-time log level control by signal (docs/observability.md): SIGUSR1 steps to the next
// level (error -> warn -> info -> debug -> error), SIGUSR2 goes back to `configured`. The
// caller blocks SIGUSR1 and SIGUSR2 in every thread first (main() does, before any thread
// starts); a small thread waits for them with sigwait, so nothing polls.
void start_signal_control(LogLevel configured);
void stop_signal_control();
void write(LogLevel level, std::string_view scope, std::string_view conn, std::string_view message);

// A named log scope, optionally bound to one connection ("rdp#3", "guac#7").
class Logger {
  public:
    explicit Logger(std::string scope, std::string conn = {})
        : scope_(std::move(scope)), conn_(std::move(conn)) {}

    template <typename... Args>
    void error(fmt::format_string<Args...> f, Args&&... args) const {
        emit(LogLevel::error, f, std::forward<Args>(args)...);
    }
    template <typename... Args>
    void warn(fmt::format_string<Args...> f, Args&&... args) const {
        emit(LogLevel::warn, f, std::forward<Args>(args)...);
    }
    template <typename... Args>
    void info(fmt::format_string<Args...> f, Args&&... args) const {
        emit(LogLevel::info, f, std::forward<Args>(args)...);
    }
    template <typename... Args>
    void debug(fmt::format_string<Args...> f, Args&&... args) const {
        emit(LogLevel::debug, f, std::forward<Args>(args)...);
    }

    const std::string& scope() const { return scope_; }
    const std::string& conn() const { return conn_; }

  private:
    template <typename... Args>
    void emit(LogLevel level, fmt::format_string<Args...> f, Args&&... args) const {
        if (!enabled(level))
            return;
        write(level, scope_, conn_, fmt::format(f, std::forward<Args>(args)...));
    }

    std::string scope_;
    std::string conn_;
};

}  // namespace deskpod::log
