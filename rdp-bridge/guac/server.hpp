// The guacd-compatible TCP endpoint (--guac): accepts Guacamole web tiers (guacamole-client,
// guacamole-lite) exactly where they expect guacd, and runs one guac::User per connection.
// Like guacd it has no authentication of its own, hence the loopback default
// (docs/security.md).
// Network thread only, except listen(), which runs before the network thread starts.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "rdp-bridge/asio.hpp"
#include "rdp-bridge/guac/user.hpp"
#include "shared/log.hpp"

namespace deskpod::guac {

class TcpConnection;

class Server {
  public:
    explicit Server(Host& host);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds config.guac; throws std::runtime_error naming --guac and the address.
    void listen();
    void start();
    // Closes the listener and every connection.
    void stop();
    bool listening() const { return acceptor_.is_open(); }
    uint16_t port() const { return port_; }

    void remove(int id);

  private:
    void accept();

    Host& host_;
    log::Logger log_{"guac"};
    boost::asio::ip::tcp::acceptor acceptor_;
    uint16_t port_ = 0;
    std::map<int, std::shared_ptr<TcpConnection>> connections_;
    int next_id_ = 1;
    bool stopping_ = false;
};

// A random "$"-prefixed UUID (version 4), the form guacd uses for connection ids.
std::string new_connection_id();

}  // namespace deskpod::guac
