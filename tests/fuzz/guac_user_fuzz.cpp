// libFuzzer target for a Guacamole user on the guacd-compatible port: arbitrary bytes, split at
// an input-chosen point (as TCP may split them), through guac::User::receive(): the parser,
// the handshake (select, size/audio/video/image/timezone/name, connect), then the session's
// instructions (mouse, key, size, sync, clipboard streams, disconnect ...). Beyond not
// crashing: everything sent back is whole instructions, input reaching the compositor stays on
// the desktop with buttons pressed and released in turn, resizes are layouts the desktop
// takes, the client's clipboard is answered within --clipboard-limit, and a user that goes
// gives back its seat and everything it held.
#include <cstdint>
#include <string_view>

#include "tests/fuzz/guac_world.hpp"

using namespace deskpod;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    fuzz::GuacWorld world;
    fuzz::FakeTransport transport;
    const size_t split = data[0] % size;
    const std::string_view all(reinterpret_cast<const char*>(data) + 1, size - 1);
    {
        guac::User user(world.host, transport, Protocol::guac, "guac#1");
        user.start_handshake();
        user.receive(all.substr(0, std::min(split, all.size())));
        world.io.poll();
        world.drain();
        user.receive(all.substr(std::min(split, all.size())));
        world.io.poll();
        world.drain();
        FUZZ_CHECK(world.desktop.seats_in_use() <= 1);
        FUZZ_CHECK(!user.stopped() || world.desktop.seats_in_use() == 0);
        world.paste_from_client();
        world.check_output(transport);
    }
    world.check_all_released();
    return 0;
}
