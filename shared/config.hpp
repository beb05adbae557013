// deskpod's configuration: the command-line contract of docs/configuration.md, filled from (in
// rising precedence) built-in defaults, a --config TOML file, DESKPOD_* environment variables
// and the command line.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace deskpod {

struct Endpoint {
    bool enabled = true;
    std::string host;
    uint16_t port = 0;
    std::string to_string() const;  // "host:port" or "off"
    bool operator==(const Endpoint&) const = default;
};

enum class BackendKind { headless, x11 };
enum class RdpSecurity { nla, tls };
// H.264 for RDP clients that take it: the best encoder this build has, none, or one by name.
enum class RdpH264 { automatic, off, x264, openh264 };
enum class SessionExit { restart, quit };
enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3 };
enum class LogFormat { text, json };

struct Config {
    std::string config_file;
    BackendKind backend = BackendKind::headless;
    int32_t width = 1920;
    int32_t height = 1080;
    Endpoint rdp{true, "0.0.0.0", 3389};
    Endpoint guac{true, "127.0.0.1", 4822};
    Endpoint http{true, "0.0.0.0", 8080};
    RdpSecurity rdp_security = RdpSecurity::nla;
    bool rdp_gfx = true;  // offer the graphics pipeline
    RdpH264 rdp_h264 = RdpH264::automatic;
    int rdp_h264_max_kbps = 4000;  // the H.264 average bitrate while a client keeps up
    int rdp_h264_quality = 23;     // H.264 quantiser for areas in motion, 10 (best) to 40
    std::string user = "deskpod";
    std::string password_file;
    std::string tls_cert;
    std::string tls_key;
    std::string state_dir;  // resolved to $XDG_STATE_HOME/deskpod (or ~/.local/state/deskpod)
    std::string session = "foot";
    SessionExit session_exit = SessionExit::restart;
    std::string wayland_socket = "wayland-deskpod";
    std::optional<bool> xwayland;  // unset: on when Xwayland is installed
    int max_clients = 4;
    uint64_t clipboard_limit = 16777216;
    // Share the primary selection (select to copy, middle-click paste) with the viewers:
    // docs/clipboard-keyboard.md. Off: it stays inside the desktop.
    bool primary_selection = false;
    LogLevel log_level = LogLevel::info;
    LogFormat log_format = LogFormat::text;

    // Filled by resolve_secrets() (never from the command line):
    std::string password;
    bool password_generated = false;

    bool operator==(const Config&) const = default;
};

// Bad user input: the message names the option and the accepted form. main() prints it and
// exits 2.
class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// exit_ok: --help or --version was printed. show_licenses: --licenses was given; the caller prints
// the licence text (it is embedded with the web client, outside shared/) and exits 0.
enum class ParseOutcome { run, exit_ok, show_licenses };

// Parses argv (and the environment and --config file it names) into `out`.
// Throws ConfigError on invalid input. Prints --help/--version text to stdout.
ParseOutcome parse_config(int argc, char** argv, Config& out);

// Parses from an explicit environment (tests use this; parse_config passes `environ`).
// `args` are the arguments after the program name; `environment` holds "NAME=value" entries.
ParseOutcome parse_config(const std::vector<std::string>& args,
                          const std::vector<std::string>& environment, Config& out);

// The --help text, generated from the option table.
std::string help_text();

// What --help shows of each option, in the order of the option table, so tests can hold the
// help to the table.
struct OptionDoc {
    std::string name;           // without the leading dashes
    std::string metavar;        // empty for a flag
    std::string default_value;  // the default, as a value the option accepts; empty if none
    std::string default_note;   // a default that is not one value, in words
};
std::vector<OptionDoc> documented_options();

// Creates the state dir (0700), loads or generates the password (0600) and the TLS pair.
// Throws ConfigError (unusable files) or std::runtime_error (I/O failure).
void resolve_secrets(Config& cfg);

}  // namespace deskpod
