// The state dir and what it holds: the password and the TLS pair. Everything here runs once at
// startup, before any thread exists, so plain blocking I/O is fine.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "shared/config.hpp"
#include "shared/log.hpp"

namespace deskpod {
namespace {

const log::Logger logger("secrets");

// Unambiguous when read aloud or copied from a terminal: no 0/O, 1/l/I.
constexpr std::string_view kPasswordAlphabet =
    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
constexpr size_t kPasswordLength = 20;
constexpr int kCertValidityDays = 3650;

struct BioFree {
    void operator()(BIO* p) const { BIO_free(p); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
    void operator()(X509* p) const { X509_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

std::string errno_text(int err) {
    return std::strerror(err);
}

std::string openssl_error() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0)
        return "unknown OpenSSL error";
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    return buf;
}

[[noreturn]] void io_failure(std::string_view what, const std::string& path, int err) {
    throw std::runtime_error(fmt::format("cannot {} {}: {}", what, path, errno_text(err)));
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

// mkdir -p where every directory we create is private: the parents of a default state dir
// (~/.local/state) are per-user directories too.
void make_private_dirs(const std::string& dir) {
    for (size_t pos = 1; pos <= dir.size(); ++pos) {
        if (pos != dir.size() && dir[pos] != '/')
            continue;
        const std::string prefix = dir.substr(0, pos);
        if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
            io_failure("create the state dir", prefix, errno);
        }
    }
}

void prepare_state_dir(const std::string& dir) {
    make_private_dirs(dir);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0)
        io_failure("inspect the state dir", dir, errno);
    if (!S_ISDIR(st.st_mode)) {
        throw ConfigError(fmt::format("--state-dir: \"{}\" exists and is not a directory", dir));
    }
    if ((st.st_mode & 077) == 0)
        return;
    // Tighten only a directory that is plainly ours; chmod-ing a shared one such as /tmp
    // (sticky) would break other users, so there the 0600 files have to be enough.
    if (st.st_uid == ::geteuid() && (st.st_mode & S_ISVTX) == 0 &&
        ::chmod(dir.c_str(), 0700) == 0) {
        logger.warn("state dir {} was accessible to others (mode {:o}); changed it to 0700", dir,
                    st.st_mode & 07777);
    } else {
        logger.warn(
            "state dir {} is accessible to others (mode {:o}); the files in it are 0600, "
            "but a private directory is safer",
            dir, st.st_mode & 07777);
    }
}

std::string read_file(const std::string& path, int* err) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = errno;
        return {};
    }
    std::string data;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *err = errno;
            ::close(fd);
            return {};
        }
        if (n == 0)
            break;
        data.append(buf, size_t(n));
    }
    ::close(fd);
    *err = 0;
    return data;
}

void strip_line_end(std::string& s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
}

// Writes through a temporary and rename(), so a crash never leaves a half-written secret.
void write_private_file(const std::string& path, std::string_view data) {
    const std::string tmp = path + ".tmp";
    ::unlink(tmp.c_str());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        io_failure("create", tmp, errno);
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            io_failure("write", tmp, err);
        }
        done += size_t(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        io_failure("write", tmp, err);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        io_failure("rename", tmp, err);
    }
}

void tighten_file_mode(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || (st.st_mode & 077) == 0)
        return;
    if (::chmod(path.c_str(), 0600) == 0) {
        logger.warn("{} was readable by others (mode {:o}); changed it to 0600", path,
                    st.st_mode & 07777);
    } else {
        logger.warn("{} is readable by others (mode {:o}) and cannot be changed: {}", path,
                    st.st_mode & 07777, errno_text(errno));
    }
}

std::string generate_password() {
    // Rejection sampling keeps every character equally likely.
    const unsigned limit = 256 - 256 % kPasswordAlphabet.size();
    std::string password;
    unsigned char buf[64];
    while (password.size() < kPasswordLength) {
        if (RAND_bytes(buf, sizeof(buf)) != 1) {
            throw std::runtime_error("cannot generate a password: " + openssl_error());
        }
        for (unsigned char b : buf) {
            if (b < limit && password.size() < kPasswordLength) {
                password += kPasswordAlphabet[b % kPasswordAlphabet.size()];
            }
        }
    }
    return password;
}

