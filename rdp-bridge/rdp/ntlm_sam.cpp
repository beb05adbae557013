#include "rdp-bridge/rdp/ntlm_sam.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "rdp-bridge/rdp/freerdp.hpp"

namespace deskpod {

std::string nt_hash_hex(const std::string& password) {
    // The NT hash is MD4 over the UTF-16LE password. NTOWFv1A converts with CP_ACP, which
    // WinPR treats byte by byte: wrong for any non-ASCII UTF-8 password, which clients send
    // as proper UTF-16 and would then never match.
    // MD4 lives in OpenSSL 3's legacy provider, which WinPR's SSL setup loads. It runs once
    // per process whoever calls it first; the SAM file is written before the bridge starts.
    winpr_InitializeSSL(WINPR_SSL_INIT_DEFAULT);
    BYTE hash[16] = {};
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
    const bool ok = NTOWFv1W(wide ? wide : empty, UINT32(units) * sizeof(WCHAR), hash);
    free(wide);
    if (!ok)
        throw std::runtime_error("cannot compute the NTLM hash of the password");
    static const char digits[] = "0123456789abcdef";
    std::string hex;
    for (BYTE b : hash) {
        hex += digits[b >> 4];
        hex += digits[b & 0xF];
    }
    return hex;
}

std::string write_ntlm_sam_file(const Config& config) {
    const std::string path = config.state_dir + "/rdp-ntlm.sam";
    const std::string line = config.user + "::" + ":" + nt_hash_hex(config.password) + ":::\n";
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    }
    // An existing file keeps its mode through O_TRUNC; the hash is a password equivalent.
    const bool ok =
        fchmod(fd, 0600) == 0 && write(fd, line.data(), line.size()) == ssize_t(line.size());
    const int saved = errno;
    close(fd);
    if (!ok)
        throw std::runtime_error("cannot write " + path + ": " + std::strerror(saved));
    return path;
}

}  // namespace deskpod
