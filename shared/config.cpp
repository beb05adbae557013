#include "shared/config.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "shared/monitors.hpp"

extern char** environ;

namespace deskpod {
namespace {

constexpr int kMaxClientsLimit = 64;
constexpr uint64_t kMinClipboard = 1024;
constexpr uint64_t kMaxClipboard = uint64_t(1) << 30;

// Where a value came from, so an error tells the user which line of which input to fix.
struct Origin {
    std::string option;  // "--size"
    std::string where;   // "", "DESKPOD_SIZE", "key \"size\" in deskpod.toml"

    std::string label() const { return where.empty() ? option : option + " (from " + where + ")"; }
};

[[noreturn]] void invalid(const Origin& origin, std::string_view expected, std::string_view got) {
    throw ConfigError(fmt::format("{}: expected {}, got \"{}\"", origin.label(), expected, got));
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return out;
}

// Strict decimal: digits only, no sign, no spaces, no overflow.
std::optional<uint64_t> parse_unsigned(std::string_view s) {
    if (s.empty() ||
        !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) {
        return std::nullopt;
    }
    uint64_t value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size())
        return std::nullopt;
    return value;
}

// A whole number from `lo` to `hi`; anything else fails with "<what> between <lo> and <hi>".
int parse_bounded(std::string_view v, const Origin& o, std::string_view what, int lo, int hi) {
    const auto n = parse_unsigned(v);
    if (!n || *n < uint64_t(lo) || *n > uint64_t(hi))
        invalid(o, fmt::format("{} between {} and {}", what, lo, hi), v);
    return int(*n);
}

std::optional<bool> parse_bool(std::string_view s) {
    const std::string v = lower(s);
    if (v == "1" || v == "true" || v == "yes" || v == "on")
        return true;
    if (v == "0" || v == "false" || v == "no" || v == "off")
        return false;
    return std::nullopt;
}

// A boolean option: a bare flag on the command line ("true"), or a value from --opt=VALUE, the
// environment or the config file.
bool parse_flag(std::string_view v, const Origin& origin) {
    const auto b = parse_bool(v);
    if (!b)
        invalid(origin, "true|false (also 1|0, yes|no, on|off)", v);
    return *b;
}

bool is_hostname(std::string_view host) {
    if (host.empty() || host.size() > 253)
        return false;
    bool all_numeric = true;
    size_t start = 0;
    while (start <= host.size()) {
        size_t dot = host.find('.', start);
        if (dot == std::string_view::npos)
            dot = host.size();
        const std::string_view label = host.substr(start, dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
            return false;
        }
        for (unsigned char c : label) {
            if (!std::isalnum(c) && c != '-')
                return false;
            if (!std::isdigit(c))
                all_numeric = false;
        }
        start = dot + 1;
    }
    // "999.1.1.1" looks like an address, not a name: reject it rather than try DNS.
    return !all_numeric;
}

constexpr std::string_view kEndpointForm =
    "HOST:PORT (IPv4, [IPv6] or hostname; port 1-65535) or off";

Endpoint parse_endpoint(std::string_view v, const Origin& origin) {
    if (lower(v) == "off")
        return Endpoint{false, {}, 0};
    std::string host;
    std::string_view port_text;
    if (!v.empty() && v.front() == '[') {
        const size_t close = v.find(']');
        if (close == std::string_view::npos || close + 1 >= v.size() || v[close + 1] != ':') {
            invalid(origin, kEndpointForm, v);
        }
        host = std::string(v.substr(1, close - 1));
        in6_addr addr6{};
        if (inet_pton(AF_INET6, host.c_str(), &addr6) != 1)
            invalid(origin, kEndpointForm, v);
        port_text = v.substr(close + 2);
    } else {
        const size_t colon = v.rfind(':');
        if (colon == std::string_view::npos)
            invalid(origin, kEndpointForm, v);
        host = std::string(v.substr(0, colon));
        port_text = v.substr(colon + 1);
        in_addr addr4{};
        if (host.find(':') != std::string::npos) {
            throw ConfigError(fmt::format(
                "{}: expected {}, got \"{}\" (write IPv6 addresses in brackets: [::1]:8080)",
                origin.label(), kEndpointForm, v));
        }
        if (inet_pton(AF_INET, host.c_str(), &addr4) != 1 && !is_hostname(host)) {
            invalid(origin, kEndpointForm, v);
        }
    }
    const auto port = parse_unsigned(port_text);
    if (!port || *port < 1 || *port > 65535)
        invalid(origin, kEndpointForm, v);
    return Endpoint{true, std::move(host), uint16_t(*port)};
}

template <typename Enum, size_t N>
Enum parse_choice(std::string_view v, const std::pair<std::string_view, Enum> (&choices)[N],
                  const Origin& origin) {
    std::string expected;
    for (const auto& [name, value] : choices) {
        if (v == name)
            return value;
        if (!expected.empty())
            expected += '|';
        expected += name;
    }
    invalid(origin, expected, v);
}

std::string require_nonempty(std::string_view v, std::string_view form, const Origin& origin) {
    if (v.empty())
        invalid(origin, form, v);
    return std::string(v);
}

uint64_t parse_size_bytes(std::string_view v, const Origin& origin) {
    const std::string form =
        fmt::format("BYTES between {} and {} (a K, M or G suffix multiplies by 1024s)",
                    kMinClipboard, kMaxClipboard);
    uint64_t multiplier = 1;
    std::string_view digits = v;
    if (!v.empty()) {
        switch (v.back()) {
            case 'k':
            case 'K':
                multiplier = uint64_t(1) << 10;
                break;
            case 'm':
            case 'M':
                multiplier = uint64_t(1) << 20;
                break;
            case 'g':
            case 'G':
                multiplier = uint64_t(1) << 30;
                break;
            default:
                break;
        }
        if (multiplier != 1)
            digits.remove_suffix(1);
    }
    const auto n = parse_unsigned(digits);
    if (!n || *n > kMaxClipboard / multiplier)
        invalid(origin, form, v);
    const uint64_t bytes = *n * multiplier;
    if (bytes < kMinClipboard || bytes > kMaxClipboard)
        invalid(origin, form, v);
    return bytes;
}

using Apply = void (*)(Config&, std::string_view, const Origin&);
// An option's default as a value the option accepts, read from a default Config.
using ShowDefault = std::string (*)(const Config&);

// The sections of --help, in this order.
enum class Group { desktop, network, security, logging, other };

constexpr std::string_view kGroupHeadings[] = {
    "Desktop:",
    "Network (HOST:PORT accepts an IPv4 address, [IPv6] address or host name;\n"
    "\"off\" disables the listener):",
    "Security:",
    "Logging:",
    "Other:",
};

// One option, and everything --help says about it: the help is generated from this table, and
// the defaults it shows are read from Config's initializers, so neither can drift.
struct OptionSpec {
    std::string_view name;          // without the leading dashes
    std::string_view metavar = {};  // empty: a flag that takes no value on the command line
    Group group = Group::other;
    // What it does, one paragraph that --help wraps. It names limits as {min_size}, {max_size},
    // {max_clients}, {min_clipboard} and {max_clipboard} (help_limits()) instead of repeating
    // them. An option with no help and no default shares the text of the one before it
    // (--tls-key with --tls-cert); --no-X is listed beside --X.
    std::string_view help = {};
    ShowDefault shown_default = nullptr;  // null: no single default value (or none)
    std::string_view default_note = {};   // a default that is not one value, in words
    bool settable_outside_cli = true;     // false for --config, --help, --version, --no-*
    Apply apply = nullptr;                // null for the options tokenize() handles itself
};

constexpr std::pair<std::string_view, BackendKind> kBackendChoices[] = {
    {"headless", BackendKind::headless}, {"x11", BackendKind::x11}};
constexpr std::pair<std::string_view, RdpSecurity> kRdpSecurityChoices[] = {
    {"nla", RdpSecurity::nla}, {"tls", RdpSecurity::tls}};
constexpr std::pair<std::string_view, RdpH264> kRdpH264Choices[] = {
    {"auto", RdpH264::automatic},
    {"off", RdpH264::off},
    {"x264", RdpH264::x264},
    {"openh264", RdpH264::openh264}};
constexpr std::pair<std::string_view, SessionExit> kSessionExitChoices[] = {
    {"restart", SessionExit::restart}, {"quit", SessionExit::quit}};
constexpr std::pair<std::string_view, LogLevel> kLogLevelChoices[] = {{"error", LogLevel::error},
                                                                      {"warn", LogLevel::warn},
                                                                      {"info", LogLevel::info},
                                                                      {"debug", LogLevel::debug}};
constexpr std::pair<std::string_view, LogFormat> kLogFormatChoices[] = {{"text", LogFormat::text},
                                                                        {"json", LogFormat::json}};

template <typename Enum, size_t N>
std::string choice_name(Enum value, const std::pair<std::string_view, Enum> (&choices)[N]) {
    for (const auto& [name, v] : choices) {
        if (v == value)
            return std::string(name);
    }
    return "?";
}

std::string size_form() {
    return fmt::format("WxH between {}x{} and {}x{}", MonitorLimits::kMinWidth,
                       MonitorLimits::kMinHeight, MonitorLimits::kMaxSide, MonitorLimits::kMaxSide);
}
constexpr std::string_view kUserForm =
    "NAME of 1-64 characters without spaces, ':' or control characters";
constexpr std::string_view kSocketForm =
    "NAME of 1-64 characters from A-Z a-z 0-9 . _ - (not . or ..)";

const OptionSpec kOptions[] = {
    {.name = "config",
     .metavar = "FILE",
     .group = Group::other,
     .help = "TOML file with options (env: DESKPOD_CONFIG)",
     .settable_outside_cli = false},
    {.name = "backend",
     .metavar = "headless|x11",
     .group = Group::desktop,
     .help = "where the desktop is drawn; x11 draws into $DISPLAY (e.g. Xvfb).",
     .shown_default = [](const Config& c) { return choice_name(c.backend, kBackendChoices); },
     .apply = [](Config& c, std::string_view v,
                 const Origin& o) { c.backend = parse_choice(v, kBackendChoices, o); }},
    {.name = "size",
     .metavar = "WxH",
     .group = Group::desktop,
     .help = "initial desktop size, {min_size} to {max_size}; clients may resize it.",
     .shown_default = [](const Config& c) { return fmt::format("{}x{}", c.width, c.height); },
     .apply =
         [](Config& c, std::string_view v, const Origin& o) {
             size_t x = v.find_first_of("xX");
             if (x == std::string_view::npos)
                 invalid(o, size_form(), v);
             const auto w = parse_unsigned(v.substr(0, x));
             const auto h = parse_unsigned(v.substr(x + 1));
             if (!w || !h || *w < MonitorLimits::kMinWidth || *w > MonitorLimits::kMaxSide ||
                 *h < MonitorLimits::kMinHeight || *h > MonitorLimits::kMaxSide) {
                 invalid(o, size_form(), v);
             }
             c.width = int32_t(*w);
             c.height = int32_t(*h);
         }},
    {.name = "rdp",
     .metavar = "HOST:PORT|off",
     .group = Group::network,
     .help = "RDP for native clients.",
     .shown_default = [](const Config& c) { return c.rdp.to_string(); },
     .apply = [](Config& c, std::string_view v, const Origin& o) { c.rdp = parse_endpoint(v, o); }},
    {.name = "guac",
     .metavar = "HOST:PORT|off",
     .group = Group::network,
     .help = "guacd-compatible endpoint for Apache Guacamole; it has no authentication of its "
             "own, so keep it on loopback or behind a network policy.",
     .shown_default = [](const Config& c) { return c.guac.to_string(); },
     .apply = [](Config& c, std::string_view v,
                 const Origin& o) { c.guac = parse_endpoint(v, o); }},
    {.name = "http",
     .metavar = "HOST:PORT|off",
     .group = Group::network,
     .help = "web client, WebSocket tunnel, /metrics, /healthz, /readyz.",
     .shown_default = [](const Config& c) { return c.http.to_string(); },
     .apply = [](Config& c, std::string_view v,
                 const Origin& o) { c.http = parse_endpoint(v, o); }},
    {.name = "rdp-security",
     .metavar = "nla|tls",
     .group = Group::security,
     .help = "nla: Network Level Authentication (CredSSP) before the session starts; tls: TLS "
             "only, the credentials in the client's logon info are checked.",
     .shown_default =
         [](const Config& c) { return choice_name(c.rdp_security, kRdpSecurityChoices); },
     .apply = [](Config& c, std::string_view v,
                 const Origin& o) { c.rdp_security = parse_choice(v, kRdpSecurityChoices, o); }},
    {.name = "rdp-gfx",
     .metavar = "on|off",
     .group = Group::network,
     .help = "offer RDP clients the graphics pipeline (MS-RDPEGFX: only changed tiles are sent, "
             "lossless). off: RemoteFX or NSCodec surface bits, or bitmaps, for every client.",
     .shown_default = [](const Config& c) { return std::string(c.rdp_gfx ? "on" : "off"); },
     .apply = [](Config& c, std::string_view v, const Origin& o) { c.rdp_gfx = parse_flag(v, o); }},
    {.name = "rdp-h264",
     .metavar = "auto|off|x264|openh264",
     .group = Group::network,
     .help = "H.264 (AVC420) over the graphics pipeline for the areas in motion (video, "
             "animation), for clients that decode it; text and UI stay lossless and areas sent "
             "as H.264 are sent again exactly once they stop. auto: x264 when this build has it, "
             "else OpenH264; off: RemoteFX for those areas.",
     .shown_default = [](const Config& c) { return choice_name(c.rdp_h264, kRdpH264Choices); },
     .apply = [](Config& c, std::string_view v,
                 const Origin& o) { c.rdp_h264 = parse_choice(v, kRdpH264Choices, o); }},
    {.name = "rdp-h264-quality",
     .metavar = "QP",
     .group = Group::network,
     .help = "H.264 quantiser for areas in motion, 10 (sharpest, most bytes) to 40 (softest, "
             "fewest); every 6 steps double the quantiser step size.",
     .shown_default = [](const Config& c) { return std::to_string(c.rdp_h264_quality); },
     .apply = [](Config& c, std::string_view v,
                 const Origin& o) { c.rdp_h264_quality = parse_bounded(v, o, "QP", 10, 40); }},
    {.name = "rdp-h264-max-kbps",
     .metavar = "KBPS",
     .group = Group::network,
     .help = "the H.264 bitrate per client while its link keeps up, in kilobits per second "
             "(1000-200000): the average the encoder may spend, peaks up to 1.5 times it. When "
             "frame acknowledgements come back late deskpod lowers it towards what the client "
             "receives, and raises it again once they are on time.",
     .shown_default = [](const Config& c) { return std::to_string(c.rdp_h264_max_kbps); },
     .apply =
         [](Config& c, std::string_view v, const Origin& o) {
             c.rdp_h264_max_kbps = parse_bounded(v, o, "KBPS", 1000, 200000);
         }},
    {.name = "user",
     .metavar = "NAME",
     .group = Group::security,
     .help = "user name clients log in with.",
     .shown_default = [](const Config& c) { return c.user; },
     .apply =
         [](Config& c, std::string_view v, const Origin& o) {
             // ':' is refused as it was when NLA read a SAM file (whose fields it separates),
             // so a configuration keeps working with older builds.
             const bool bad = v.empty() || v.size() > 64 ||
                              std::any_of(v.begin(), v.end(), [](unsigned char ch) {
                                  return ch <= 0x20 || ch == 0x7f || ch == ':';
                              });
             if (bad)
                 invalid(o, kUserForm, v);
             c.user = std::string(v);
         }},
    {.name = "password-file",
     .metavar = "FILE",
     .group = Group::security,
     .help = "file holding the password (a trailing newline is ignored). Else $DESKPOD_PASSWORD, "
             "else a password generated once into the state dir and printed.",
     .apply = [](Config& c, std::string_view v,
                 const Origin& o) { c.password_file = require_nonempty(v, "FILE (a path)", o); }},
    {.name = "tls-cert",
     .metavar = "FILE",
     .group = Group::security,
     .help = "PEM certificate; give --tls-key with it. Else a self-signed pair generated once "
             "into the state dir.",
     .apply =
         [](Config& c, std::string_view v, const Origin& o) {
             c.tls_cert = require_nonempty(v, "FILE (a PEM certificate path)", o);
         }},
    {.name = "tls-key",
     .metavar = "FILE",
     .group = Group::security,
     .apply =
         [](Config& c, std::string_view v, const Origin& o) {
             c.tls_key = require_nonempty(v, "FILE (a PEM private key path)", o);
         }},
    {.name = "state-dir",
     .metavar = "DIR",
     .group = Group::security,
     .help = "holds the generated password and TLS pair (0700).",
     // What default_state_dir() picks.
     .default_note = "$XDG_STATE_HOME/deskpod, else $HOME/.local/state/deskpod",
     .apply =
         [](Config& c, std::string_view v, const Origin& o) {
             // Absolute, so the path printed at startup and stored in logs means the same later.
             c.state_dir = std::filesystem::absolute(require_nonempty(v, "DIR (a path)", o))
                               .lexically_normal()
                               .string();
             if (c.state_dir.size() > 1 && c.state_dir.back() == '/')
                 c.state_dir.pop_back();
         }},
    {.name = "session",
     .metavar = "COMMAND",
     .group = Group::desktop,
     .help = "run through /bin/sh -c once the desktop is ready.",
     .shown_default = [](const Config& c) { return c.session; },
     .apply =
         [](Config& c, std::string_view v, const Origin& o) {
             c.session = require_nonempty(v, "COMMAND (run through /bin/sh -c)", o);
         }},
    {.name = "session-exit",
     .metavar = "restart|quit",
     .group = Group::desktop,
     .help = "what to do when the session exits.",
     .shown_default =
         [](const Config& c) { return choice_name(c.session_exit, kSessionExitChoices); },
     .apply = [](Config& c, std::string_view v,
                 const Origin& o) { c.session_exit = parse_choice(v, kSessionExitChoices, o); }},
    {.name = "wayland-socket",
     .metavar = "NAME",
     .group = Group::desktop,
     .help = "socket name in $XDG_RUNTIME_DIR, exported to the session as WAYLAND_DISPLAY.",
     .shown_default = [](const Config& c) { return c.wayland_socket; },
     .apply =
         [](Config& c, std::string_view v, const Origin& o) {
             // The name is joined to $XDG_RUNTIME_DIR and must fit sockaddr_un with it.
             const bool bad = v.empty() || v.size() > 64 || v == "." || v == ".." ||
                              std::any_of(v.begin(), v.end(), [](unsigned char ch) {
                                  return !std::isalnum(ch) && ch != '.' && ch != '_' && ch != '-';
                              });
             if (bad)
                 invalid(o, kSocketForm, v);
             c.wayland_socket = std::string(v);
         }},
    {.name = "xwayland",
     .group = Group::desktop,
     .help = "run X11 applications through Xwayland.",
     // Config::xwayland stays unset; compositor/xwayland.cpp looks for the Xwayland binary.
     .default_note = "on when Xwayland is installed",
     .apply = [](Config& c, std::string_view v,
                 const Origin& o) { c.xwayland = parse_flag(v, o); }},
    {.name = "no-xwayland",
     .group = Group::desktop,
     .settable_outside_cli = false,
     .apply = [](Config& c, std::string_view, const Origin&) { c.xwayland = false; }},
    {.name = "max-clients",
     .metavar = "N",
     .group = Group::network,
     .help = "simultaneous viewers, 1 to {max_clients}.",
     .shown_default = [](const Config& c) { return std::to_string(c.max_clients); },
     .apply =
         [](Config& c, std::string_view v, const Origin& o) {
             c.max_clients = parse_bounded(v, o, "N", 1, kMaxClientsLimit);
         }},
    {.name = "clipboard-limit",
     .metavar = "BYTES",
     .group = Group::network,
     .help = "larger clipboards are refused; {min_clipboard} to {max_clipboard}, a K, M or G "
             "suffix counts 1024s.",
     .shown_default = [](const Config& c) { return std::to_string(c.clipboard_limit); },
     .apply = [](Config& c, std::string_view v,
                 const Origin& o) { c.clipboard_limit = parse_size_bytes(v, o); }},
    {.name = "primary-selection",
     .group = Group::network,
     .help = "share the primary selection (select to copy, middle-click paste) with the viewers: "
             "selected text reaches their clipboard, and their copies can be middle-click pasted.",
     .shown_default =
         [](const Config& c) { return std::string(c.primary_selection ? "on" : "off"); },
     .apply = [](Config& c, std::string_view v,
                 const Origin& o) { c.primary_selection = parse_flag(v, o); }},
    {.name = "no-primary-selection",
     .group = Group::network,
     .settable_outside_cli = false,
     .apply = [](Config& c, std::string_view, const Origin&) { c.primary_selection = false; }},
    {.name = "log-level",
     .metavar = "error|warn|info|debug",
     .group = Group::logging,
     .shown_default = [](const Config& c) { return choice_name(c.log_level, kLogLevelChoices); },
     .apply = [](Config& c, std::string_view v,
                 const Origin& o) { c.log_level = parse_choice(v, kLogLevelChoices, o); }},
    {.name = "log-format",
     .metavar = "text|json",
     .group = Group::logging,
     .shown_default = [](const Config& c) { return choice_name(c.log_format, kLogFormatChoices); },
     .apply = [](Config& c, std::string_view v,
                 const Origin& o) { c.log_format = parse_choice(v, kLogFormatChoices, o); }},
    {.name = "version",
     .group = Group::other,
     .help = "print the version and exit",
     .settable_outside_cli = false},
    {.name = "licenses",
     .group = Group::other,
     .help = "print deskpod's licence and the licences and notices of the third-party code in the "
             "binary, and exit",
     .settable_outside_cli = false},
    {.name = "help",
     .group = Group::other,
     .help = "print this help and exit",
     .settable_outside_cli = false},
};

const OptionSpec* find_option(std::string_view name) {
    for (const auto& spec : kOptions) {
        if (spec.name == name)
            return &spec;
    }
    return nullptr;
}

std::string env_name(std::string_view option) {
    std::string name = "DESKPOD_";
    for (char c : option)
        name += c == '-' ? '_' : char(std::toupper(static_cast<unsigned char>(c)));
    return name;
}

struct Assignment {
    const OptionSpec* spec;
    std::string value;
    Origin origin;
};

enum class Action { none, help, version, licenses };

struct CommandLine {
    std::vector<Assignment> assignments;
    std::optional<std::string> config_file;
    Action action = Action::none;
};

CommandLine tokenize(const std::vector<std::string>& args) {
    CommandLine cl;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
            throw ConfigError(
                fmt::format("unexpected argument \"{}\" (options start with --)", arg));
        }
        const size_t eq = arg.find('=');
        const std::string name =
            arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
        const OptionSpec* spec = find_option(name);
        if (!spec)
            throw ConfigError(fmt::format("unknown option --{}", name));
        const Origin origin{"--" + name, ""};

