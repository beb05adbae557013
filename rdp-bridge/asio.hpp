// Boost.Asio for rdp-bridge. Boost 1.74's asio uses std::exchange without including
// <utility>, which breaks under -std=c++20 (NOTES.md): always include it through here.
#pragma once

#include <utility>

#include <boost/asio.hpp>
