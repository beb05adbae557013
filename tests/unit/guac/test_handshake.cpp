// Recorded handshakes, written from the wire behaviour of the clients' sources:
// guacamole-lite (GuacdClient.js: answers args by name, caps the version at 1.1.0, fixed
// order size/audio/video/image/timezone) and guacamole-client 1.5 (ConfiguredGuacamoleSocket:
// size, audio, video, image, timezone, name, then connect with VERSION_1_5_0 first).
#include <gtest/gtest.h>

#include "rdp-bridge/guac/handshake.hpp"
#include "rdp-bridge/guac/user.hpp"

using namespace deskpod::guac;

namespace {

const std::string kId = "$1f2e3d4c-0000-4000-8000-123456789abc";

struct Replay {
    std::string replies;
    Handshake::Step last;
};

Replay replay(Handshake& hs, const std::string& wire) {
    Parser p;
    p.append(wire);
    Instruction in;
    Replay run;
    while (p.next(in) == Parser::Status::instruction) {
        run.last = hs.on_instruction(in);
        run.replies += run.last.reply;
        if (run.last.failure || run.last.done)
            break;
    }
    return run;
}

std::string expected_args() {
    return "4.args,13.VERSION_1_5_0,8.hostname,4.port,8.username,8.password,5.width,6.height,"
           "3.dpi,9.read-only;";
}

}  // namespace

TEST(GuacHandshake, GuacamoleLite110) {
    Handshake hs(kId);
    const Replay first = replay(hs, "6.select,3.rdp;");
    EXPECT_EQ(first.replies, expected_args());
    // guacamole-lite answers each announced name from its settings (null -> empty).
    const Replay rest =
        replay(hs,
               "4.size,4.1280,3.720,2.96;5.audio;5.video;5.image,9.image/png,10.image/jpeg;"
               "8.timezone,13.Europe/Berlin;"
               "7.connect,13.VERSION_1_1_0,9.127.0.0.1,4.4822,0.,0.,0.,0.,0.,0.;");
    ASSERT_TRUE(rest.last.done);
    EXPECT_EQ(rest.replies, "5.ready," + std::to_string(kId.size()) + "." + kId + ";");
    const ClientInfo& info = hs.info();
    EXPECT_EQ(info.version, (Version{1, 1, 0}));
    EXPECT_EQ(info.width, 1280);
    EXPECT_EQ(info.height, 720);
    EXPECT_EQ(info.dpi, 96);
    EXPECT_EQ(info.image_mimetypes, (std::vector<std::string>{"image/png", "image/jpeg"}));
    EXPECT_EQ(info.timezone, "Europe/Berlin");
    EXPECT_FALSE(info.read_only);
    EXPECT_FALSE(info.join);
}

TEST(GuacHandshake, GuacamoleClient150AnyOrder) {
    Handshake hs(kId);
    replay(hs, "6.select,3.vnc;");
    const Replay rest =
        replay(hs,
               "4.name,5.alice;8.timezone,16.America/New_York;5.image,9.image/png,10.image/jpeg,"
               "10.image/webp;4.size,4.1920,4.1080,3.192;5.audio,9.audio/L16;5.video;"
               "7.connect,13.VERSION_1_5_0,9.localhost,4.5900,5.alice,6.secret,0.,0.,0.,0.;");
    ASSERT_TRUE(rest.last.done);
    const ClientInfo& info = hs.info();
    EXPECT_EQ(info.version, (Version{1, 5, 0}));
    EXPECT_EQ(info.name, "alice");
    EXPECT_EQ(info.dpi, 192);
    EXPECT_EQ(info.image_mimetypes.size(), 3u);
    EXPECT_EQ(info.parameters[2], (std::pair<std::string, std::string>{"username", "alice"}));
}

TEST(GuacHandshake, JoinReadOnly) {
    Handshake hs(kId);
    const Replay first = replay(hs, "6.select," + std::to_string(kId.size()) + "." + kId + ";");
    EXPECT_EQ(first.replies, expected_args());
    const Replay rest = replay(hs,
                               "4.size,3.800,3.600;5.audio;5.video;5.image,9.image/png;"
                               "7.connect,13.VERSION_1_5_0,0.,0.,0.,0.,0.,0.,0.,4.true;");
    ASSERT_TRUE(rest.last.done);
    EXPECT_TRUE(hs.info().join);
    EXPECT_TRUE(hs.info().read_only);
}