        std::optional<std::string> value;
        if (eq != std::string::npos)
            value = arg.substr(eq + 1);
        if (spec->metavar.empty()) {
            // Flags; --xwayland=false is accepted because scripts template such values.
            if (value && spec->name != "xwayland" && spec->name != "primary-selection") {
                throw ConfigError(
                    fmt::format("{}: takes no value, got \"{}\"", origin.option, *value));
            }
            if (spec->name == "help" || spec->name == "version" || spec->name == "licenses") {
                if (cl.action == Action::none) {
                    cl.action = spec->name == "help"      ? Action::help
                                : spec->name == "version" ? Action::version
                                                          : Action::licenses;
                }
                continue;
            }
            cl.assignments.push_back({spec, value.value_or("true"), origin});
            continue;
        }
        if (!value) {
            // A value that looks like an option is almost always a forgotten value.
            if (i + 1 >= args.size() || args[i + 1].compare(0, 2, "--") == 0) {
                throw ConfigError(
                    fmt::format("{}: expected {}, but no value was given (write "
                                "{} VALUE or {}=VALUE)",
                                origin.option, spec->metavar, origin.option, origin.option));
            }
            value = args[++i];
        }
        if (spec->name == "config") {
            cl.config_file = *value;
            if (value->empty())
                invalid(origin, "FILE (a TOML file)", *value);
            continue;
        }
        cl.assignments.push_back({spec, std::move(*value), origin});
    }
    return cl;
}

