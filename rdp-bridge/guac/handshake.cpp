#include "rdp-bridge/guac/handshake.hpp"

#include <charconv>

#include <fmt/format.h>

namespace deskpod::guac {

std::string Version::to_string() const {
    return fmt::format("VERSION_{}_{}_{}", major, minor, patch);
}

std::optional<int> parse_int(std::string_view text, int lo, int hi) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < lo || value > hi)
        return std::nullopt;
    return value;
}

std::optional<Version> parse_version(std::string_view text) {
    constexpr std::string_view prefix = "VERSION_";
    if (!text.starts_with(prefix))
        return std::nullopt;
    text.remove_prefix(prefix.size());
    int parts[3];
    for (int k = 0; k < 3; ++k) {
        const size_t sep = text.find('_');
        const std::string_view part = k < 2 ? text.substr(0, sep) : text;
        if (k < 2 && sep == std::string_view::npos)
            return std::nullopt;
        const auto v = parse_int(part, 0, 999);
        if (!v)
            return std::nullopt;
        parts[k] = *v;
        if (k < 2)
            text.remove_prefix(sep + 1);
    }
    return Version{parts[0], parts[1], parts[2]};
}

const std::vector<std::string>& parameter_names() {
    // The names guacamole-client and guacamole-lite fill from their connection settings. Only
    // read-only matters to deskpod; the rest are announced so configured values are accepted
    // silently (hostname and port of a guacd "rdp" connection, for example).
    static const std::vector<std::string> names{"hostname", "port",   "username", "password",
                                                "width",    "height", "dpi",      "read-only"};
    return names;
}

Handshake::Step Handshake::fail(Status status, std::string message) {
    state_ = State::failed;
    Step step;
    step.failure = status;
    step.failure_message = std::move(message);
    return step;
}

Handshake::Step Handshake::on_instruction(const Instruction& in) {
    Step step;
    const auto& a = in.args;
    switch (state_) {
        case State::expect_select: {
            if (in.opcode != "select" || a.size() != 1)
                return fail(Status::client_bad_request,
                            fmt::format("expected select, got \"{}\"", in.opcode));
            const std::string& target = a[0];
            if (target.starts_with('$')) {
                if (target != connection_id_)
                    return fail(Status::resource_not_found,
                                fmt::format("no connection with id {}", target));
                info_.join = true;
            } else if (target.empty()) {
                return fail(Status::client_bad_request, "select names no protocol");
            }
            // Any protocol name (rdp, vnc, ssh...) selects the desktop: deskpod is the remote
            // desktop itself, so there is nothing upstream to choose between.
            std::vector<std::string_view> args{};
            const std::string version = kServerVersion.to_string();
            args.push_back(version);
            for (const auto& name : parameter_names())
                args.push_back(name);
            append_instruction(step.reply, "args", args);
            state_ = State::expect_connect;
            return step;
        }
        case State::expect_connect: {
            if (in.opcode == "size") {
                if (a.size() < 2)
                    return fail(Status::client_bad_request, "size needs width and height");
                const auto w = parse_int(a[0], 1, 16384), h = parse_int(a[1], 1, 16384);
                if (!w || !h)
                    return fail(Status::client_bad_request, "size is not a valid size");
                info_.width = *w;
                info_.height = *h;
                if (a.size() >= 3) {
                    if (const auto dpi = parse_int(a[2], 1, 10000))
                        info_.dpi = *dpi;
                }
            } else if (in.opcode == "audio") {
                info_.audio_mimetypes = a;
            } else if (in.opcode == "video") {
                info_.video_mimetypes = a;
            } else if (in.opcode == "image") {
                info_.image_mimetypes = a;
            } else if (in.opcode == "timezone") {
                if (!a.empty())
                    info_.timezone = a[0];
            } else if (in.opcode == "name") {
                if (!a.empty())
                    info_.name = a[0];
            } else if (in.opcode == "connect") {
                size_t first_value = 0;
                if (!a.empty()) {
                    if (const auto v = parse_version(a[0])) {
                        info_.version = std::min(*v, kServerVersion);
                    } else {
                        // A 1.0.0 client fills the version slot like any parameter (usually
                        // empty): it is still the first value.
                        info_.version = Version{1, 0, 0};
                    }
                    first_value = 1;
                }
                const auto& names = parameter_names();
                for (size_t k = first_value; k < a.size() && k - first_value < names.size(); ++k) {
                    const std::string& name = names[k - first_value];
                    info_.parameters.emplace_back(name, a[k]);
                    if (name == "read-only")
                        info_.read_only = a[k] == "true";
                }
                append_instruction(step.reply, "ready", {connection_id_});
                step.done = true;
                state_ = State::done;
            } else if (in.opcode == "select") {
                return fail(Status::client_bad_request, "select sent twice");
            }
            // Anything else (a newer client's optional instruction) is ignored, as guacd does.
            return step;
        }
        case State::done:
        case State::failed:
            break;
    }
    // Refused without a state change: a handshake that sent `ready` stays finished.
    step.failure = Status::client_bad_request;
    step.failure_message = "handshake already finished";
    return step;
}

}  // namespace deskpod::guac
