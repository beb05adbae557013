// The guacd handshake, as a pure state machine (no sockets, no timers), so it can be tested
// against recorded handshakes:
//   client: select,<protocol | $connection-id>;
//   server: args,VERSION_1_5_0,<parameter names>;
//   client: size / audio / video / image / timezone / name, in any order;
//           connect,<version>,<parameter values>;
//   server: ready,<connection-id>;
// The client's version is the first connect value; clients older than 1.1.0 send no version
// there (and their instructions arrive in the fixed order size, audio, video, image), and we
// then speak 1.0.0. The negotiated version is the lower of the client's and ours.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rdp-bridge/guac/parser.hpp"
#include "rdp-bridge/guac/status.hpp"

namespace deskpod::guac {

struct Version {
    int major = 1, minor = 0, patch = 0;
    auto operator<=>(const Version&) const = default;
    std::string to_string() const;  // "VERSION_1_5_0"
};
// Parses "VERSION_x_y_z"; nullopt for anything else.
std::optional<Version> parse_version(std::string_view text);
inline constexpr Version kServerVersion{1, 5, 0};

// What the client told us about itself.
struct ClientInfo {
    int width = 1024;
    int height = 768;
    int dpi = 96;
    std::vector<std::string> audio_mimetypes;
    std::vector<std::string> video_mimetypes;
    std::vector<std::string> image_mimetypes;
    std::string timezone;
    std::string name;
    Version version{1, 0, 0};
    bool read_only = false;
    // The connect values by parameter name (the version slot excluded).
    std::vector<std::pair<std::string, std::string>> parameters;
    bool join = false;  // selected an existing connection id rather than a protocol
};

// The parameter names deskpod announces in `args` (after the version). Values are accepted
// and mostly ignored: the desktop is already there; only read-only changes anything.
const std::vector<std::string>& parameter_names();

class Handshake {
  public:
    // `connection_id` is the id of the one desktop connection ("$" + uuid).
    explicit Handshake(std::string connection_id) : connection_id_(std::move(connection_id)) {}

    struct Step {
        std::string reply;              // encoded instructions to send (may be empty)
        bool done = false;              // `ready` is in reply: the session starts
        std::optional<Status> failure;  // send `error` with this code and close
        std::string failure_message;
    };

    Step on_instruction(const Instruction& instruction);

    const ClientInfo& info() const { return info_; }
    bool finished() const { return state_ == State::done; }

  private:
    enum class State { expect_select, expect_connect, done, failed };
    Step fail(Status status, std::string message);

    std::string connection_id_;
    State state_ = State::expect_select;
    ClientInfo info_;
};

// Parses a decimal int in [lo, hi]; nullopt otherwise.
std::optional<int> parse_int(std::string_view text, int lo, int hi);

}  // namespace deskpod::guac