std::string node_to_value(const toml::node& node, const Origin& origin, std::string_view metavar) {
    if (auto s = node.value_exact<std::string>())
        return *s;
    if (auto i = node.value_exact<int64_t>())
        return std::to_string(*i);
    if (auto b = node.value_exact<bool>())
        return *b ? "true" : "false";
    const char* kind = "value";
    switch (node.type()) {
        case toml::node_type::table:
            kind = "table";
            break;
        case toml::node_type::array:
            kind = "array";
            break;
        case toml::node_type::floating_point:
            kind = "floating-point number";
            break;
        default:
            kind = "date/time";
            break;
    }
    throw ConfigError(fmt::format("{}: expected {} as a string, integer or boolean, got a {}",
                                  origin.label(), metavar.empty() ? "true|false" : metavar, kind));
}

std::vector<Assignment> read_toml(const std::string& path, const Origin& config_origin) {
    toml::table table;
    try {
        table = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        if (where.line == 0) {
            throw ConfigError(fmt::format("{}: cannot read \"{}\": {}", config_origin.label(), path,
                                          e.description()));
        }
        throw ConfigError(fmt::format("{}: \"{}\" is not valid TOML: line {}, column {}: {}",
                                      config_origin.label(), path, where.line, where.column,
                                      e.description()));
    }
    std::vector<Assignment> out;
    std::map<std::string, std::string> seen;  // normalized name -> key as written
    for (const auto& [key, node] : table) {
        const std::string written(key.str());
        std::string name = written;
        std::replace(name.begin(), name.end(), '_', '-');
        const OptionSpec* spec = find_option(name);
        if (!spec || !spec->settable_outside_cli) {
            throw ConfigError(fmt::format(
                "{}: unknown key \"{}\" in \"{}\" (keys are option names without dashes, e.g. "
                "rdp = \"0.0.0.0:3389\"; see deskpod --help)",
                config_origin.label(), written, path));
        }
        if (const auto [it, inserted] = seen.emplace(name, written); !inserted) {
            throw ConfigError(fmt::format("{}: key \"{}\" repeats \"{}\" in \"{}\"",
                                          config_origin.label(), written, it->second, path));
        }
        Origin origin{"--" + name, fmt::format("key \"{}\" in {}", written, path)};
        std::string value = node_to_value(node, origin, spec->metavar);
        out.push_back({spec, std::move(value), std::move(origin)});
    }
    return out;
}

