// resolve_secrets(): the state dir, the password sources and the TLS pair, on a real
// temporary file system.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "shared/config.hpp"

namespace deskpod {
namespace {

namespace fs = std::filesystem;

class SecretsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "deskpod-secrets-XXXXXX");
        root = ::mkdtemp(tmpl.data());
        ::unsetenv("DESKPOD_PASSWORD");
        cfg.state_dir = root + "/a/b/state";
    }
    void TearDown() override {
        ::unsetenv("DESKPOD_PASSWORD");
        fs::remove_all(root);
    }

    static unsigned mode_of(const std::string& path) {
        struct stat st {};
        EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
        return st.st_mode & 07777;
    }

    static std::string slurp(const std::string& path) {
        std::ifstream in(path);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

    std::string write(const std::string& name, const std::string& content) const {
        const std::string path = root + "/" + name;
        std::ofstream(path) << content;
        return path;
    }

    std::string error_of(Config& c) {
        try {
            resolve_secrets(c);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "";
    }

    std::string root;
    Config cfg;
};

TEST_F(SecretsTest, CreatesThePrivateStateDirWithItsParents) {
    resolve_secrets(cfg);
    EXPECT_EQ(mode_of(cfg.state_dir), 0700u);
    EXPECT_EQ(mode_of(root + "/a"), 0700u);
}

TEST_F(SecretsTest, TightensALooseStateDirOfOurs) {
    fs::create_directories(cfg.state_dir);
    ::chmod(cfg.state_dir.c_str(), 0755);
    resolve_secrets(cfg);
    EXPECT_EQ(mode_of(cfg.state_dir), 0700u);
}

TEST_F(SecretsTest, AStateDirThatIsAFileIsAConfigError) {
    cfg.state_dir = write("file", "x");
    EXPECT_NE(error_of(cfg).find("--state-dir"), std::string::npos);
}

TEST_F(SecretsTest, GeneratesThePasswordOnceAndReusesIt) {
    resolve_secrets(cfg);
    EXPECT_TRUE(cfg.password_generated);
    ASSERT_EQ(cfg.password.size(), 20u);
    for (char c : cfg.password) {
        EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << cfg.password;
        EXPECT_EQ(std::string("0O1lI").find(c), std::string::npos) << cfg.password;
    }
    const std::string stored = cfg.state_dir + "/password";
    EXPECT_EQ(mode_of(stored), 0600u);
    EXPECT_EQ(slurp(stored), cfg.password + "\n");

    Config again;
    again.state_dir = cfg.state_dir;
    resolve_secrets(again);
    EXPECT_EQ(again.password, cfg.password);
    EXPECT_TRUE(again.password_generated);  // still one the operator has to be shown

    Config other;
    other.state_dir = root + "/other";
    resolve_secrets(other);
    EXPECT_NE(other.password, cfg.password);
}

TEST_F(SecretsTest, EnvironmentPasswordIsUsedAndNotStored) {
    ::setenv("DESKPOD_PASSWORD", "from-env", 1);
    resolve_secrets(cfg);
    EXPECT_EQ(cfg.password, "from-env");
    EXPECT_FALSE(cfg.password_generated);
    EXPECT_FALSE(fs::exists(cfg.state_dir + "/password"));
}

TEST_F(SecretsTest, EmptyEnvironmentPasswordIsAnError) {
    ::setenv("DESKPOD_PASSWORD", "", 1);
    EXPECT_NE(error_of(cfg).find("DESKPOD_PASSWORD"), std::string::npos);
}

TEST_F(SecretsTest, PasswordFileWinsAndLosesItsTrailingNewline) {
    ::setenv("DESKPOD_PASSWORD", "from-env", 1);
    cfg.password_file = write("pw", "s3cret pass\n");
    resolve_secrets(cfg);
    EXPECT_EQ(cfg.password, "s3cret pass");
    EXPECT_FALSE(cfg.password_generated);

    Config crlf;
    crlf.state_dir = cfg.state_dir;
    crlf.password_file = write("pw2", "windows\r\n");
    resolve_secrets(crlf);
    EXPECT_EQ(crlf.password, "windows");
}

TEST_F(SecretsTest, UnusablePasswordFilesNameTheOption) {
    cfg.password_file = root + "/missing";
    std::string message = error_of(cfg);
    EXPECT_EQ(message.rfind("--password-file: cannot read", 0), 0u) << message;

    cfg.password_file = write("empty", "\n");
    message = error_of(cfg);
    EXPECT_EQ(message.rfind("--password-file:", 0), 0u) << message;
    EXPECT_NE(message.find("empty"), std::string::npos) << message;
    EXPECT_FALSE(fs::exists(cfg.state_dir + "/tls.key"));
}

struct X509Free {
    void operator()(X509* p) const { X509_free(p); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

std::unique_ptr<X509, X509Free> load_cert(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f)
        return nullptr;
    std::unique_ptr<X509, X509Free> cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
    std::fclose(f);
    return cert;
}

std::unique_ptr<EVP_PKEY, PkeyFree> load_key(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f)
        return nullptr;
    std::unique_ptr<EVP_PKEY, PkeyFree> key(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
    std::fclose(f);
    return key;
}

TEST_F(SecretsTest, GeneratesASelfSignedPairOnce) {
    resolve_secrets(cfg);
    EXPECT_EQ(cfg.tls_cert, cfg.state_dir + "/tls.crt");
    EXPECT_EQ(cfg.tls_key, cfg.state_dir + "/tls.key");
    EXPECT_EQ(mode_of(cfg.tls_key), 0600u);

    const auto cert = load_cert(cfg.tls_cert);
    const auto key = load_key(cfg.tls_key);
    ASSERT_TRUE(cert);
    ASSERT_TRUE(key);
    EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
    EXPECT_EQ(EVP_PKEY_get_base_id(key.get()), EVP_PKEY_RSA);
    EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 2048);
    EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_sha256WithRSAEncryption);
    // FreeRDP 2 reads the traditional PKCS#1 form.
    EXPECT_EQ(slurp(cfg.tls_key).rfind("-----BEGIN RSA PRIVATE KEY-----", 0), 0u);

    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof(cn));
    EXPECT_STREQ(cn, host);

    int days = 0, seconds = 0;
    ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert.get())), 1);
    EXPECT_GE(days, 3649);
    EXPECT_LE(days, 3650);

    const std::string cert_pem = slurp(cfg.tls_cert), key_pem = slurp(cfg.tls_key);
    Config again;
    again.state_dir = cfg.state_dir;
    resolve_secrets(again);
    EXPECT_EQ(slurp(again.tls_cert), cert_pem);
    EXPECT_EQ(slurp(again.tls_key), key_pem);
}

