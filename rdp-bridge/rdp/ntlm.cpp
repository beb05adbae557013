#include "rdp-bridge/rdp/ntlm.hpp"

#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "rdp-bridge/rdp/freerdp.hpp"

namespace deskpod {

namespace {

// UTF-16 from the wire to UTF-8 for comparing and logging; nullopt-like empty flag on failure.
bool to_utf8(const std::u16string& in, std::string& out) {
    out.clear();
    if (in.empty())
        return true;
    char* utf8 = nullptr;
    const int n = ConvertFromUnicode(CP_UTF8, 0, reinterpret_cast<const WCHAR*>(in.data()),
                                     int(in.size()), &utf8, 0, nullptr, nullptr);
    if (n <= 0 || !utf8) {
        free(utf8);
        return false;
    }
    out.assign(utf8, size_t(n));
    free(utf8);
    return true;
}

using Md5 = std::array<uint8_t, 16>;

Md5 hmac_md5(const uint8_t* key, const uint8_t* data, size_t size) {
    Md5 out{};
    if (!winpr_HMAC(WINPR_MD_MD5, key, 16, data, size, out.data(), out.size()))
        throw std::runtime_error("HMAC-MD5 failed");
    return out;
}

// MS-NLMP 3.3.2 (NTLMv2) and 3.1.5.1.2: the MIC a client that knows the password computes.
// FreeRDP does the same computation to accept or refuse the logon; it does not tell the
// caller which way it went, so it is repeated here for the accounting only.
bool mic_matches(const NtlmAuthenticate& m, const Md5& ntlmv2_key, bool key_exchange) {
    const Md5 nt_proof = hmac_md5(ntlmv2_key.data(), m.proof, m.proof_size);
    const Md5 session_base_key = hmac_md5(ntlmv2_key.data(), nt_proof.data(), nt_proof.size());
    Md5 exported = session_base_key;
    if (key_exchange) {
        WINPR_RC4_CTX* rc4 = winpr_RC4_New(session_base_key.data(), session_base_key.size());
        if (!rc4)
            throw std::runtime_error("RC4 is not available");
        const bool ok =
            winpr_RC4_Update(rc4, exported.size(), m.encrypted_session_key, exported.data());
        winpr_RC4_Free(rc4);
        if (!ok)
            throw std::runtime_error("RC4 failed");
    }
    const Md5 mic = hmac_md5(exported.data(), m.messages, m.messages_size);
    return std::memcmp(mic.data(), m.mic, mic.size()) == 0;
}

}  // namespace

NtHash nt_hash(const std::string& password) {
    // The NT hash is MD4 over the UTF-16LE password. NTOWFv1A converts with CP_ACP, which
    // WinPR treats byte by byte: wrong for any non-ASCII UTF-8 password, which clients send
    // as proper UTF-16 and would then never match.
    // MD4 lives in OpenSSL 3's legacy provider, which WinPR's SSL setup loads. It runs once
    // per process whoever calls it first.
    winpr_InitializeSSL(WINPR_SSL_INIT_DEFAULT);
    NtHash hash{};
    WCHAR empty[1] = {0};
    WCHAR* wide = nullptr;
    int units = 0;
    if (!password.empty()) {
        if (password.size() > INT32_MAX)
            throw std::runtime_error("the password is too long");
        units = ConvertToUnicode(CP_UTF8, 0, password.data(), int(password.size()), &wide, 0);
        if (units <= 0 || !wide) {
            free(wide);
            throw std::runtime_error("cannot convert the password to UTF-16");
        }
    }
    const bool ok = NTOWFv1W(wide ? wide : empty, UINT32(units) * sizeof(WCHAR), hash.data());
    free(wide);
    if (!ok)
        throw std::runtime_error("cannot compute the NTLM hash of the password");
    return hash;
}

std::string nt_hash_hex(const std::string& password) {
    static const char digits[] = "0123456789abcdef";
    std::string hex;
    for (uint8_t b : nt_hash(password)) {
        hex += digits[b >> 4];
        hex += digits[b & 0xF];
    }
    return hex;
}

const char* to_string(NtlmVerdict verdict) {
    switch (verdict) {
        case NtlmVerdict::not_checked:
            return "not checked";
        case NtlmVerdict::right:
            return "right";
        case NtlmVerdict::wrong_user:
            return "unknown user";
        case NtlmVerdict::wrong_password:
            return "wrong password";
        case NtlmVerdict::unverified:
            return "unverified";
    }
    return "unknown";
}

NtlmLogonCheck check_ntlm_logon(const NtlmAuthenticate& message, const std::string& user,
                                const NtHash& password_hash) {
    NtlmLogonCheck check;
    if (!to_utf8(message.user, check.user) || check.user != user) {
        if (check.user.empty() && !message.user.empty())
            check.user = "(not UTF-16)";
        check.verdict = NtlmVerdict::wrong_user;
        return check;
    }
    std::u16string name = message.user, domain = message.domain;
    NtHash v1 = password_hash;
    if (!NTOWFv2FromHashW(v1.data(), reinterpret_cast<WCHAR*>(name.data()),
                          UINT32(name.size() * sizeof(char16_t)),
                          domain.empty() ? nullptr : reinterpret_cast<WCHAR*>(domain.data()),
                          UINT32(domain.size() * sizeof(char16_t)), check.ntlmv2_key.data())) {
        check.verdict = NtlmVerdict::wrong_user;
        return check;
    }
    static constexpr uint8_t kNoMic[16] = {};
    if (!message.mic || !message.proof || !message.messages || !message.encrypted_session_key ||
        std::memcmp(message.mic, kNoMic, sizeof(kNoMic)) == 0) {
        check.verdict = NtlmVerdict::unverified;
        return check;
    }
    // Whether the client negotiated key exchange is in its flags; trying both ways is simpler
    // than parsing them again and cannot make a wrong password look right by accident (the
    // chance of a 128-bit MIC matching either way is negligible).
    check.verdict = mic_matches(message, check.ntlmv2_key, true) ||
                            mic_matches(message, check.ntlmv2_key, false)
                        ? NtlmVerdict::right
                        : NtlmVerdict::wrong_password;
    return check;
}

}  // namespace deskpod