TEST(GuacHandshake, OldClient100FixedOrderWithoutVersion) {
    Handshake hs(kId);
    replay(hs, "6.select,3.rdp;");
    // 1.0.0 clients know no version slot: the first value is whatever they had for it.
    const Replay rest =
        replay(hs, "4.size,4.1024,3.768;5.audio;5.video;5.image,9.image/png;7.connect,0.,4.host;");
    ASSERT_TRUE(rest.last.done);
    EXPECT_EQ(hs.info().version, (Version{1, 0, 0}));
    EXPECT_EQ(hs.info().dpi, 96);
}

TEST(GuacHandshake, NewerClientNegotiatesDown) {
    Handshake hs(kId);
    replay(hs, "6.select,3.rdp;");
    const Replay rest = replay(hs, "7.connect,13.VERSION_1_9_0;");
    ASSERT_TRUE(rest.last.done);
    EXPECT_EQ(hs.info().version, kServerVersion);
}

TEST(GuacHandshake, Failures) {
    {
        Handshake hs(kId);
        const Replay r = replay(hs, "4.size,3.800,3.600;");
        ASSERT_TRUE(r.last.failure);
        EXPECT_EQ(*r.last.failure, Status::client_bad_request);
    }
    {
        Handshake hs(kId);
        const Replay r = replay(hs, "6.select,5.$nope;");
        ASSERT_TRUE(r.last.failure);
        EXPECT_EQ(*r.last.failure, Status::resource_not_found);
    }
    {
        Handshake hs(kId);
        replay(hs, "6.select,3.rdp;");
        const Replay r = replay(hs, "4.size,1.0,3.600;");
        ASSERT_TRUE(r.last.failure);
    }
}

TEST(GuacHandshake, ParsesVersions) {
    EXPECT_EQ(parse_version("VERSION_1_3_0"), (Version{1, 3, 0}));
    EXPECT_FALSE(parse_version("VERSION_1_3"));
    EXPECT_FALSE(parse_version("1_3_0"));
    EXPECT_FALSE(parse_version("VERSION_a_b_c"));
    EXPECT_EQ((Version{1, 5, 0}).to_string(), "VERSION_1_5_0");
}

namespace deskpod::guac {
namespace {

// guac_user.hpp: the handshake's dpi becomes the desktop scale.
TEST(GuacScale, DpiBecomesDesktopScale) {
    EXPECT_EQ(scale_for_dpi(96), 1.0);
    EXPECT_EQ(scale_for_dpi(0), 1.0);
    EXPECT_EQ(scale_for_dpi(120), 1.25);
    EXPECT_EQ(scale_for_dpi(144), 1.5);
    EXPECT_EQ(scale_for_dpi(192), 2.0);
    EXPECT_EQ(scale_for_dpi(200), 2.0);  // a 2.08 ratio rounds to the nearest quarter
    EXPECT_EQ(scale_for_dpi(480), 5.0);
    EXPECT_EQ(scale_for_dpi(481), 1.0);  // absurd: ignored
}

}  // namespace
}  // namespace deskpod::guac

// Found by tests/fuzz/guac_handshake_fuzz.cpp: an instruction after `ready` used to turn the
// handshake into a failed one, so finished() said false although `ready` had been sent.
TEST(GuacHandshake, StaysFinishedAfterALateInstruction) {
    Handshake hs(kId);
    replay(hs, "6.select,3.rdp;");
    ASSERT_TRUE(replay(hs, "7.connect,13.VERSION_1_5_0;").last.done);
    Parser p;
    p.append("3.nop;");
    Instruction in;
    ASSERT_EQ(p.next(in), Parser::Status::instruction);
    const Handshake::Step late = hs.on_instruction(in);
    EXPECT_TRUE(late.failure.has_value());
    EXPECT_TRUE(late.reply.empty());
    EXPECT_TRUE(hs.finished());
}
