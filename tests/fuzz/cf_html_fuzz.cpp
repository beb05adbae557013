// libFuzzer target: the CF_HTML ("HTML Format") header parser, fed by remote RDP clients.
#include <cstddef>
#include <cstdint>

#include "rdp-bridge/clipboard/formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (auto html = deskpod::clipformat::html_from_cf_html(data, size)) {
        // What we extract must be inside the input and survive a round trip through our writer.
        if (html->size() > size)
            __builtin_trap();
        const std::string wrapped = deskpod::clipformat::cf_html_from_html(*html);
        auto again = deskpod::clipformat::html_from_cf_html(
            reinterpret_cast<const uint8_t*>(wrapped.data()), wrapped.size());
        if (!again)
            __builtin_trap();
    }
    deskpod::clipformat::utf8_from_unicodetext(data, size);
    deskpod::clipformat::utf8_from_ansitext(data, size);
    return 0;
}
