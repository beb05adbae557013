// The command-line contract of docs/configuration.md: every option from each source,
// precedence, and the error a user sees for each kind of mistake.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "shared/config.hpp"

namespace deskpod {
namespace {

using Args = std::vector<std::string>;
using Env = std::vector<std::string>;

const Env kHome = {"HOME=/home/tester"};

Config parse(const Args& args, const Env& env = kHome) {
    Config cfg;
    EXPECT_EQ(parse_config(args, env, cfg), ParseOutcome::run);
    return cfg;
}

// The ConfigError message, or "" when parsing succeeded.
std::string error_of(const Args& args, const Env& env = kHome) {
    Config cfg;
    try {
        parse_config(args, env, cfg);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

class TempDir {
  public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "deskpod-config-XXXXXX");
        path_ = ::mkdtemp(tmpl.data());
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    std::string write(const std::string& name, const std::string& content) const {
        const std::string file = path_ + "/" + name;
        std::ofstream(file) << content;
        return file;
    }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

TEST(Config, DefaultsMatchTheContract) {
    const Config cfg = parse({});
    EXPECT_EQ(cfg.backend, BackendKind::headless);
    EXPECT_EQ(cfg.width, 1920);
    EXPECT_EQ(cfg.height, 1080);
    EXPECT_EQ(cfg.rdp.to_string(), "0.0.0.0:3389");
    EXPECT_EQ(cfg.guac.to_string(), "127.0.0.1:4822");
    EXPECT_EQ(cfg.http.to_string(), "0.0.0.0:8080");
    EXPECT_EQ(cfg.rdp_security, RdpSecurity::nla);
    EXPECT_EQ(cfg.user, "deskpod");
    EXPECT_EQ(cfg.password_file, "");
    EXPECT_EQ(cfg.tls_cert, "");
    EXPECT_EQ(cfg.tls_key, "");
    EXPECT_EQ(cfg.state_dir, "/home/tester/.local/state/deskpod");
    EXPECT_EQ(cfg.session, "foot");
    EXPECT_EQ(cfg.session_exit, SessionExit::restart);
    EXPECT_EQ(cfg.wayland_socket, "wayland-deskpod");
    EXPECT_FALSE(cfg.xwayland.has_value());
    EXPECT_EQ(cfg.max_clients, 4);
    EXPECT_EQ(cfg.clipboard_limit, 16777216u);
    EXPECT_FALSE(cfg.primary_selection);
    EXPECT_EQ(cfg.log_level, LogLevel::info);
    EXPECT_EQ(cfg.log_format, LogFormat::text);
    EXPECT_EQ(cfg.config_file, "");
}

TEST(Config, StateDirDefaultFollowsXdg) {
    EXPECT_EQ(parse({}, {"HOME=/h", "XDG_STATE_HOME=/xdg/state"}).state_dir, "/xdg/state/deskpod");
    // The XDG spec says relative paths are invalid and must be ignored.
    EXPECT_EQ(parse({}, {"HOME=/h", "XDG_STATE_HOME=rel"}).state_dir, "/h/.local/state/deskpod");
    const std::string message = error_of({}, {});
    EXPECT_NE(message.find("--state-dir"), std::string::npos) << message;
    EXPECT_EQ(parse({"--state-dir", "/srv/pod"}, {}).state_dir, "/srv/pod");
}

// One valid value per option and what it must produce; every source is checked with it.
struct OptionCase {
    std::string name;
    std::string value;
    std::function<void(const Config&)> check;
};

std::vector<OptionCase> option_cases() {
    return {
        {"backend", "x11", [](const Config& c) { EXPECT_EQ(c.backend, BackendKind::x11); }},
        {"size", "1280x800",
         [](const Config& c) {
             EXPECT_EQ(c.width, 1280);
             EXPECT_EQ(c.height, 800);
         }},
        {"rdp", "127.0.0.1:13389",
         [](const Config& c) { EXPECT_EQ(c.rdp.to_string(), "127.0.0.1:13389"); }},
        {"guac", "off", [](const Config& c) { EXPECT_FALSE(c.guac.enabled); }},
        {"http", "[::1]:8081",
         [](const Config& c) {
             EXPECT_EQ(c.http.host, "::1");
             EXPECT_EQ(c.http.port, 8081);
         }},
        {"rdp-security", "tls",
         [](const Config& c) { EXPECT_EQ(c.rdp_security, RdpSecurity::tls); }},
        {"user", "alice", [](const Config& c) { EXPECT_EQ(c.user, "alice"); }},
        {"password-file", "/run/secrets/pw",
         [](const Config& c) { EXPECT_EQ(c.password_file, "/run/secrets/pw"); }},
        {"tls-cert", "/etc/tls/c.pem",
         [](const Config& c) { EXPECT_EQ(c.tls_cert, "/etc/tls/c.pem"); }},
        {"tls-key", "/etc/tls/k.pem",
         [](const Config& c) { EXPECT_EQ(c.tls_key, "/etc/tls/k.pem"); }},
        {"state-dir", "/var/lib/deskpod",
         [](const Config& c) { EXPECT_EQ(c.state_dir, "/var/lib/deskpod"); }},
        {"session", "xterm -e top", [](const Config& c) { EXPECT_EQ(c.session, "xterm -e top"); }},
        {"session-exit", "quit",
         [](const Config& c) { EXPECT_EQ(c.session_exit, SessionExit::quit); }},
        {"wayland-socket", "wayland-7",
         [](const Config& c) { EXPECT_EQ(c.wayland_socket, "wayland-7"); }},
        {"xwayland", "false", [](const Config& c) { EXPECT_EQ(c.xwayland, false); }},
        {"rdp-gfx", "off", [](const Config& c) { EXPECT_FALSE(c.rdp_gfx); }},
        {"rdp-h264", "openh264", [](const Config& c) { EXPECT_EQ(c.rdp_h264, RdpH264::openh264); }},
        {"rdp-h264-quality", "30", [](const Config& c) { EXPECT_EQ(c.rdp_h264_quality, 30); }},
        {"rdp-h264-max-kbps", "5000",
         [](const Config& c) { EXPECT_EQ(c.rdp_h264_max_kbps, 5000); }},
        {"max-clients", "8", [](const Config& c) { EXPECT_EQ(c.max_clients, 8); }},
        {"clipboard-limit", "1048576",
         [](const Config& c) { EXPECT_EQ(c.clipboard_limit, 1048576u); }},
        {"primary-selection", "true", [](const Config& c) { EXPECT_TRUE(c.primary_selection); }},
        {"log-level", "debug", [](const Config& c) { EXPECT_EQ(c.log_level, LogLevel::debug); }},
        {"log-format", "json", [](const Config& c) { EXPECT_EQ(c.log_format, LogFormat::json); }},
    };
}

std::string env_name(const std::string& option) {
    std::string name = "DESKPOD_";
    for (char c : option)
        name += c == '-' ? '_' : char(std::toupper(c));
    return name;
}

TEST(Config, EveryOptionFromTheCommandLine) {
    for (const auto& c : option_cases()) {
        SCOPED_TRACE("--" + c.name);
        // --xwayland and --primary-selection are flags: a value only attaches with '='.
        if (c.name != "xwayland" && c.name != "primary-selection")
            c.check(parse({"--" + c.name, c.value}));
        c.check(parse({"--" + c.name + "=" + c.value}));
    }
}

TEST(Config, EveryOptionFromTheEnvironment) {
    for (const auto& c : option_cases()) {
        SCOPED_TRACE(env_name(c.name));
        c.check(parse({}, {"HOME=/h", env_name(c.name) + "=" + c.value}));
    }
}

TEST(Config, EveryOptionFromTheConfigFile) {
    TempDir dir;
    for (const auto& c : option_cases()) {
        SCOPED_TRACE("key " + c.name);
        const std::string file = dir.write("c.toml", c.name + " = \"" + c.value + "\"\n");
        const Config cfg = parse({"--config", file});
        c.check(cfg);
        EXPECT_EQ(cfg.config_file, file);
        // Underscores are accepted for dashes, as TOML users often write them.
        std::string underscored = c.name;
        std::replace(underscored.begin(), underscored.end(), '-', '_');
        dir.write("u.toml", underscored + " = \"" + c.value + "\"\n");
        c.check(parse({"--config", dir.path() + "/u.toml"}));
    }
}

TEST(Config, ConfigFileTakesNativeTomlTypes) {
    TempDir dir;
    const std::string file = dir.write("deskpod.toml", R"(
rdp = "0.0.0.0:3390"
size = "1280x800"
max-clients = 2
clipboard_limit = 4096
xwayland = false
primary-selection = true
)");
    const Config cfg = parse({"--config", file});
    EXPECT_EQ(cfg.rdp.port, 3390);
    EXPECT_EQ(cfg.width, 1280);
    EXPECT_EQ(cfg.max_clients, 2);
    EXPECT_EQ(cfg.clipboard_limit, 4096u);
    EXPECT_EQ(cfg.xwayland, false);
    EXPECT_TRUE(cfg.primary_selection);
}

TEST(Config, PrecedenceIsDefaultsFileEnvironmentCommandLine) {
    TempDir dir;
    const std::string file = dir.write("c.toml", "rdp = \"10.0.0.1:1001\"\nuser = \"file\"\n");
    const Env env = {"HOME=/h", "DESKPOD_CONFIG=" + file, "DESKPOD_RDP=10.0.0.2:1002"};

    Config cfg = parse({"--rdp", "10.0.0.3:1003"}, env);
    EXPECT_EQ(cfg.rdp.to_string(), "10.0.0.3:1003");
    EXPECT_EQ(cfg.user, "file");  // only the file sets it

    cfg = parse({}, env);
    EXPECT_EQ(cfg.rdp.to_string(), "10.0.0.2:1002");
    EXPECT_EQ(cfg.config_file, file);

    cfg = parse({}, {"HOME=/h", "DESKPOD_CONFIG=" + file});
    EXPECT_EQ(cfg.rdp.to_string(), "10.0.0.1:1001");

    // --config beats DESKPOD_CONFIG.
    const std::string other = dir.write("o.toml", "user = \"other\"\n");
    EXPECT_EQ(parse({"--config", other}, env).user, "other");

    // The last of a repeated option wins.
    EXPECT_EQ(parse({"--user", "a", "--user=b"}).user, "b");
}

TEST(Config, XwaylandFlagsAndEnvironmentBooleans) {
    EXPECT_EQ(parse({"--xwayland"}).xwayland, true);
    EXPECT_EQ(parse({"--no-xwayland"}).xwayland, false);
    EXPECT_EQ(parse({"--xwayland", "--no-xwayland"}).xwayland, false);
    EXPECT_EQ(parse({"--xwayland=0"}).xwayland, false);
    for (const auto& [value, expected] : std::vector<std::pair<std::string, bool>>{
             {"0", false}, {"1", true}, {"true", true}, {"false", false}, {"TRUE", true}}) {
        EXPECT_EQ(parse({}, {"HOME=/h", "DESKPOD_XWAYLAND=" + value}).xwayland, expected) << value;
    }
    const std::string message = error_of({}, {"HOME=/h", "DESKPOD_XWAYLAND=maybe"});
    EXPECT_NE(message.find("--xwayland"), std::string::npos) << message;
    EXPECT_NE(message.find("DESKPOD_XWAYLAND"), std::string::npos) << message;
}

TEST(Config, PrimarySelectionFlagsAndBooleans) {
    EXPECT_FALSE(parse({}).primary_selection);
    EXPECT_TRUE(parse({"--primary-selection"}).primary_selection);
    EXPECT_FALSE(parse({"--no-primary-selection"}).primary_selection);
    EXPECT_FALSE(parse({"--primary-selection", "--no-primary-selection"}).primary_selection);
    EXPECT_TRUE(parse({"--no-primary-selection", "--primary-selection"}).primary_selection);
    EXPECT_FALSE(parse({"--primary-selection=off"}).primary_selection);
    EXPECT_TRUE(parse({"--primary-selection=yes"}).primary_selection);
    for (const auto& [value, expected] : std::vector<std::pair<std::string, bool>>{
             {"0", false}, {"1", true}, {"on", true}, {"no", false}, {"True", true}}) {
        EXPECT_EQ(parse({}, {"HOME=/h", "DESKPOD_PRIMARY_SELECTION=" + value}).primary_selection,
                  expected)
            << value;
    }
    // The command line overrides the environment, which overrides the file.
    TempDir dir;
    const std::string file = dir.write("p.toml", "primary_selection = true\n");
    EXPECT_TRUE(parse({"--config", file}).primary_selection);
    EXPECT_FALSE(
        parse({"--config", file}, {"HOME=/h", "DESKPOD_PRIMARY_SELECTION=0"}).primary_selection);
    EXPECT_FALSE(parse({"--config", file, "--no-primary-selection"}).primary_selection);
    EXPECT_TRUE(parse({"--primary-selection"}, {"HOME=/h", "DESKPOD_PRIMARY_SELECTION=false"})
                    .primary_selection);

    std::string message = error_of({}, {"HOME=/h", "DESKPOD_PRIMARY_SELECTION=sometimes"});
    EXPECT_EQ(message,
              "--primary-selection (from DESKPOD_PRIMARY_SELECTION): expected true|false (also "
              "1|0, yes|no, on|off), got \"sometimes\"");
    message = error_of({"--no-primary-selection=1"});
    EXPECT_EQ(message.rfind("--no-primary-selection: takes no value", 0), 0u) << message;
    dir.write("n.toml", "no-primary-selection = true\n");
    message = error_of({"--config", dir.path() + "/n.toml"});
    EXPECT_NE(message.find("unknown key \"no-primary-selection\""), std::string::npos) << message;
    dir.write("s.toml", "primary-selection = 1.0\n");
    message = error_of({"--config", dir.path() + "/s.toml"});
    EXPECT_NE(message.find("--primary-selection"), std::string::npos) << message;
}

TEST(Config, EmptyEnvironmentValuesAreUnset) {
    EXPECT_EQ(parse({}, {"HOME=/h", "DESKPOD_RDP=", "DESKPOD_MAX_CLIENTS="}).rdp.port, 3389);
}

TEST(Config, PasswordIsNotAnOption) {
    // DESKPOD_PASSWORD is read by resolve_secrets(), and there is no --password to leak into ps.
    EXPECT_EQ(error_of({}, {"HOME=/h", "DESKPOD_PASSWORD=x"}), "");
    EXPECT_EQ(error_of({"--password", "x"}), "unknown option --password");
}

TEST(Config, EndpointForms) {
    EXPECT_EQ(parse({"--rdp", "example.com:3389"}).rdp.to_string(), "example.com:3389");
    EXPECT_EQ(parse({"--rdp", "localhost:1"}).rdp.to_string(), "localhost:1");
    EXPECT_EQ(parse({"--rdp", "[::]:65535"}).rdp.to_string(), "[::]:65535");
    EXPECT_EQ(parse({"--rdp", "[fe80::1]:80"}).rdp.host, "fe80::1");
    EXPECT_FALSE(parse({"--rdp", "OFF"}).rdp.enabled);
    EXPECT_EQ(parse({"--rdp", "off"}).rdp.to_string(), "off");
    for (const std::string bad : {"1.2.3.4", "host:0", "host:65536", "host:", ":3389", "::1:80",
                                  "[::1]80", "[zz]:80", "[::1]:", "-bad:80", "bad-.x:80",
                                  "999.1.1.1:80", "a b:80", "host:8a", "host:+80", "", "host:-1"}) {
        const std::string message = error_of({"--rdp=" + bad});
        EXPECT_EQ(message.rfind("--rdp: expected HOST:PORT", 0), 0u) << bad << ": " << message;
    }
    EXPECT_NE(error_of({"--http", "::1:80"}).find("brackets"), std::string::npos);
}

TEST(Config, ClipboardLimitForms) {
    EXPECT_EQ(parse({"--clipboard-limit", "1024"}).clipboard_limit, 1024u);
    EXPECT_EQ(parse({"--clipboard-limit", "4K"}).clipboard_limit, 4096u);
    EXPECT_EQ(parse({"--clipboard-limit", "16m"}).clipboard_limit, 16u << 20);
    EXPECT_EQ(parse({"--clipboard-limit", "1G"}).clipboard_limit, 1u << 30);
    for (const std::string bad : {"9", "41", "x", ""}) {
        const std::string message = error_of({"--rdp-h264-quality", bad});
        EXPECT_EQ(message.rfind("--rdp-h264-quality: expected QP between 10 and 40", 0), 0u)
            << bad << ": " << message;
    }
    for (const std::string bad : {"999", "200001", "5M", ""}) {
        const std::string message = error_of({"--rdp-h264-max-kbps", bad});
        EXPECT_EQ(message.rfind("--rdp-h264-max-kbps: expected KBPS between 1000 and 200000", 0),
                  0u)
            << bad << ": " << message;
    }
    for (const std::string bad :
         {"1023", "2G", "1073741825", "abc", "-5", "1.5M", "K", "4KB", "99999999999999999999999"}) {
        const std::string message = error_of({"--clipboard-limit", bad});
        EXPECT_EQ(message.rfind("--clipboard-limit: expected BYTES between 1024 and 1073741824", 0),
                  0u)
            << bad << ": " << message;
    }
}

TEST(Config, InvalidValuesNameTheOptionAndTheAcceptedForm) {
    EXPECT_EQ(error_of({"--size", "12x"}),
              "--size: expected WxH between 320x200 and 8192x8192, got \"12x\"");

    struct Bad {
        std::string option, value, expected;
    };
    const std::vector<Bad> cases = {
        {"backend", "wayland", "headless|x11"},
        {"size", "319x200", "WxH between"},
        {"size", "320x199", "WxH between"},
        {"size", "8193x100", "WxH between"},
        {"size", "x", "WxH between"},
        {"size", "1280*800", "WxH between"},
        {"size", "-1280x800", "WxH between"},
        {"rdp-security", "rdp", "nla|tls"},
        {"user", "", "NAME"},
        {"user", "a:b", "NAME"},
        {"user", "two words", "NAME"},
        {"password-file", "", "FILE"},
        {"tls-cert", "", "FILE"},
        {"tls-key", "", "FILE"},
        {"state-dir", "", "DIR"},
        {"session", "", "COMMAND"},
        {"session-exit", "again", "restart|quit"},
        {"wayland-socket", "a/b", "NAME"},
        {"wayland-socket", "..", "NAME"},
        {"wayland-socket", "", "NAME"},
        {"xwayland", "perhaps", "true|false"},
        {"primary-selection", "maybe", "true|false"},
        {"max-clients", "0", "N between 1 and 64"},
        {"max-clients", "65", "N between 1 and 64"},
        {"max-clients", "four", "N between 1 and 64"},
        {"log-level", "trace", "error|warn|info|debug"},
        {"log-format", "xml", "text|json"},
    };
    for (const auto& c : cases) {
        const std::string message = error_of({"--" + c.option + "=" + c.value});
        EXPECT_EQ(message.rfind("--" + c.option + ": expected " + c.expected, 0), 0u)
            << c.option << "=" << c.value << ": " << message;
        EXPECT_NE(message.find("got \"" + c.value + "\""), std::string::npos) << message;
    }
}

TEST(Config, InvalidValuesFromOtherSourcesSayWhere) {
    std::string message = error_of({}, {"HOME=/h", "DESKPOD_MAX_CLIENTS=100"});
    EXPECT_EQ(message,
              "--max-clients (from DESKPOD_MAX_CLIENTS): expected N between 1 and 64, "
              "got \"100\"");

    TempDir dir;
    const std::string file = dir.write("c.toml", "size = \"big\"\n");
    message = error_of({"--config", file});
    EXPECT_NE(message.find("--size"), std::string::npos) << message;
    EXPECT_NE(message.find("key \"size\" in " + file), std::string::npos) << message;

    dir.write("t.toml", "max-clients = 2.5\n");
    message = error_of({"--config", dir.path() + "/t.toml"});
    EXPECT_NE(message.find("--max-clients"), std::string::npos) << message;
    EXPECT_NE(message.find("floating-point"), std::string::npos) << message;
}

TEST(Config, CommandLineMistakes) {
    EXPECT_EQ(error_of({"--frobnicate"}), "unknown option --frobnicate");
    EXPECT_EQ(error_of({"--frobnicate=1"}), "unknown option --frobnicate");
    EXPECT_NE(error_of({"extra"}).find("unexpected argument \"extra\""), std::string::npos);
    EXPECT_NE(error_of({"-h"}).find("unexpected argument"), std::string::npos);
    std::string message = error_of({"--size"});
    EXPECT_EQ(message.rfind("--size: expected WxH", 0), 0u) << message;
    message = error_of({"--user", "--rdp", "off"});
    EXPECT_EQ(message.rfind("--user: expected NAME", 0), 0u) << message;
    message = error_of({"--no-xwayland=1"});
    EXPECT_EQ(message.rfind("--no-xwayland: takes no value", 0), 0u) << message;
    message = error_of({"--config"});
    EXPECT_EQ(message.rfind("--config: expected FILE", 0), 0u) << message;
}

TEST(Config, ConfigFileMistakes) {
    TempDir dir;
    const std::string unknown = dir.write("u.toml", "rdp = \"off\"\nframerate = 60\n");
    std::string message = error_of({"--config", unknown});
    EXPECT_NE(message.find("unknown key \"framerate\""), std::string::npos) << message;
    EXPECT_NE(message.find(unknown), std::string::npos) << message;

    // Command-line-only names are not keys.
    for (const std::string key : {"config", "help", "version", "licenses", "no-xwayland"}) {
        dir.write("k.toml", key + " = true\n");
        message = error_of({"--config", dir.path() + "/k.toml"});
        EXPECT_NE(message.find("unknown key \"" + key + "\""), std::string::npos) << message;
    }

    dir.write("d.toml", "max-clients = 2\nmax_clients = 3\n");
    message = error_of({"--config", dir.path() + "/d.toml"});
    EXPECT_NE(message.find("repeats"), std::string::npos) << message;

    const std::string broken = dir.write("b.toml", "rdp = \n");
    message = error_of({"--config", broken});
    EXPECT_EQ(message.rfind("--config:", 0), 0u) << message;
    EXPECT_NE(message.find("line 1"), std::string::npos) << message;

    message = error_of({"--config", dir.path() + "/missing.toml"});
    EXPECT_EQ(message.rfind("--config: cannot read", 0), 0u) << message;

    message = error_of({}, {"HOME=/h", "DESKPOD_CONFIG=" + dir.path() + "/missing.toml"});
    EXPECT_EQ(message.rfind("--config (from DESKPOD_CONFIG): cannot read", 0), 0u) << message;
}

TEST(Config, HelpListsEveryOptionWithItsDefault) {
    testing::internal::CaptureStdout();
    Config cfg;
    // --help wins over an unusable config file: a confused user must still get the help.
    EXPECT_EQ(parse_config({"--help", "--config", "/nonexistent.toml"}, kHome, cfg),
              ParseOutcome::exit_ok);
    const std::string out = testing::internal::GetCapturedStdout();
    EXPECT_EQ(out, help_text());
    for (const std::string option : {"--config FILE",
                                     "--backend headless|x11",
                                     "--size WxH",
                                     "--rdp HOST:PORT|off",
                                     "--guac HOST:PORT|off",
                                     "--http HOST:PORT|off",
                                     "--rdp-security nla|tls",
                                     "--user NAME",
                                     "--password-file FILE",
                                     "--tls-cert FILE",
                                     "--tls-key FILE",
                                     "--state-dir DIR",
                                     "--session COMMAND",
                                     "--session-exit restart|quit",
                                     "--wayland-socket NAME",
                                     "--xwayland",
                                     "--no-xwayland",
                                     "--primary-selection",
                                     "--no-primary-selection",
                                     "DESKPOD_PRIMARY_SELECTION",
                                     "--max-clients N",
                                     "--clipboard-limit BYTES",
                                     "--log-level error|warn|info|debug",
                                     "--log-format text|json",
                                     "--version",
                                     "--help",
                                     "DESKPOD_",
                                     "DESKPOD_PASSWORD",
                                     "DESKPOD_CONFIG",
                                     "1920x1080",
                                     "0.0.0.0:3389",
                                     "127.0.0.1:4822",
                                     "0.0.0.0:8080",
                                     "16777216",
                                     "wayland-deskpod",
                                     "Example"}) {
        EXPECT_NE(out.find(option), std::string::npos) << option;
    }
}

// An option's lines in --help: its metavar and its text with the line breaks and column
// padding collapsed to single spaces.
struct HelpEntry {
    std::string metavar;
    std::string text;
};

// Reads --help as tests/deploy/deploy_common.py does, with its regular expression: an option line
// is indented and starts with --name (", --name" for more), then maybe " METAVAR". The text of
// an option runs to the next option line or blank line; the example at the end is not read.
std::map<std::string, HelpEntry> parse_help(const std::string& help) {
    const std::regex option_line(
        R"(^\s+(--[a-z][a-z0-9-]*(?:, --[a-z][a-z0-9-]*)*)(?: ([^\s]+))?)");
    std::map<std::string, HelpEntry> entries;
    std::vector<std::string> current;
    std::istringstream in(help);
    for (std::string line; std::getline(in, line) && line != "Example:";) {
        std::smatch m;
        if (std::regex_search(line, m, option_line)) {
            current.clear();
            std::istringstream names(m[1].str());
            for (std::string name; std::getline(names, name, ',');) {
                name = name.substr(name.find("--") + 2);
                entries.emplace(name, HelpEntry{m[2].str(), ""});
                current.push_back(name);
            }
        } else if (line.empty()) {
            current.clear();
        }
        std::istringstream words(line);
        for (std::string word; words >> word;) {
            for (const std::string& name : current)
                entries[name].text += " " + word;
        }
    }
    return entries;
}

TEST(Config, HelpShowsEveryOptionOfTheTableWithItsDefault) {
    const std::vector<OptionDoc> options = documented_options();
    const std::map<std::string, HelpEntry> help = parse_help(help_text());
    ASSERT_GE(options.size(), 20u);
    for (const OptionDoc& option : options) {
        const auto it = help.find(option.name);
        ASSERT_NE(it, help.end()) << "--" << option.name << " is not in --help";
        EXPECT_EQ(it->second.metavar, option.metavar) << option.name;
        if (!option.default_value.empty()) {
            EXPECT_NE(it->second.text.find(" default: " + option.default_value), std::string::npos)
                << option.name << ":" << it->second.text;
        }
        if (!option.default_note.empty()) {
            EXPECT_NE(it->second.text.find(" default: " + option.default_note), std::string::npos)
                << option.name << ":" << it->second.text;
        }
    }
    // Nor does the help list an option the table does not have.
    for (const auto& entry : help) {
        // Not a structured binding: clang before 16 cannot capture one in a lambda.
        const std::string& name = entry.first;
        EXPECT_TRUE(std::any_of(options.begin(), options.end(), [&](const OptionDoc& o) {
            return o.name == name;
        })) << name;
    }
}

TEST(Config, EveryDefaultTheHelpShowsIsTheDefault) {
    const Config defaults = parse({});
    int checked = 0;
    for (const OptionDoc& option : documented_options()) {
        if (option.default_value.empty())
            continue;
        const Config cfg = parse({"--" + option.name + "=" + option.default_value});
        EXPECT_TRUE(cfg == defaults) << "--" << option.name << "=" << option.default_value;
        ++checked;
    }
    EXPECT_GE(checked, 15);
}

TEST(Config, VersionPrintsTheVersion) {
    testing::internal::CaptureStdout();
    Config cfg;
    EXPECT_EQ(parse_config({"--version"}, kHome, cfg), ParseOutcome::exit_ok);
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "deskpod " DESKPOD_VERSION "\n");
    EXPECT_NE(error_of({"--version=2"}).find("takes no value"), std::string::npos);
}

TEST(Config, ArgvEntryPointSkipsTheProgramName) {
    const char* argv[] = {"deskpod", "--size", "800x600", nullptr};
    Config cfg;
    ASSERT_EQ(parse_config(3, const_cast<char**>(argv), cfg), ParseOutcome::run);
    EXPECT_EQ(cfg.width, 800);
    EXPECT_EQ(cfg.height, 600);
}

TEST(Config, RelativeStateDirIsMadeAbsolute) {
    const Config cfg = parse({"--state-dir", "pod/state/"});
    EXPECT_EQ(cfg.state_dir, (std::filesystem::current_path() / "pod/state").string());
}

TEST(Endpoint, ToString) {
    EXPECT_EQ((Endpoint{true, "0.0.0.0", 3389}).to_string(), "0.0.0.0:3389");
    EXPECT_EQ((Endpoint{true, "::1", 80}).to_string(), "[::1]:80");
    EXPECT_EQ((Endpoint{false, "0.0.0.0", 3389}).to_string(), "off");
}

}  // namespace
}  // namespace deskpod
