// libFuzzer target for the --config TOML file: arbitrary text, written to a file and read the
// way the binary reads it (parse_config with --config: toml++ parses it, then each key is
// looked up in the option table and its value checked like the same command-line option).
// Beyond not crashing: bad input is a ConfigError with a message (any other exception escapes
// and fails the run), and a file that is accepted gives a configuration within the limits
// docs/configuration.md states.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "shared/config.hpp"
#include "shared/monitors.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace deskpod;

namespace {

const std::string& config_path() {
    static const std::string path = [] {
        // tmpfs if there is one: on ext4, truncating a written file flushes it every time.
        const char* tmp = std::getenv("TMPDIR");
        const std::string dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                                : tmp && *tmp                 ? tmp
                                                              : "/tmp";
        return dir + "/deskpod-config-fuzz-" + std::to_string(getpid()) + ".toml";
    }();
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = config_path();
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
        FUZZ_CHECK(out.good());
    }
    // Removed after each run: libFuzzer ends with _Exit, so an atexit handler would not run.
    struct Remove {
        const std::string& path;
        ~Remove() { std::remove(path.c_str()); }
    } remove{path};
    Config cfg;
    try {
        const ParseOutcome outcome = parse_config({"--config", path}, {"HOME=/nonexistent"}, cfg);
        FUZZ_CHECK(outcome == ParseOutcome::run);
    } catch (const ConfigError& e) {
        FUZZ_CHECK(e.what()[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(cfg.config_file == path);
    FUZZ_CHECK(cfg.width >= MonitorLimits::kMinWidth && cfg.width <= MonitorLimits::kMaxSide);
    FUZZ_CHECK(cfg.height >= MonitorLimits::kMinHeight && cfg.height <= MonitorLimits::kMaxSide);
    FUZZ_CHECK(cfg.max_clients >= 1 && cfg.max_clients <= 64);
    FUZZ_CHECK(cfg.clipboard_limit <= (uint64_t(1) << 30));
    FUZZ_CHECK(!cfg.user.empty() && !cfg.session.empty() && !cfg.state_dir.empty());
    FUZZ_CHECK(cfg.password.empty());  // secrets never come from the file itself
    for (const Endpoint* e : {&cfg.rdp, &cfg.guac, &cfg.http})
        FUZZ_CHECK(!e->enabled || !e->host.empty());
    return 0;
}