std::string read_password_file(const std::string& path) {
    int err = 0;
    std::string password = read_file(path, &err);
    if (err != 0) {
        throw ConfigError(
            fmt::format("--password-file: cannot read \"{}\": {}", path, errno_text(err)));
    }
    strip_line_end(password);
    if (password.empty()) {
        throw ConfigError(fmt::format(
            "--password-file: \"{}\" is empty; expected a FILE holding the password", path));
    }
    return password;
}

// The sources after --password-file: DESKPOD_PASSWORD, the stored one, a new one.
void resolve_password(Config& cfg) {
    if (const char* env = std::getenv("DESKPOD_PASSWORD")) {
        // Falling back to a generated password here would silently change the credentials
        // someone meant to set.
        if (*env == '\0') {
            throw ConfigError(
                "DESKPOD_PASSWORD is set but empty; set a password or unset it to use a "
                "generated one");
        }
        cfg.password = env;
        return;
    }
    const std::string stored = cfg.state_dir + "/password";
    if (exists(stored)) {
        tighten_file_mode(stored);
        int err = 0;
        std::string password = read_file(stored, &err);
        if (err != 0)
            io_failure("read", stored, err);
        strip_line_end(password);
        if (password.empty()) {
            throw ConfigError(fmt::format(
                "the stored password file \"{}\" is empty; delete it to generate a new password",
                stored));
        }
        cfg.password = std::move(password);
        cfg.password_generated = true;
        return;
    }
    cfg.password = generate_password();
    write_private_file(stored, cfg.password + "\n");
    cfg.password_generated = true;
    logger.info("generated a password into {}", stored);
}

X509Ptr load_certificate(const std::string& path) {
    BioPtr bio(BIO_new_file(path.c_str(), "r"));
    if (!bio)
        return nullptr;
    return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

PkeyPtr load_private_key(const std::string& path) {
    BioPtr bio(BIO_new_file(path.c_str(), "r"));
    if (!bio)
        return nullptr;
    return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// Catches a wrong or mismatched file at startup rather than as an opaque handshake failure
// when the first client connects.
void check_tls_pair(const std::string& cert_path, const std::string& key_path,
                    std::string_view cert_option, std::string_view key_option) {
    int err = 0;
    read_file(cert_path, &err);
    if (err != 0) {
        throw ConfigError(
            fmt::format("{}: cannot read \"{}\": {}", cert_option, cert_path, errno_text(err)));
    }
    read_file(key_path, &err);
    if (err != 0) {
        throw ConfigError(
            fmt::format("{}: cannot read \"{}\": {}", key_option, key_path, errno_text(err)));
    }
    const X509Ptr cert = load_certificate(cert_path);
    ERR_clear_error();
    if (!cert) {
        throw ConfigError(
            fmt::format("{}: \"{}\" is not a PEM certificate", cert_option, cert_path));
    }
    const PkeyPtr key = load_private_key(key_path);
    ERR_clear_error();
    if (!key) {
        throw ConfigError(
            fmt::format("{}: \"{}\" is not an unencrypted PEM private key", key_option, key_path));
    }
    // FreeRDP 2 loads the server key as RSA only.
    if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
        throw ConfigError(fmt::format(
            "{}: \"{}\" is not an RSA key; FreeRDP 2 RDP servers need RSA", key_option, key_path));
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        throw ConfigError(fmt::format("{}: \"{}\" does not match the certificate \"{}\"",
                                      key_option, key_path, cert_path));
    }
}

std::string host_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0')
        return "deskpod";
    return name;
}

void add_extension(X509* cert, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext || X509_add_ext(cert, ext, -1) != 1) {
        X509_EXTENSION_free(ext);
        throw std::runtime_error("cannot build the TLS certificate: " + openssl_error());
    }
    X509_EXTENSION_free(ext);
}

std::string to_pem(X509* cert) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
        throw std::runtime_error("cannot encode the TLS certificate: " + openssl_error());
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, size_t(len));
}

std::string to_pem(EVP_PKEY* key) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    // The traditional "RSA PRIVATE KEY" form is the one every FreeRDP 2 release reads.
    if (!bio || PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                                     nullptr) != 1) {
        throw std::runtime_error("cannot encode the TLS key: " + openssl_error());
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, size_t(len));
}

