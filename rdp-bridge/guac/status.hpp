// Status codes guacd puts in `error` instructions (guacamole-common-js Guacamole.Status.Code),
// so Guacamole clients show their usual messages ("too many users", "timed out"...).
#pragma once

#include <cstdint>

namespace deskpod::guac {

enum class Status : uint16_t {
    success = 0x0000,
    unsupported = 0x0100,
    server_error = 0x0200,
    server_busy = 0x0201,
    upstream_timeout = 0x0202,
    upstream_error = 0x0203,
    resource_not_found = 0x0204,
    resource_conflict = 0x0205,
    resource_closed = 0x0206,
    session_closed = 0x020B,
    client_bad_request = 0x0300,
    client_unauthorized = 0x0301,
    client_forbidden = 0x0303,
    client_timeout = 0x0308,
    client_overrun = 0x030D,
    client_bad_type = 0x030F,
    client_too_many = 0x031D,
};

}  // namespace deskpod::guac
