// Clipboard format conversions (rdp-bridge/clipboard_formats.hpp): text encodings and line
// ends, the CF_HTML header, DIB <-> PNG.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rdp-bridge/clipboard/formats.hpp"

namespace cf = deskpod::clipformat;

namespace {
const std::string kText = "Grüße ✓\nПривет 日本 🎉\n𝄞 end";

std::vector<uint8_t> bytes(std::string_view s) {
    return {s.begin(), s.end()};
}

// A 2x2 24 bpp bottom-up BITMAPINFOHEADER DIB: red, green (top row), blue, white (bottom).
std::vector<uint8_t> dib24() {
    std::vector<uint8_t> d(40 + 16, 0);
    auto put32 = [&](size_t at, uint32_t v) {
        for (int i = 0; i < 4; ++i)
            d[at + i] = uint8_t(v >> (8 * i));
    };
    put32(0, 40), put32(4, 2), put32(8, 2);
    d[12] = 1, d[14] = 24;
    // Rows are padded to 4 bytes; bottom row first: blue, white.
    const uint8_t rows[] = {255, 0, 0, 255, 255, 255, 0, 0, /* top: */ 0, 0, 255, 0, 255, 0, 0, 0};
    for (size_t i = 0; i < sizeof rows; ++i)
        d[40 + i] = rows[i];
    return d;
}
}  // namespace

TEST(ClipboardText, UnicodeTextRoundTripsWithCrlfAndSurrogates) {
    const auto wire = cf::unicodetext_from_utf8(kText);
    // CRLF on the wire, NUL-terminated, astral characters as surrogate pairs.
    ASSERT_GE(wire.size(), 2u);
    EXPECT_EQ(wire[wire.size() - 1], 0);
    EXPECT_EQ(wire[wire.size() - 2], 0);
    std::u16string u16(reinterpret_cast<const char16_t*>(wire.data()), wire.size() / 2 - 1);
    EXPECT_NE(u16.find(u"\r\n"), std::u16string::npos);
    EXPECT_NE(u16.find(u"🎉"), std::u16string::npos);
    EXPECT_EQ(cf::utf8_from_unicodetext(wire.data(), wire.size()), kText);
}

TEST(ClipboardText, UnicodeTextStopsAtNulAndReplacesLoneSurrogates) {
    const uint8_t data[] = {'a', 0, 0x00, 0xD8, 'b', 0, 0, 0, 'c', 0};
    EXPECT_EQ(cf::utf8_from_unicodetext(data, sizeof data),
              "a\xEF\xBF\xBD"
              "b");
    const uint8_t odd[] = {'x', 0, 'y'};  // a trailing odd byte is ignored
    EXPECT_EQ(cf::utf8_from_unicodetext(odd, sizeof odd), "x");
}

TEST(ClipboardText, AnsiTextIsWindows1252) {
    const uint8_t data[] = {'e', 0x80, ' ', 0xE9, '\r', '\n', 0x93, 0};
    EXPECT_EQ(cf::utf8_from_ansitext(data, sizeof data), "e€ é\n“");
    const auto out = cf::ansitext_from_utf8("é\n✓");
    EXPECT_EQ(std::string(out.begin(), out.end()), std::string("\xE9\r\n?\0", 5));
}

TEST(ClipboardText, LineEnds) {
    EXPECT_EQ(cf::lf_to_crlf("a\nb\r\nc\n"), "a\r\nb\r\nc\r\n");
    EXPECT_EQ(cf::crlf_to_lf("a\r\nb\rc\r\n"), "a\nb\rc\n");
}

TEST(ClipboardHtml, WrapsAndUnwraps) {
    const std::string html = "<b>bold ✓</b>";
    const std::string wire = cf::cf_html_from_html(html);
    EXPECT_EQ(wire.rfind("Version:0.9\r\n", 0), 0u);
    const auto doc =
        cf::html_from_cf_html(reinterpret_cast<const uint8_t*>(wire.data()), wire.size());
    ASSERT_TRUE(doc);
    EXPECT_NE(doc->find(html), std::string::npos);
    EXPECT_EQ(doc->rfind("<html>", 0), 0u);
}

TEST(ClipboardHtml, FragmentOnlyAndMalformedHeaders) {
    const std::string frag =
        "Version:1.0\r\nStartHTML:-1\r\nEndHTML:-1\r\nStartFragment:0000000089\r\n"
        "EndFragment:0000000100\r\n<i>frag</i>";
    auto got = cf::html_from_cf_html(reinterpret_cast<const uint8_t*>(frag.data()), frag.size());
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, "<i>frag</i>");
    for (const std::string& bad : {
             std::string("no header at all"),
             std::string("Version:0.9\r\nStartHTML:10\r\nEndHTML:99999\r\n"),  // past the end
             std::string("Version:0.9\r\nStartHTML:50\r\nEndHTML:10\r\n"),     // reversed
             std::string("Version:0.9\r\nStartHTML:abc\r\nEndHTML:\r\n"),
         }) {
        EXPECT_FALSE(
            cf::html_from_cf_html(reinterpret_cast<const uint8_t*>(bad.data()), bad.size()))
            << bad;
    }
}

TEST(ClipboardImage, DibToPngToDibKeepsPixels) {
    const auto dib = dib24();
    const auto png = cf::png_from_dib(dib.data(), dib.size());
    ASSERT_TRUE(png);
    EXPECT_EQ(std::string(png->begin(), png->begin() + 4), "\x89PNG");
    for (bool v5 : {false, true}) {
        const auto back = cf::dib_from_png(png->data(), png->size(), v5);
        ASSERT_TRUE(back);
        const size_t header = v5 ? 124 : 40;
        ASSERT_EQ(back->size(), header + 2 * 2 * 4);
        // 32 bpp BGRA, bottom-up: blue, white, then red, green.
        const uint8_t* p = back->data() + header;
        const uint8_t want[] = {255, 0, 0, 255, 255, 255, 255, 255, 0, 0, 255, 255, 0, 255, 0, 255};
        EXPECT_EQ(std::vector<uint8_t>(p, p + 16), std::vector<uint8_t>(want, want + 16));
        // And the DIB we write is one we read.
        EXPECT_TRUE(cf::png_from_dib(back->data(), back->size()));
    }
}

TEST(ClipboardImage, RejectsMalformedDibs) {
    auto dib = dib24();
    EXPECT_FALSE(cf::png_from_dib(dib.data(), 30));              // truncated header
    EXPECT_FALSE(cf::png_from_dib(dib.data(), dib.size() - 1));  // truncated pixels
    auto huge = dib;
    huge[4] = 0xFF, huge[5] = 0xFF, huge[6] = 0xFF;  // width 16M
    EXPECT_FALSE(cf::png_from_dib(huge.data(), huge.size()));
    auto rle = dib;
    rle[16] = 1;  // BI_RLE8
    EXPECT_FALSE(cf::png_from_dib(rle.data(), rle.size()));
    const auto garbage = bytes("not a png at all");
    EXPECT_FALSE(cf::dib_from_png(garbage.data(), garbage.size(), false));
}