std::string default_state_dir(const std::map<std::string, std::string>& env) {
    // The XDG spec says relative values are invalid and must be ignored.
    if (auto it = env.find("XDG_STATE_HOME");
        it != env.end() && !it->second.empty() && it->second.front() == '/') {
        return it->second + "/deskpod";
    }
    if (auto it = env.find("HOME"); it != env.end() && !it->second.empty()) {
        return it->second + "/.local/state/deskpod";
    }
    throw ConfigError(
        "--state-dir: no default, because neither XDG_STATE_HOME nor HOME is set; expected "
        "--state-dir DIR");
}

void print(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

// --help's columns: option names from 2, their text from 30, a default value from 63.
constexpr size_t kHelpTextColumn = 30;
constexpr size_t kHelpDefaultColumn = 63;
constexpr size_t kHelpWidth = 80;

std::string help_limits(std::string_view text) {
    return fmt::format(
        fmt::runtime(text),
        fmt::arg("min_size",
                 fmt::format("{}x{}", MonitorLimits::kMinWidth, MonitorLimits::kMinHeight)),
        fmt::arg("max_size",
                 fmt::format("{}x{}", MonitorLimits::kMaxSide, MonitorLimits::kMaxSide)),
        fmt::arg("max_clients", kMaxClientsLimit), fmt::arg("min_clipboard", kMinClipboard),
        fmt::arg("max_clipboard", kMaxClipboard));
}

// Appends `text` to `lines` as new lines of at most `width` characters, breaking at spaces.
void wrap(std::string_view text, size_t width, std::vector<std::string>& lines) {
    bool fresh = true;
    size_t start = 0;
    while (start < text.size()) {
        const size_t end = std::min(text.find(' ', start), text.size());
        const std::string_view word = text.substr(start, end - start);
        start = end + 1;
        if (word.empty())
            continue;
        if (fresh || lines.back().size() + 1 + word.size() > width) {
            lines.emplace_back(word);
            fresh = false;
        } else {
            lines.back() += ' ';
            lines.back() += word;
        }
    }
}

// --no-X is listed beside --X rather than on a line of its own.
const OptionSpec* negation_of(const OptionSpec& spec) {
    return spec.metavar.empty() ? find_option("no-" + std::string(spec.name)) : nullptr;
}
bool is_negation(const OptionSpec& spec) {
    return spec.name.substr(0, 3) == "no-" && find_option(spec.name.substr(3));
}

// What --help says about one option, as lines that start at kHelpTextColumn. A default value
// goes to kHelpDefaultColumn (spaces lead up to it), on a line of its own when the text ends
// too close to it.
std::vector<std::string> describe(const OptionSpec& spec) {
    constexpr size_t width = kHelpWidth - kHelpTextColumn;
    std::vector<std::string> lines;
    wrap(help_limits(spec.help), width, lines);
    if (spec.shown_default) {
        constexpr size_t column = kHelpDefaultColumn - kHelpTextColumn;
        if (lines.empty() || lines.back().size() >= column)
            lines.emplace_back();
        lines.back().resize(column, ' ');
        lines.back() += "default: " + spec.shown_default(Config{});
    }
    if (!spec.default_note.empty())
        wrap("default: " + std::string(spec.default_note), width, lines);
    if (spec.metavar.empty() && spec.settable_outside_cli) {
        // A bare flag cannot be written in the environment; say what can.
        wrap(fmt::format("(environment: {}=1 or 0)", env_name(spec.name)), width, lines);
    }
    return lines;
}

// Option names stack in the margin, one per line of their shared text; a name too wide for
// the margin gets a line of its own, unless the text's line starts far enough right (a lone
// default value).
std::string render_help_block(const std::vector<std::string>& names,
                              const std::vector<std::string>& text) {
    std::string out;
    size_t line = 0;
    auto emit = [&](std::string margin) {
        const std::string& t = text[line++];
        const size_t column = kHelpTextColumn + std::min(t.find_first_not_of(' '), t.size());
        margin.resize(column, ' ');
        out += margin + t.substr(column - kHelpTextColumn) + '\n';
    };
    for (const std::string& name : names) {
        if (line < text.size() &&
            name.size() <
                kHelpTextColumn + std::min(text[line].find_first_not_of(' '), text[line].size())) {
            emit(name);
        } else {
            out += name + '\n';
        }
    }
    while (line < text.size())
        emit("");
    return out;
}

std::string help_for_group(Group group) {
    std::string out;
    std::vector<std::string> names;
    std::vector<std::string> text;
    for (const OptionSpec& spec : kOptions) {
        if (spec.group != group || is_negation(spec))
            continue;
        std::string name = "  --" + std::string(spec.name);
        if (const OptionSpec* negation = negation_of(spec))
            name += ", --" + std::string(negation->name);
        if (!spec.metavar.empty())
            name += " " + std::string(spec.metavar);
        // An option with nothing of its own to say shares the text of the one before it
        // (--tls-cert and --tls-key).
        const bool own_text =
            !spec.help.empty() || spec.shown_default || !spec.default_note.empty();
        if (own_text || names.empty()) {
            if (!names.empty())
                out += render_help_block(names, text);
            names.clear();
            text = describe(spec);
        }
        names.push_back(std::move(name));
    }
    if (!names.empty())
        out += render_help_block(names, text);
    return out;
}

}  // namespace