TEST_F(SecretsTest, AHalfPairInTheStateDirIsRegenerated) {
    resolve_secrets(cfg);
    const std::string old_key = slurp(cfg.tls_key);
    fs::remove(cfg.tls_cert);
    Config again;
    again.state_dir = cfg.state_dir;
    resolve_secrets(again);
    EXPECT_NE(slurp(again.tls_key), old_key);
    EXPECT_EQ(
        X509_check_private_key(load_cert(again.tls_cert).get(), load_key(again.tls_key).get()), 1);
}

TEST_F(SecretsTest, SuppliedPairIsCheckedAndKept) {
    Config source;
    source.state_dir = root + "/source";
    resolve_secrets(source);

    cfg.tls_cert = source.tls_cert;
    cfg.tls_key = source.tls_key;
    resolve_secrets(cfg);
    EXPECT_EQ(cfg.tls_cert, source.tls_cert);
    EXPECT_EQ(cfg.tls_key, source.tls_key);
    EXPECT_FALSE(fs::exists(cfg.state_dir + "/tls.crt"));
}

TEST_F(SecretsTest, SuppliedPairMistakesNameTheOption) {
    Config a, b;
    a.state_dir = root + "/a-state";
    b.state_dir = root + "/b-state";
    resolve_secrets(a);
    resolve_secrets(b);

    Config only_cert;
    only_cert.state_dir = cfg.state_dir;
    only_cert.tls_cert = a.tls_cert;
    std::string message = error_of(only_cert);
    EXPECT_EQ(message.rfind("--tls-key:", 0), 0u) << message;

    Config only_key;
    only_key.state_dir = cfg.state_dir;
    only_key.tls_key = a.tls_key;
    message = error_of(only_key);
    EXPECT_EQ(message.rfind("--tls-cert:", 0), 0u) << message;

    Config missing;
    missing.state_dir = cfg.state_dir;
    missing.tls_cert = root + "/nope.crt";
    missing.tls_key = a.tls_key;
    message = error_of(missing);
    EXPECT_EQ(message.rfind("--tls-cert: cannot read", 0), 0u) << message;

    Config garbage;
    garbage.state_dir = cfg.state_dir;
    garbage.tls_cert = a.tls_cert;
    garbage.tls_key = write("garbage.key", "not a key\n");
    message = error_of(garbage);
    EXPECT_EQ(message.rfind("--tls-key:", 0), 0u) << message;

    Config mismatched;
    mismatched.state_dir = cfg.state_dir;
    mismatched.tls_cert = a.tls_cert;
    mismatched.tls_key = b.tls_key;
    message = error_of(mismatched);
    EXPECT_EQ(message.rfind("--tls-key:", 0), 0u) << message;
    EXPECT_NE(message.find("does not match"), std::string::npos) << message;

    // A mistake is reported before anything is generated.
    EXPECT_FALSE(fs::exists(cfg.state_dir + "/password"));
}

}  // namespace
}  // namespace deskpod
