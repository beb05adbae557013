// Boost.Asio for rdp-bridge. Boost 1.74's asio uses std::exchange without including
// <utility> (boost/asio/awaitable.hpp, which <boost/asio.hpp> includes once -std=c++20 enables
// coroutines), so <boost/asio.hpp> alone fails to compile: always include it through here.
#pragma once

#include <utility>

#include <boost/asio.hpp>
