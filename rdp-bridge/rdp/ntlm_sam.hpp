// The NTLM SAM file that NLA (CredSSP/NTLM in FreeRDP) checks RDP logons against.
#pragma once

#include <string>

#include "shared/config.hpp"

namespace deskpod {

// Writes `user::<LM>:<NT>:::` (WinPR's SAM format; empty domain matches any domain) into
// state_dir, mode 0600, and returns its path. Throws std::runtime_error on I/O failure.
std::string write_ntlm_sam_file(const Config& config);

// Lowercase hex NT hash (MD4 of the UTF-16LE password), as the SAM file stores it.
std::string nt_hash_hex(const std::string& password);

}  // namespace deskpod
