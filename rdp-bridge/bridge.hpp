// The network side: one boost::asio::io_context on its own thread serving RDP (FreeRDP 2
// server library), the Guacamole protocol and HTTP (the web client, health, metrics). Nothing in
// rdp-bridge/ sees wlroots; the compositor is reached only through Channels.
#pragma once

#include <memory>

#include "shared/channels.hpp"
#include "shared/config.hpp"

namespace deskpod {

class Bridge {
  public:
    Bridge(const Config& config, Channels& channels);
    ~Bridge();
    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;

    // Opens every enabled listener on the calling thread (so bind errors surface before the
    // desktop starts; throws std::runtime_error naming the option and address), then starts
    // the network thread.
    void start();

    // Thread-safe. Disconnects every client cleanly, closes listeners, stops and joins the
    // network thread. Idempotent.
    void stop();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace deskpod
