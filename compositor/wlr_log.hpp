// Routes wlroots' own log lines into deskpod's logger (scope "wlroots").
#pragma once

namespace deskpod::compositor {

// Process-wide (wlroots has one log callback). wlroots' debug lines appear only at debug level.
void route_wlroots_log();

}  // namespace deskpod::compositor
