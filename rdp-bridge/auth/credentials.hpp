// The credential check shared by every protocol that logs a person in: RDP with
// --rdp-security tls (the logon info) and the web client's login form. NLA checks NTLM
// credentials instead (rdp-bridge/rdp/ntlm.hpp).
#pragma once

#include <string>

#include "shared/config.hpp"

namespace deskpod {

// Constant-time comparison of the logon credentials with the configured ones. The user
// name is compared case-insensitively, as Windows does.
bool credentials_match(const Config& config, const std::string& user, const std::string& password);

}  // namespace deskpod