std::string Endpoint::to_string() const {
    if (!enabled)
        return "off";
    if (host.find(':') != std::string::npos)
        return fmt::format("[{}]:{}", host, port);
    return fmt::format("{}:{}", host, port);
}

ParseOutcome parse_config(const std::vector<std::string>& args,
                          const std::vector<std::string>& environment, Config& out) {
    const CommandLine cl = tokenize(args);
    if (cl.action == Action::help) {
        print(help_text());
        return ParseOutcome::exit_ok;
    }
    if (cl.action == Action::version) {
        print(fmt::format("deskpod {}\n", DESKPOD_VERSION));
        return ParseOutcome::exit_ok;
    }
    if (cl.action == Action::licenses) {
        return ParseOutcome::show_licenses;
    }

    std::map<std::string, std::string> env;
    for (const auto& entry : environment) {
        const size_t eq = entry.find('=');
        if (eq != std::string::npos)
            env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
    }

    Config cfg;
    if (cl.config_file) {
        cfg.config_file = *cl.config_file;
        for (auto& a : read_toml(cfg.config_file, Origin{"--config", ""})) {
            a.spec->apply(cfg, a.value, a.origin);
        }
    } else if (auto it = env.find("DESKPOD_CONFIG"); it != env.end() && !it->second.empty()) {
        cfg.config_file = it->second;
        for (auto& a : read_toml(cfg.config_file, Origin{"--config", "DESKPOD_CONFIG"})) {
            a.spec->apply(cfg, a.value, a.origin);
        }
    }

    for (const auto& spec : kOptions) {
        if (!spec.settable_outside_cli)
            continue;
        const std::string name = env_name(spec.name);
        // Empty counts as unset: container templates often render missing values as "".
        if (auto it = env.find(name); it != env.end() && !it->second.empty()) {
            spec.apply(cfg, it->second, Origin{"--" + std::string(spec.name), name});
        }
    }

    for (const auto& a : cl.assignments)
        a.spec->apply(cfg, a.value, a.origin);

    if (cfg.state_dir.empty())
        cfg.state_dir = default_state_dir(env);
    out = std::move(cfg);
    return ParseOutcome::run;
}

