// NT hashes for the NTLM SAM file and the per-address failure throttle (rdp-bridge/rdp_auth.hpp).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "rdp-bridge/auth/credentials.hpp"
#include "rdp-bridge/auth/throttle.hpp"
#include "rdp-bridge/rdp/ntlm_sam.hpp"

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

TEST(NtlmSamFile, HoldsUserAndNtHashPrivately) {
    char dir_template[] = "/tmp/deskpod-test-auth-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    Config config;
    config.state_dir = dir_template;
    config.user = "deskpod";
    config.password = "password";
    const std::string path = write_ntlm_sam_file(config);
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), "deskpod:::8846f7eaee8fb117ad06bdd830b7586c:::\n");
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    unlink(path.c_str());
    rmdir(dir_template);
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
