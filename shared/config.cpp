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

extern char** environ;

namespace deskpod {
namespace {

constexpr int kMinWidth = 320, kMinHeight = 200, kMaxSide = 8192;
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
    constexpr std::string_view form =
        "BYTES between 1024 and 1073741824 (a K, M or G suffix multiplies by 1024s)";
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

struct OptionSpec {
    std::string_view name;     // without the leading dashes
    std::string_view metavar;  // empty: a flag that takes no value on the command line
    Apply apply;
    bool settable_outside_cli;  // false for --config, --help, --version
};

constexpr std::string_view kSizeForm = "WxH between 320x200 and 8192x8192";
constexpr std::string_view kUserForm =
    "NAME of 1-64 characters without spaces, ':' or control characters";
constexpr std::string_view kSocketForm =
    "NAME of 1-64 characters from A-Z a-z 0-9 . _ - (not . or ..)";

const OptionSpec kOptions[] = {
    {"config", "FILE", nullptr, false},
    {"backend", "headless|x11",
     [](Config& c, std::string_view v, const Origin& o) {
         static constexpr std::pair<std::string_view, BackendKind> kChoices[] = {
             {"headless", BackendKind::headless}, {"x11", BackendKind::x11}};
         c.backend = parse_choice(v, kChoices, o);
     },
     true},
    {"size", "WxH",
     [](Config& c, std::string_view v, const Origin& o) {
         size_t x = v.find_first_of("xX");
         if (x == std::string_view::npos)
             invalid(o, kSizeForm, v);
         const auto w = parse_unsigned(v.substr(0, x));
         const auto h = parse_unsigned(v.substr(x + 1));
         if (!w || !h || *w < kMinWidth || *w > kMaxSide || *h < kMinHeight || *h > kMaxSide) {
             invalid(o, kSizeForm, v);
         }
         c.width = int32_t(*w);
         c.height = int32_t(*h);
     },
     true},
    {"rdp", "HOST:PORT|off",
     [](Config& c, std::string_view v, const Origin& o) { c.rdp = parse_endpoint(v, o); }, true},
    {"guac", "HOST:PORT|off",
     [](Config& c, std::string_view v, const Origin& o) { c.guac = parse_endpoint(v, o); }, true},
    {"http", "HOST:PORT|off",
     [](Config& c, std::string_view v, const Origin& o) { c.http = parse_endpoint(v, o); }, true},
    {"rdp-security", "nla|tls",
     [](Config& c, std::string_view v, const Origin& o) {
         static constexpr std::pair<std::string_view, RdpSecurity> kChoices[] = {
             {"nla", RdpSecurity::nla}, {"tls", RdpSecurity::tls}};
         c.rdp_security = parse_choice(v, kChoices, o);
     },
     true},
    {"user", "NAME",
     [](Config& c, std::string_view v, const Origin& o) {
         // ':' separates fields of the NTLM SAM file that NLA checks the user against.
         const bool bad =
             v.empty() || v.size() > 64 || std::any_of(v.begin(), v.end(), [](unsigned char ch) {
                 return ch <= 0x20 || ch == 0x7f || ch == ':';
             });
         if (bad)
             invalid(o, kUserForm, v);
         c.user = std::string(v);
     },
     true},
    {"password-file", "FILE",
     [](Config& c, std::string_view v, const Origin& o) {
         c.password_file = require_nonempty(v, "FILE (a path)", o);
     },
     true},
    {"tls-cert", "FILE",
     [](Config& c, std::string_view v, const Origin& o) {
         c.tls_cert = require_nonempty(v, "FILE (a PEM certificate path)", o);
     },
     true},
    {"tls-key", "FILE",
     [](Config& c, std::string_view v, const Origin& o) {
         c.tls_key = require_nonempty(v, "FILE (a PEM private key path)", o);
     },
     true},
    {"state-dir", "DIR",
     [](Config& c, std::string_view v, const Origin& o) {
         // Absolute, so the path printed at startup and stored in logs means the same later.
         c.state_dir = std::filesystem::absolute(require_nonempty(v, "DIR (a path)", o))
                           .lexically_normal()
                           .string();
         if (c.state_dir.size() > 1 && c.state_dir.back() == '/')
             c.state_dir.pop_back();
     },
     true},
    {"session", "COMMAND",
     [](Config& c, std::string_view v, const Origin& o) {
         c.session = require_nonempty(v, "COMMAND (run through /bin/sh -c)", o);
     },
     true},
    {"session-exit", "restart|quit",
     [](Config& c, std::string_view v, const Origin& o) {
         static constexpr std::pair<std::string_view, SessionExit> kChoices[] = {
             {"restart", SessionExit::restart}, {"quit", SessionExit::quit}};
         c.session_exit = parse_choice(v, kChoices, o);
     },
     true},
    {"wayland-socket", "NAME",
     [](Config& c, std::string_view v, const Origin& o) {
         // The name is joined to $XDG_RUNTIME_DIR and must fit sockaddr_un with it.
         const bool bad = v.empty() || v.size() > 64 || v == "." || v == ".." ||
                          std::any_of(v.begin(), v.end(), [](unsigned char ch) {
                              return !std::isalnum(ch) && ch != '.' && ch != '_' && ch != '-';
                          });
         if (bad)
             invalid(o, kSocketForm, v);
         c.wayland_socket = std::string(v);
     },
     true},
    {"xwayland", "",
     [](Config& c, std::string_view v, const Origin& o) { c.xwayland = parse_flag(v, o); }, true},
    {"no-xwayland", "", [](Config& c, std::string_view, const Origin&) { c.xwayland = false; },
     false},
    {"max-clients", "N",
     [](Config& c, std::string_view v, const Origin& o) {
         const auto n = parse_unsigned(v);
         if (!n || *n < 1 || *n > uint64_t(kMaxClientsLimit)) {
             invalid(o, "N between 1 and 64", v);
         }
         c.max_clients = int(*n);
     },
     true},
    {"clipboard-limit", "BYTES",
     [](Config& c, std::string_view v, const Origin& o) {
         c.clipboard_limit = parse_size_bytes(v, o);
     },
     true},
    {"primary-selection", "",
     [](Config& c, std::string_view v, const Origin& o) { c.primary_selection = parse_flag(v, o); },
     true},
    {"no-primary-selection", "",
     [](Config& c, std::string_view, const Origin&) { c.primary_selection = false; }, false},
    {"log-level", "error|warn|info|debug",
     [](Config& c, std::string_view v, const Origin& o) {
         static constexpr std::pair<std::string_view, LogLevel> kChoices[] = {
             {"error", LogLevel::error},
             {"warn", LogLevel::warn},
             {"info", LogLevel::info},
             {"debug", LogLevel::debug}};
         c.log_level = parse_choice(v, kChoices, o);
     },
     true},
    {"log-format", "text|json",
     [](Config& c, std::string_view v, const Origin& o) {
         static constexpr std::pair<std::string_view, LogFormat> kChoices[] = {
             {"text", LogFormat::text}, {"json", LogFormat::json}};
         c.log_format = parse_choice(v, kChoices, o);
     },
     true},
    {"version", "", nullptr, false},
    {"licenses", "", nullptr, false},
    {"help", "", nullptr, false},
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
    return fmt::format(
        R"(Usage: deskpod [--config FILE] [options]

deskpod runs a headless Wayland desktop and serves it over RDP, the Guacamole
protocol and a built-in web client.

Every option can also be set in the environment as DESKPOD_<NAME> (upper case,
dashes become underscores: --max-clients 8 is DESKPOD_MAX_CLIENTS=8) or as a key
in the TOML file given by --config or DESKPOD_CONFIG (max-clients = 8).
Precedence, lowest first: defaults, config file, environment, command line.
Options take "--opt value" or "--opt=value".

Desktop:
  --backend headless|x11      where the desktop is drawn; x11 draws into $DISPLAY
                              (e.g. Xvfb).                     default: headless
  --size WxH                  initial desktop size, 320x200 to 8192x8192; clients
                              may resize it.                   default: 1920x1080
  --session COMMAND           run through /bin/sh -c once the desktop is ready.
                                                               default: foot
  --session-exit restart|quit what to do when the session exits. default: restart
  --wayland-socket NAME       socket name in $XDG_RUNTIME_DIR, exported to the
                              session as WAYLAND_DISPLAY.      default: wayland-deskpod
  --xwayland, --no-xwayland   run X11 applications through Xwayland.
                              default: on when Xwayland is installed
                              (environment: DESKPOD_XWAYLAND=1 or 0)

Network (HOST:PORT accepts an IPv4 address, [IPv6] address or host name;
"off" disables the listener):
  --rdp HOST:PORT|off         RDP for native clients.          default: 0.0.0.0:3389
  --guac HOST:PORT|off        guacd-compatible endpoint for Apache Guacamole; it
                              has no authentication of its own, so keep it on
                              loopback or behind a network policy.
                                                               default: 127.0.0.1:4822
  --http HOST:PORT|off        web client, WebSocket tunnel, /metrics, /healthz,
                              /readyz.                         default: 0.0.0.0:8080
  --max-clients N             simultaneous viewers, 1 to 64.   default: 4
  --clipboard-limit BYTES     larger clipboards are refused; 1024 to 1073741824,
                              a K, M or G suffix counts 1024s. default: 16777216
  --primary-selection, --no-primary-selection
                              share the primary selection (select to copy,
                              middle-click paste) with the viewers: selected text
                              reaches their clipboard, and their copies can be
                              middle-click pasted.             default: off
                              (environment: DESKPOD_PRIMARY_SELECTION=1 or 0)

Security:
  --rdp-security nla|tls      nla: Network Level Authentication (CredSSP) before
                              the session starts; tls: TLS only, the credentials
                              in the client's logon info are checked.
                                                               default: nla
  --user NAME                 user name clients log in with.   default: deskpod
  --password-file FILE        file holding the password (a trailing newline is
                              ignored). Else $DESKPOD_PASSWORD, else a password
                              generated once into the state dir and printed.
  --tls-cert FILE             PEM certificate; give --tls-key with it. Else a
  --tls-key FILE              self-signed pair generated once into the state dir.
  --state-dir DIR             holds the generated password and TLS pair (0700).
                              default: $XDG_STATE_HOME/deskpod, else
                              $HOME/.local/state/deskpod

Logging:
  --log-level error|warn|info|debug                            default: info
  --log-format text|json                                       default: text

Other:
  --config FILE               TOML file with options (env: DESKPOD_CONFIG)
  --version                   print the version and exit
  --licenses                  print deskpod's licence and the licences and notices
                              of the third-party code in the binary, and exit
  --help                      print this help and exit

Example:
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
        DESKPOD_VERSION);
}

}  // namespace deskpod
