// The built-in web client's files, embedded at build time (embed.py).
#pragma once

#include <string_view>
#include <vector>

namespace deskpod::web {

struct Asset {
    std::string_view path;  // URL path, e.g. "/app.js"
    std::string_view content_type;
    std::string_view body;
};

const std::vector<Asset>& assets();

}  // namespace deskpod::web