// RSA 2048: FreeRDP 2 servers accept only RSA keys, and every RDP client supports them.
void generate_tls_pair(const std::string& cert_path, const std::string& key_path) {
    PkeyPtr key(EVP_RSA_gen(2048));
    if (!key)
        throw std::runtime_error("cannot generate the TLS key: " + openssl_error());

    X509Ptr cert(X509_new());
    if (!cert)
        throw std::runtime_error("cannot build the TLS certificate: " + openssl_error());
    X509_set_version(cert.get(), 2);  // v3, needed for the extensions

    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof(serial)) != 1) {
        throw std::runtime_error("cannot build the TLS certificate: " + openssl_error());
    }
    serial[0] &= 0x7f;  // serial numbers must be positive
    BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
    const bool serial_ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    if (!serial_ok)
        throw std::runtime_error("cannot build the TLS certificate: " + openssl_error());

    // An hour back tolerates clients whose clocks run a little behind ours.
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_time_adj_ex(X509_getm_notAfter(cert.get()), kCertValidityDays, 0, nullptr);

    const std::string cn = host_name();
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509_set_pubkey(cert.get(), key.get());

    add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
    add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
    add_extension(cert.get(), NID_subject_key_identifier, "hash");
    std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
    // A host name that is not a valid DNS name would make the SAN extension fail to build.
    bool dns_ok = true;
    for (unsigned char c : cn)
        dns_ok = dns_ok && (std::isalnum(c) || c == '-' || c == '.');
    if (dns_ok && cn != "localhost")
        san = "DNS:" + cn + "," + san;
    add_extension(cert.get(), NID_subject_alt_name, san);

    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
        throw std::runtime_error("cannot sign the TLS certificate: " + openssl_error());
    }

    // Key first: a crash in between leaves a key without certificate, which is regenerated.
    write_private_file(key_path, to_pem(key.get()));
    write_private_file(cert_path, to_pem(cert.get()));
}

// True when the user supplied a (valid) pair.
bool check_supplied_tls(const Config& cfg) {
    if (cfg.tls_cert.empty() && cfg.tls_key.empty())
        return false;
    if (cfg.tls_cert.empty() || cfg.tls_key.empty()) {
        throw ConfigError(
            fmt::format("{}: expected --tls-cert FILE and --tls-key FILE together, got only {}",
                        cfg.tls_cert.empty() ? "--tls-cert" : "--tls-key",
                        cfg.tls_cert.empty() ? "--tls-key" : "--tls-cert"));
    }
    check_tls_pair(cfg.tls_cert, cfg.tls_key, "--tls-cert", "--tls-key");
    return true;
}

void resolve_generated_tls(Config& cfg) {
    const std::string cert_path = cfg.state_dir + "/tls.crt";
    const std::string key_path = cfg.state_dir + "/tls.key";
    const bool have_cert = exists(cert_path), have_key = exists(key_path);
    if (have_cert && have_key) {
        tighten_file_mode(key_path);
        try {
            check_tls_pair(cert_path, key_path, "stored certificate", "stored key");
        } catch (const ConfigError& e) {
            throw ConfigError(
                fmt::format("{} (delete {} and {} to generate a new self-signed pair)", e.what(),
                            cert_path, key_path));
        }
    } else {
        if (have_cert || have_key) {
            logger.warn("only one of {} and {} exists; generating a new pair", cert_path, key_path);
        }
        generate_tls_pair(cert_path, key_path);
        logger.info("generated a self-signed TLS certificate {} (CN={}, valid {} days)", cert_path,
                    host_name(), kCertValidityDays);
    }
    cfg.tls_cert = cert_path;
    cfg.tls_key = key_path;
}

}  // namespace

void resolve_secrets(Config& cfg) {
    if (cfg.state_dir.empty())
        throw ConfigError("--state-dir: expected DIR, got \"\"");
    // What the user supplied is checked before anything is written, so a mistake in it leaves
    // no generated password or key behind.
    const bool supplied_tls = check_supplied_tls(cfg);
    if (!cfg.password_file.empty())
        cfg.password = read_password_file(cfg.password_file);

    prepare_state_dir(cfg.state_dir);
    if (cfg.password_file.empty())
        resolve_password(cfg);
    if (!supplied_tls)
        resolve_generated_tls(cfg);
}

}  // namespace deskpod
