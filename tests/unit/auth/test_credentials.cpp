// NT hashes, the NTLM logon check and the per-address failure throttle (rdp-bridge/rdp_auth.hpp).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "rdp-bridge/auth/credentials.hpp"
#include "rdp-bridge/auth/throttle.hpp"
#include "rdp-bridge/rdp/freerdp.hpp"
#include "rdp-bridge/rdp/ntlm.hpp"

namespace deskpod {
namespace {

TEST(NtHash, KnownAsciiVector) {
    // The classic NTLM test vector (MD4 of "password" in UTF-16LE).
    EXPECT_EQ(nt_hash_hex("password"), "8846f7eaee8fb117ad06bdd830b7586c");
}

TEST(NtHash, EmptyPassword) {
    // MD4 of the empty string.
    EXPECT_EQ(nt_hash_hex(""), "31d6cfe0d16ae931b73c59d7e0c089c0");
}

TEST(NtHash, NonAsciiUtf8IsHashedAsUtf16) {
    // Latin-1 range, BMP (euro sign) and a surrogate pair (U+1F511). Derived with
    //   printf 'Pässwörd-€-🔑' | iconv -f utf-8 -t utf-16le |
    //       openssl dgst -md4 -provider legacy -provider default
    // and cross-checked with a pure-Python MD4 over 'Pässwörd-€-🔑'.encode('utf-16le').
    EXPECT_EQ(nt_hash_hex("P\xC3\xA4sswö"
                          "rd-\xE2\x82\xAC-\xF0\x9F\x94\x91"),
              "1f9f75c031e87322cbaeb935142ddb5b");
}

// MS-NLMP 4.2.4 (NTLMv2 authentication): user "User", domain "Domain", password "Password".
struct Nlmp424 {
    static std::vector<uint8_t> hex(const char* h) {
        std::vector<uint8_t> out;
        for (size_t i = 0; h[i] && h[i + 1]; i += 2)
            out.push_back(uint8_t(std::stoi(std::string(h + i, 2), nullptr, 16)));
        return out;
    }
    // ServerChallenge || temp (MS-NLMP 3.3.2, with the example's AV pairs).
    std::vector<uint8_t> proof =
        hex("0123456789abcdef"
            "0101000000000000"
            "0000000000000000"
            "aaaaaaaaaaaaaaaa"
            "00000000"
            "02000c0044006f006d00610069006e00"
            "01000c0053006500720076006500720000000000"
            "00000000");
    std::vector<uint8_t> encrypted_key = hex("c5dad2544fc9799094ce1ce90bc9d03e");
    std::vector<uint8_t> random_session_key = hex("55555555555555555555555555555555");
    std::vector<uint8_t> messages = hex("4e544c4d53535000010000000102030405060708090a0b0c0d0e0f");
    std::vector<uint8_t> mic;

    Nlmp424() {
        // The client's MIC: HMAC-MD5 keyed with the ExportedSessionKey (the example's
        // RandomSessionKey) over the three messages.
        mic.resize(16);
        EXPECT_TRUE(winpr_HMAC(WINPR_MD_MD5, random_session_key.data(), 16, messages.data(),
                               messages.size(), mic.data(), mic.size()));
    }
    NtlmAuthenticate message(const std::u16string& user) const {
        NtlmAuthenticate m;
        m.user = user;
        m.domain = u"Domain";
        m.proof = proof.data();
        m.proof_size = proof.size();
        m.encrypted_session_key = encrypted_key.data();
        m.mic = mic.data();
        m.messages = messages.data();
        m.messages_size = messages.size();
        return m;
    }
};

TEST(NtlmLogon, RightPasswordVerifiesAgainstTheSpecExample) {
    Nlmp424 example;
    const NtlmLogonCheck check =
        check_ntlm_logon(example.message(u"User"), "User", nt_hash("Password"));
    EXPECT_EQ(check.verdict, NtlmVerdict::right);
    EXPECT_EQ(check.user, "User");
    // ResponseKeyNT of the example (NTOWFv2 of Password for User/Domain).
    const auto expected = Nlmp424::hex("0c868a403bfd7a93a3001ef22ef02e3f");
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), check.ntlmv2_key.begin()));
}

TEST(NtlmLogon, WrongPasswordIsToldApart) {
    Nlmp424 example;
    const NtlmLogonCheck check =
        check_ntlm_logon(example.message(u"User"), "User", nt_hash("password"));
    EXPECT_EQ(check.verdict, NtlmVerdict::wrong_password);
}

TEST(NtlmLogon, OtherUserIsRefusedWithoutAKey) {
    Nlmp424 example;
    const NtlmLogonCheck check =
        check_ntlm_logon(example.message(u"admin\n"), "User", nt_hash("Password"));
    EXPECT_EQ(check.verdict, NtlmVerdict::wrong_user);
    EXPECT_EQ(check.user, "admin\n");
    EXPECT_EQ(check.ntlmv2_key, (std::array<uint8_t, 16>{}));
}

TEST(NtlmLogon, NoMicCannotBeVerified) {
    Nlmp424 example;
    std::fill(example.mic.begin(), example.mic.end(), uint8_t(0));
    const NtlmLogonCheck check =
        check_ntlm_logon(example.message(u"User"), "User", nt_hash("Password"));
    EXPECT_EQ(check.verdict, NtlmVerdict::unverified);
}

TEST(AuthThrottle, DoublesDelayAndResetsOnSuccess) {
    AuthThrottle throttle;
    const auto now = AuthThrottle::Clock::now();
    EXPECT_EQ(throttle.delay_for("10.0.0.1", now).count(), 0);
    throttle.record_failure("10.0.0.1", now);
    EXPECT_EQ(throttle.delay_for("10.0.0.1", now).count(), 1000);
    throttle.record_failure("10.0.0.1", now);
    EXPECT_EQ(throttle.delay_for("10.0.0.1", now).count(), 2000);
    EXPECT_EQ(throttle.delay_for("10.0.0.2", now).count(), 0);
    throttle.record_success("10.0.0.1");
    EXPECT_EQ(throttle.delay_for("10.0.0.1", now).count(), 0);
}

}  // namespace
}  // namespace deskpod
