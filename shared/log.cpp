#include "shared/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

#include <pthread.h>
#include <signal.h>

namespace deskpod::log {
namespace {

std::atomic<int> g_level{int(LogLevel::info)};
std::atomic<LogFormat> g_format{LogFormat::text};
// Serializes whole lines from the two threads; logging is never on the per-frame path.
std::mutex g_write_mutex;

}  // namespace

const char* level_name(LogLevel level) {
    switch (level) {
        case LogLevel::error:
            return "error";
        case LogLevel::warn:
            return "warn";
        case LogLevel::info:
            return "info";
        case LogLevel::debug:
            return "debug";
    }
    return "info";
}

namespace {

void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    out += fmt::format("\\u{:04x}", c);
                } else {
                    out.push_back(char(c));
                }
        }
    }
    out.push_back('"');
}

std::string timestamp() {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const auto t = system_clock::to_time_t(now);
    const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    return fmt::format("{}.{:03d}Z", buf, int(ms));
}

}  // namespace

void init(LogLevel level, LogFormat format) {
    g_level.store(int(level));
    g_format.store(format);
}

bool enabled(LogLevel level) {
    return int(level) <= g_level.load(std::memory_order_relaxed);
}

LogLevel level() {
    return LogLevel(g_level.load(std::memory_order_relaxed));
}

void set_level(LogLevel level) {
    g_level.store(int(level), std::memory_order_relaxed);
}

namespace {

std::thread g_signal_thread;
std::atomic<bool> g_signal_stop{false};

void signal_loop(LogLevel configured) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (g_signal_stop.load())
            return;
        const LogLevel before = level();
        const LogLevel after = sig == SIGUSR1 ? LogLevel((int(before) + 1) % 4) : configured;
        set_level(after);
        // Written whatever the new level is: the operator asked for it.
        write(LogLevel::info, "log", "",
              fmt::format("log level {} -> {} ({})", level_name(before), level_name(after),
                          sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2: back to the configured level"));
    }
}

}  // namespace

void start_signal_control(LogLevel configured) {
    if (g_signal_thread.joinable())
        return;
    g_signal_stop.store(false);
    g_signal_thread = std::thread(signal_loop, configured);
}

void stop_signal_control() {
    if (!g_signal_thread.joinable())
        return;
    g_signal_stop.store(true);
    // Directed at the thread itself: the signal stays blocked everywhere else.
    pthread_kill(g_signal_thread.native_handle(), SIGUSR2);
    g_signal_thread.join();
}

void write(LogLevel level, std::string_view scope, std::string_view conn,
           std::string_view message) {
    std::string line;
    if (g_format.load(std::memory_order_relaxed) == LogFormat::json) {
        line = "{\"ts\":\"" + timestamp() + "\",\"level\":\"" + level_name(level) + "\",\"scope\":";
        append_json_string(line, scope);
        if (!conn.empty()) {
            line += ",\"conn\":";
            append_json_string(line, conn);
        }
        line += ",\"msg\":";
        append_json_string(line, message);
        line += "}\n";
    } else {
        line = fmt::format("{} {:<5} {}", timestamp(), level_name(level), scope);
        if (!conn.empty())
            line += fmt::format(" [{}]", conn);
        line += ": ";
        line += message;
        line += '\n';
    }
    std::lock_guard<std::mutex> lock(g_write_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

}  // namespace deskpod::log
