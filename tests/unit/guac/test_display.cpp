#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "rdp-bridge/guac/codecs.hpp"
#include "rdp-bridge/guac/display.hpp"
#include "rdp-bridge/guac/parser.hpp"

using namespace deskpod;
using namespace deskpod::guac;

namespace {

struct Image {
    int w, h;
    std::vector<uint8_t> px;
    Image(int width, int height) : w(width), h(height), px(size_t(width) * height * 4, 0x20) {}
    ImageView view() const { return ImageView{px.data(), w, h, w * 4}; }
    void fill(const Rect& r, uint32_t colour) {
        for (int y = r.y; y < r.y + r.height; ++y)
            for (int x = r.x; x < r.x + r.width; ++x)
                std::memcpy(&px[(size_t(y) * w + x) * 4], &colour, 4);
    }
};

std::vector<Instruction> parse(const std::string& wire) {
    Parser p(ParserLimits{128, 100000, 1 << 20});
    p.append(wire);
    std::vector<Instruction> out;
    Instruction in;
    while (p.next(in) == Parser::Status::instruction)
        out.push_back(in);
    return out;
}

std::vector<Instruction> only(const std::vector<Instruction>& all, const std::string& opcode) {
    std::vector<Instruction> out;
    for (const auto& i : all)
        if (i.opcode == opcode)
            out.push_back(i);
    return out;
}

using Clock = std::chrono::steady_clock;

}  // namespace

TEST(GuacDisplay, FirstFrameCoversEverythingThenOnlyChanges) {
    Image img(200, 130);
    DisplayEncoder enc(ImageFormats{});
    std::string out;
    enc.encode(img.view(), Region(Rect{0, 0, 200, 130}), out);
    auto imgs = only(parse(out), "img");
    ASSERT_EQ(imgs.size(), 1u);  // 4x3 cells of one kind merge into one rectangle
    EXPECT_EQ(imgs[0].args[3], "image/png");

    // Damage without a pixel change sends nothing.
    out.clear();
    enc.encode(img.view(), Region(Rect{0, 0, 200, 130}), out);
    EXPECT_TRUE(out.empty());

    // One changed pixel: exactly its cell.
    img.fill(Rect{70, 70, 1, 1}, 0xFFFF0000);
    out.clear();
    const EncodeStats stats = enc.encode(img.view(), Region(Rect{70, 70, 1, 1}), out);
    EXPECT_EQ(stats.cells_changed, 1u);
    imgs = only(parse(out), "img");
    ASSERT_EQ(imgs.size(), 1u);
    EXPECT_EQ(imgs[0].args[4], "64");
    EXPECT_EQ(imgs[0].args[5], "64");
}

TEST(GuacDisplay, ScrolledContentIsCopied) {
    Image img(320, 400);
    std::mt19937 rng(1);
    // Text-like rows: each row different.
    for (int y = 0; y < img.h; ++y)
        img.fill(Rect{0, y, 320, 1}, 0xFF000000 | (rng() & 0xFFFFFF));
    DisplayEncoder enc(ImageFormats{});
    std::string out;
    enc.encode(img.view(), Region(Rect{0, 0, 320, 400}), out);

    // Scroll up by 17 rows; new rows appear at the bottom.
    std::memmove(img.px.data(), img.px.data() + size_t(17) * 320 * 4, size_t(400 - 17) * 320 * 4);
    for (int y = 400 - 17; y < 400; ++y)
        img.fill(Rect{0, y, 320, 1}, 0xFF000000 | (rng() & 0xFFFFFF));
    out.clear();
    const EncodeStats stats = enc.encode(img.view(), Region(Rect{0, 0, 320, 400}), out);
    const auto all = parse(out);
    const auto copies = only(all, "copy");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].args[2], "17");   // source y
    EXPECT_EQ(copies[0].args[4], "383");  // rows moved
    EXPECT_EQ(copies[0].args[8], "0");    // destination y
    EXPECT_EQ(stats.cells_changed, 10u);  // the two cell rows the new lines touch
}

TEST(GuacDisplay, CodecChoice) {
    Image text(256, 256);
    text.fill(Rect{10, 10, 100, 12}, 0xFF000000);
    Image photo(256, 256);
    std::mt19937 rng(2);
    for (auto& b : photo.px)
        b = uint8_t(rng());

    const DisplayEncoder png_only(ImageFormats{});
    EXPECT_EQ(png_only.choose_codec(photo.view(), Rect{0, 0, 256, 256}, true), Codec::png);

    const DisplayEncoder jpeg(ImageFormats{true, true, false});
    EXPECT_EQ(jpeg.choose_codec(text.view(), Rect{0, 0, 256, 256}, false), Codec::png);
    EXPECT_EQ(jpeg.choose_codec(photo.view(), Rect{0, 0, 256, 256}, false), Codec::jpeg);
    EXPECT_EQ(jpeg.choose_codec(text.view(), Rect{0, 0, 64, 64}, true), Codec::jpeg);

    const DisplayEncoder webp(ImageFormats{true, false, true});
    EXPECT_EQ(webp.choose_codec(photo.view(), Rect{0, 0, 256, 256}, false), Codec::webp);
}

TEST(GuacDisplay, OftenChangingCellsTurnLossy) {
    Image img(128, 128);
    DisplayEncoder enc(ImageFormats{true, true, false});
    std::string out;
    auto t = Clock::now();
    enc.encode(img.view(), Region(Rect{0, 0, 128, 128}), out, t);
    std::string last;
    for (int k = 0; k < 6; ++k) {
        img.fill(Rect{0, 0, 64, 64}, 0xFF000000 + uint32_t(k) * 40);
        t += std::chrono::milliseconds(40);
        last.clear();
        enc.encode(img.view(), Region(Rect{0, 0, 64, 64}), last, t);
    }
    const auto imgs = only(parse(last), "img");
    ASSERT_EQ(imgs.size(), 1u);
    EXPECT_EQ(imgs[0].args[3], "image/jpeg");
}

TEST(GuacDisplay, EncodersProduceTheirFormats) {
    Image img(64, 32);
    const Rect r{0, 0, 64, 32};
    const Bytes png = encode_png(img.view(), r);
    ASSERT_GT(png.size(), 8u);
    EXPECT_EQ(png[1], 'P');
    const Bytes jpg = encode_jpeg(img.view(), r, 80);
    EXPECT_EQ(jpg[0], 0xFF);
    EXPECT_EQ(jpg[1], 0xD8);
    const Bytes webp = encode_webp(img.view(), r, 80);
    EXPECT_EQ(std::string(webp.begin() + 8, webp.begin() + 12), "WEBP");
}

TEST(GuacCodecs, Base64RoundTrip) {
    const std::string text = "h\xc3\xa9llo, world!";
    const std::string b64 =
        base64_encode(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    EXPECT_EQ(b64, "aMOpbGxvLCB3b3JsZCE=");
    std::string back;
    ASSERT_TRUE(base64_decode(b64, back));
    EXPECT_EQ(back, text);
    EXPECT_FALSE(base64_decode("a*b", back));
}