ParseOutcome parse_config(int argc, char** argv, Config& out) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i)
        args.emplace_back(argv[i]);
    std::vector<std::string> environment;
    for (char** e = environ; e && *e; ++e)
        environment.emplace_back(*e);
    return parse_config(args, environment, out);
}

std::string help_text() {
    std::string options;
    for (size_t group = 0; group < std::size(kGroupHeadings); ++group) {
        options += kGroupHeadings[group];
        options += '\n';
        options += help_for_group(Group(group));
        options += '\n';
    }
    return fmt::format(
        R"(Usage: deskpod [--config FILE] [options]

deskpod runs a headless Wayland desktop and serves it over RDP, the Guacamole
protocol and a built-in web client.

Every option can also be set in the environment as DESKPOD_<NAME> (upper case,
dashes become underscores: --max-clients 8 is DESKPOD_MAX_CLIENTS=8) or as a key
in the TOML file given by --config or DESKPOD_CONFIG (max-clients = 8).
Precedence, lowest first: defaults, config file, environment, command line.
Options take "--opt value" or "--opt=value".

{}Example:
  DESKPOD_PASSWORD=secret deskpod --size 1280x800 --rdp 0.0.0.0:3389 \
      --session 'firefox-esr' --max-clients 2

  deskpod.toml:
    size = "1280x800"
    rdp = "0.0.0.0:3389"
    http = "off"
    max-clients = 2
    xwayland = false

Invalid options or values exit with status 2. Documentation: docs/configuration.md
and docs/security.md. deskpod {}
)",
        options, DESKPOD_VERSION);
}

std::vector<OptionDoc> documented_options() {
    const Config defaults;
    std::vector<OptionDoc> out;
    for (const OptionSpec& spec : kOptions) {
        out.push_back({std::string(spec.name), std::string(spec.metavar),
                       spec.shown_default ? spec.shown_default(defaults) : std::string(),
                       std::string(spec.default_note)});
    }
    return out;
}

}  // namespace deskpod
