#include "compositor/wlr_log.hpp"

#include <cstdarg>
#include <cstdio>
#include <string_view>

#include "compositor/wlr.hpp"
#include "shared/log.hpp"

namespace deskpod::compositor {
namespace {

void forward(wlr_log_importance importance, const char* format, va_list args) {
    LogLevel level = LogLevel::debug;
    if (importance == WLR_ERROR) {
        level = LogLevel::error;
    } else if (importance == WLR_INFO) {
        level = LogLevel::info;
    }
    if (!log::enabled(level))
        return;
    char line[1024];
    const int n = std::vsnprintf(line, sizeof(line), format, args);
    if (n < 0)
        return;
    std::string_view text(line, std::min<size_t>(size_t(n), sizeof(line) - 1));
    log::write(level, "wlroots", "", text);
}

}  // namespace

void route_wlroots_log() {
    wlr_log_importance verbosity = WLR_ERROR;
    if (log::enabled(LogLevel::debug)) {
        verbosity = WLR_DEBUG;
    } else if (log::enabled(LogLevel::info)) {
        verbosity = WLR_INFO;
    }
    wlr_log_init(verbosity, &forward);
}

}  // namespace deskpod::compositor
