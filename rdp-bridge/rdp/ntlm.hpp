// How NLA (CredSSP with NTLMv2, inside FreeRDP) checks an RDP logon against deskpod's user and
// password without a password file: FreeRDP asks the peer's ComputeNtlmHash callback for the
// user's NTLMv2 key and then verifies the client's proof itself. check_ntlm_logon() answers that
// callback and, because it sees the same inputs, also tells whether the client's proof will
// match, so a handshake that fails afterwards can be told apart from a wrong password.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace deskpod {

using NtHash = std::array<uint8_t, 16>;

// The NT hash (MD4 of the UTF-16LE password). Throws std::runtime_error if it cannot be
// computed (a password that is not UTF-8).
NtHash nt_hash(const std::string& password);
// The same in lowercase hex, as Windows tools print it.
std::string nt_hash_hex(const std::string& password);

enum class NtlmVerdict {
    not_checked,  // the client never sent its NTLM AUTHENTICATE message
    right,        // user and password match: the client's MIC verifies
    wrong_user,   // a user name other than deskpod's
    wrong_password,
    unverified,  // the right user, but the client sent no MIC to verify the password with
};
const char* to_string(NtlmVerdict verdict);

// What FreeRDP hands the callback for one AUTHENTICATE message (winpr/ntlm.h,
// psPeerComputeNtlmHash), as plain bytes.
struct NtlmAuthenticate {
    std::u16string user, domain;     // as the client sent them
    const uint8_t* proof = nullptr;  // ServerChallenge || NTLMv2 client blob
    size_t proof_size = 0;
    const uint8_t* encrypted_session_key = nullptr;  // 16 bytes
    const uint8_t* mic = nullptr;                    // 16 bytes, zero when absent
    const uint8_t* messages = nullptr;  // NEGOTIATE || CHALLENGE || AUTHENTICATE, MIC zeroed
    size_t messages_size = 0;
};

struct NtlmLogonCheck {
    NtlmVerdict verdict = NtlmVerdict::not_checked;
    std::string user;  // the user name the client gave, UTF-8
    // NTOWFv2 of deskpod's password for the client's user and domain: what FreeRDP needs.
    std::array<uint8_t, 16> ntlmv2_key{};
};

// Checks `message` against deskpod's user (exact match, as WinPR's SAM lookup did) and NT
// hash. With verdict wrong_user the key is left zero and the logon must be refused.
NtlmLogonCheck check_ntlm_logon(const NtlmAuthenticate& message, const std::string& user,
                                const NtHash& password_hash);

}  // namespace deskpod
