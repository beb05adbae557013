#include <gtest/gtest.h>
#include <png.h>
#include <turbojpeg.h>
#include <webp/decode.h>

#include <cstring>
#include <map>
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

// What a Guacamole client does with the instructions the encoder writes: layers (0 visible,
// negative ones off-screen buffers), `img` streams (PNG, JPEG and WebP decoded), `copy`, `rect` +
// `cfill`. The tests replay each frame onto it and compare its layer 0 with the desktop.
struct Canvas {
    struct Layer {
        int w = 0, h = 0;
        std::vector<uint32_t> px;  // 0x00RRGGBB
        uint32_t& at(int x, int y) { return px[size_t(y) * size_t(w) + size_t(x)]; }
    };
    struct Stream {
        int layer = 0, x = 0, y = 0;
        std::string mimetype, data;
    };
    std::map<int, Layer> layers;
    std::map<std::string, Stream> streams;
    Rect path;
    std::map<std::string, int> counts;  // mimetypes and opcodes seen

    Canvas(int w, int h) { resize(0, w, h); }
    void resize(int layer, int w, int h) {
        Layer next{w, h, std::vector<uint32_t>(size_t(w) * size_t(h), 0)};
        Layer& old = layers[layer];
        for (int y = 0; y < std::min(h, old.h); ++y)
            for (int x = 0; x < std::min(w, old.w); ++x)
                next.at(x, y) = old.at(x, y);
        old = std::move(next);
    }
    static int num(const std::string& s) { return std::stoi(s); }
    void draw(Stream& s) {
        std::string bytes;
        ASSERT_TRUE(base64_decode(s.data, bytes));
        std::vector<uint32_t> px;
        int w = 0, h = 0;
        if (s.mimetype == "image/png") {
            png_image image{};
            image.version = PNG_IMAGE_VERSION;
            ASSERT_TRUE(png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()));
            image.format = PNG_FORMAT_BGRA;
            w = int(image.width), h = int(image.height);
            px.resize(size_t(w) * size_t(h));
            ASSERT_TRUE(png_image_finish_read(&image, nullptr, px.data(), 0, nullptr));
        } else if (s.mimetype == "image/jpeg") {
            tjhandle tj = tjInitDecompress();
            int sub = 0, cs = 0;
            ASSERT_EQ(tjDecompressHeader3(tj, reinterpret_cast<const uint8_t*>(bytes.data()),
                                          bytes.size(), &w, &h, &sub, &cs),
                      0);
            px.resize(size_t(w) * size_t(h));
            ASSERT_EQ(
                tjDecompress2(tj, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                              reinterpret_cast<uint8_t*>(px.data()), w, 0, h, TJPF_BGRX, 0),
                0);
            tjDestroy(tj);
        } else if (s.mimetype == "image/webp") {
            const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
            ASSERT_TRUE(WebPGetInfo(data, bytes.size(), &w, &h));
            px.resize(size_t(w) * size_t(h));
            ASSERT_TRUE(WebPDecodeBGRAInto(
                data, bytes.size(), reinterpret_cast<uint8_t*>(px.data()), px.size() * 4, w * 4));
        } else {
            FAIL() << "unexpected mimetype " << s.mimetype;
        }
        Layer& l = layers[s.layer];
        ASSERT_LE(s.x + w, l.w);
        ASSERT_LE(s.y + h, l.h);
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                l.at(s.x + x, s.y + y) = px[size_t(y) * size_t(w) + size_t(x)] & 0xFFFFFF;
    }
    void apply(const std::vector<Instruction>& all) {
        for (const Instruction& in : all) {
            const auto& a = in.args;
            ++counts[in.opcode];
            if (in.opcode == "size") {
                resize(num(a[0]), num(a[1]), num(a[2]));
            } else if (in.opcode == "img") {
                streams[a[0]] = Stream{num(a[2]), num(a[4]), num(a[5]), a[3], ""};
                ++counts[a[3]];
            } else if (in.opcode == "blob") {
                streams.at(a[0]).data += a[1];
            } else if (in.opcode == "end") {
                draw(streams.at(a[0]));
                streams.erase(a[0]);
            } else if (in.opcode == "copy") {
                Layer& src = layers.at(num(a[0]));
                const int sx = num(a[1]), sy = num(a[2]), w = num(a[3]), h = num(a[4]);
                const int dx = num(a[7]), dy = num(a[8]);
                std::vector<uint32_t> band;
                for (int y = 0; y < h; ++y)
                    for (int x = 0; x < w; ++x)
                        band.push_back(src.at(sx + x, sy + y));
                Layer& dst = layers.at(num(a[6]));
                ASSERT_LE(dx + w, dst.w);
                ASSERT_LE(dy + h, dst.h);
                for (int y = 0; y < h; ++y)
                    for (int x = 0; x < w; ++x)
                        dst.at(dx + x, dy + y) = band[size_t(y) * size_t(w) + size_t(x)];
            } else if (in.opcode == "rect") {
                path = Rect{num(a[1]), num(a[2]), num(a[3]), num(a[4])};
            } else if (in.opcode == "cfill") {
                Layer& l = layers.at(num(a[1]));
                const uint32_t c =
                    uint32_t(num(a[2])) << 16 | uint32_t(num(a[3])) << 8 | uint32_t(num(a[4]));
                for (int y = path.y; y < path.y + path.height; ++y)
                    for (int x = path.x; x < path.x + path.width; ++x)
                        l.at(x, y) = c;
            }
        }
    }
    // Pixels of layer 0 that differ from `img` (ignoring the X byte).
    size_t differences(const Image& img) {
        Layer& l = layers.at(0);
        size_t n = 0;
        for (int y = 0; y < img.h; ++y)
            for (int x = 0; x < img.w; ++x) {
                uint32_t p;
                std::memcpy(&p, &img.px[(size_t(y) * size_t(img.w) + size_t(x)) * 4], 4);
                n += (p & 0xFFFFFF) != l.at(x, y);
            }
        return n;
    }
};

// A filled disc, as XFillArc draws one.
void disc(Image& img, int cx, int cy, int r, uint32_t colour) {
    for (int y = cy - r; y < cy + r; ++y)
        for (int x = cx - r; x < cx + r; ++x)
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r)
                img.fill(Rect{x, y, 1, 1}, colour);
}

void noise(Image& img, const Rect& r, std::mt19937& rng) {
    for (int y = r.y; y < r.y + r.height; ++y)
        for (int x = r.x; x < r.x + r.width; ++x)
            img.fill(Rect{x, y, 1, 1}, 0xFF000000 | (rng() & 0xFFFFFF));
}

// Width and height of a PNG (from its IHDR) or WebP image.
std::pair<int, int> image_size(const Instruction& blob) {
    std::string bytes;
    EXPECT_TRUE(base64_decode(blob.args[1], bytes));
    if (bytes.compare(8, 4, "WEBP") == 0) {
        int w = 0, h = 0;
        EXPECT_TRUE(
            WebPGetInfo(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &w, &h));
        return {w, h};
    }
    auto be32 = [&](size_t at) {
        return int(uint8_t(bytes[at])) << 24 | int(uint8_t(bytes[at + 1])) << 16 |
               int(uint8_t(bytes[at + 2])) << 8 | int(uint8_t(bytes[at + 3]));
    };
    return {be32(16), be32(20)};
}

}  // namespace

TEST(GuacDisplay, FirstFrameCoversEverythingThenOnlyChanges) {
    Image img(200, 130);
    img.fill(Rect{10, 10, 50, 20}, 0xFF112233);
    DisplayEncoder enc(ImageFormats{});
    std::string out;
    enc.encode(img.view(), Region(Rect{0, 0, 200, 130}), out);
    auto imgs = only(parse(out), "img");
    ASSERT_EQ(imgs.size(), 1u);  // the changed cells merge into one rectangle
    EXPECT_EQ(imgs[0].args[3], "image/png");

    // Damage without a pixel change sends nothing.
    out.clear();
    enc.encode(img.view(), Region(Rect{0, 0, 200, 130}), out);
    EXPECT_TRUE(out.empty());
}

TEST(GuacDisplay, OnlyTheExactChangedRectangleIsSent) {
    Image img(256, 192);
    DisplayEncoder enc(ImageFormats{true, true, true});
    std::string out;
    enc.encode(img.view(), Region(Rect{0, 0, 256, 192}), out);
    // Two colours inside one cell, damage reported for much more: the image is 7x3 at 70,71.
    img.fill(Rect{70, 71, 7, 3}, 0xFFFF0000);
    img.fill(Rect{72, 72, 2, 1}, 0xFF00FF00);
    out.clear();
    const EncodeStats stats = enc.encode(img.view(), Region(Rect{0, 0, 256, 192}), out);
    EXPECT_EQ(stats.cells_changed, 1u);
    const auto all = parse(out);
    const auto imgs = only(all, "img");
    ASSERT_EQ(imgs.size(), 1u);
    EXPECT_EQ(imgs[0].args[4], "70");
    EXPECT_EQ(imgs[0].args[5], "71");
    EXPECT_EQ(image_size(only(all, "blob")[0]), std::make_pair(7, 3));
}

TEST(GuacDisplay, OneColourIsAFillNotAnImage) {
    Image img(256, 192);
    DisplayEncoder enc(ImageFormats{true, true, true});
    std::string out;
    enc.encode(img.view(), Region(Rect{0, 0, 256, 192}), out);
    img.fill(Rect{50, 40, 100, 70}, 0xFF123456);  // across four cells
    out.clear();
    const EncodeStats stats = enc.encode(img.view(), Region(Rect{0, 0, 256, 192}), out);
    const auto all = parse(out);
    EXPECT_TRUE(only(all, "img").empty());
    ASSERT_EQ(only(all, "rect").size(), 1u);
    EXPECT_EQ(only(all, "rect")[0].args, (std::vector<std::string>{"0", "50", "40", "100", "70"}));
    const auto fill = only(all, "cfill");
    ASSERT_EQ(fill.size(), 1u);
    EXPECT_EQ(fill[0].args[2], "18");  // 0x12
    EXPECT_EQ(fill[0].args[3], "52");  // 0x34
    EXPECT_EQ(fill[0].args[4], "86");  // 0x56
    EXPECT_EQ(stats.fills, 1u);
}

TEST(GuacDisplay, ChangesAcrossACellBorderMergeIntoOneRectangle) {
    Image img(256, 192);
    DisplayEncoder enc(ImageFormats{});
    std::string out;
    enc.encode(img.view(), Region(Rect{0, 0, 256, 192}), out);
    disc(img, 64, 64, 20, 0xFFFFCC33);  // a quarter in each of four cells
    out.clear();
    const EncodeStats stats = enc.encode(img.view(), Region(Rect{0, 0, 256, 192}), out);
    EXPECT_EQ(stats.cells_changed, 4u);
    const auto all = parse(out);
    ASSERT_EQ(only(all, "img").size(), 1u);
    EXPECT_EQ(image_size(only(all, "blob")[0]), std::make_pair(39, 39));
    // ...but changes far apart stay apart.
    img.fill(Rect{5, 5, 3, 3}, 0xFF000000);
    img.fill(Rect{200, 150, 3, 3}, 0xFF000000);
    out.clear();
    enc.encode(img.view(), Region(Rect{0, 0, 256, 192}), out);
    EXPECT_EQ(only(parse(out), "rect").size(), 2u);
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
    // Only the new rows are sent, as one image.
    const auto imgs = only(all, "img");
    ASSERT_EQ(imgs.size(), 1u);
    EXPECT_EQ(imgs[0].args[5], "383");
    EXPECT_EQ(image_size(only(all, "blob")[0]), std::make_pair(320, 17));
}

TEST(GuacDisplay, AScrollAlsoCopiesLinesThatChangedALittle) {
    // A terminal: 13-pixel lines of text-like noise, the cursor a block after the last line.
    Image img(320, 260);
    std::mt19937 rng(5);
    img.fill(Rect{0, 0, 320, 260}, 0xFFFFFFFF);
    auto line = [&](int row) { noise(img, Rect{2, row * 13 + 2, 200, 9}, rng); };
    for (int row = 0; row < 19; ++row)
        line(row);
    img.fill(Rect{202, 18 * 13, 6, 13}, 0xFF000000);  // the cursor, on the last line
    DisplayEncoder enc(ImageFormats{});
    Canvas canvas(320, 260);
    std::string out;
    enc.encode(img.view(), Region(Rect{0, 0, 320, 260}), out);
    canvas.apply(parse(out));
    // Scroll by a line: the cursor leaves the line that moved and starts the new empty one.
    std::memmove(img.px.data(), img.px.data() + size_t(13) * 320 * 4, size_t(260 - 13) * 320 * 4);
    img.fill(Rect{0, 260 - 13, 320, 13}, 0xFFFFFFFF);
    img.fill(Rect{202, 17 * 13, 6, 13}, 0xFFFFFFFF);
    img.fill(Rect{2, 18 * 13, 6, 13}, 0xFF000000);
    out.clear();
    enc.encode(img.view(), Region(Rect{0, 0, 320, 260}), out);
    const auto all = parse(out);
    const auto copies = only(all, "copy");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].args[8], "0");  // every line moved, the one with the cursor too
    EXPECT_GE(std::stoi(copies[0].args[4]), 18 * 13);
    // What is left is the two cursor cells, as fills; no line of text is sent again.
    EXPECT_TRUE(only(all, "img").empty());
    EXPECT_EQ(only(all, "cfill").size(), 2u);
    canvas.apply(all);
    EXPECT_EQ(canvas.differences(img), 0u);
}

// A terminal in black on white: 13-pixel lines, each "glyph" a 6x9 two-colour pattern picked
// by `text`'s characters, as a bitmap font draws them; with an encoder and a simulated viewer
// that has been sent the first frame.
struct Terminal {
    Image img{320, 260};
    DisplayEncoder enc;
    Canvas canvas{320, 260};
    std::vector<Instruction> sent;  // the last frame's instructions

    explicit Terminal(ImageFormats formats = ImageFormats{true, true, true}) : enc(formats) {
        img.fill(Rect{0, 0, 320, 260}, 0xFFFFFFFF);
    }
    void print(int row, const std::string& text) {
        img.fill(Rect{0, row * 13, 320, 13}, 0xFFFFFFFF);
        for (size_t i = 0; i < text.size(); ++i) {
            std::mt19937 glyph{uint32_t(uint8_t(text[i]))};
            for (int y = 0; y < 9; ++y)
                for (int x = 0; x < 5; ++x)
                    if (glyph() & 1)
                        img.fill(Rect{2 + int(i) * 6 + x, row * 13 + 2 + y, 1, 1}, 0xFF000000);
        }
    }
    void scroll_one_line() {
        std::memmove(img.px.data(), img.px.data() + size_t(13) * 320 * 4,
                     size_t(260 - 13) * 320 * 4);
        img.fill(Rect{0, 260 - 13, 320, 13}, 0xFFFFFFFF);
    }
    // Encodes the whole screen as damaged and replays it onto the viewer (`sent` keeps it).
    EncodeStats frame() {
        std::string out;
        const EncodeStats stats = enc.encode(img.view(), Region(Rect{0, 0, 320, 260}), out);
        sent = parse(out);
        canvas.apply(sent);
        return stats;
    }
    size_t differences() { return canvas.differences(img); }
};

TEST(GuacDisplay, SmallExactImagesAreLosslessWebpWhenTheClientTakesIt) {
    for (const bool webp : {false, true}) {
        Terminal term(ImageFormats{true, true, webp});
        term.frame();
        term.print(3, "ab");
        const EncodeStats stats = term.frame();
        ASSERT_EQ(only(term.sent, "img").size(), 1u) << webp;
        EXPECT_EQ(only(term.sent, "img")[0].args[3], webp ? "image/webp" : "image/png");
        EXPECT_EQ(stats.webp_lossless, webp ? 1u : 0u);
        EXPECT_EQ(stats.png, webp ? 0u : 1u);
        EXPECT_EQ(term.differences(), 0u) << webp;
    }
}

TEST(GuacDisplay, ANewLineLikeTheOneAboveIsCopiedDownAndCorrected) {
    // A full terminal printing numbered lines: each scroll leaves an empty last line, and the
    // next frame draws the new line there (as xterm's output reaches the screen through
    // Xwayland, text and scroll in separate frames).
    Terminal term;
    auto text = [](int n) {
        return "line " + std::to_string(n % 10) + ": the quick brown fox 123" +
               std::to_string(n % 10);
    };
    for (int row = 0; row < 20; ++row)
        term.print(row, text(row));
    term.frame();
    size_t patches = 0, hits = 0;
    for (int n = 20; n < 32; ++n) {
        term.scroll_one_line();
        term.frame();
        ASSERT_EQ(term.differences(), 0u) << "scroll " << n;

        term.print(19, text(n));
        const EncodeStats stats = term.frame();
        // The line above, copied down one line...
        const auto copies = only(term.sent, "copy");
        ASSERT_FALSE(copies.empty()) << "line " << n;
        EXPECT_EQ(copies[0].args[0], "0");
        EXPECT_EQ(copies[0].args[2], std::to_string(18 * 13 + 2));
        EXPECT_EQ(copies[0].args[8], std::to_string(19 * 13 + 2));
        // ...then only the two changed glyphs, each from a buffer once it has been seen twice.
        for (const auto& blob : only(term.sent, "blob"))
            EXPECT_LE(image_size(blob).first, 6) << "line " << n;
        patches += stats.patches;
        hits += stats.cache_hits;
        ASSERT_EQ(term.differences(), 0u) << "line " << n;
    }
    EXPECT_EQ(patches, 12u);
    EXPECT_GE(hits, 4u);
}

TEST(GuacDisplay, ALineUnlikeTheOneAboveIsSentWhole) {
    Terminal term;
    term.print(0, "the quick brown fox jumps over");
    term.frame();
    term.print(1, "PACK MY BOX WITH FIVE DOZEN LIQ");
    const EncodeStats stats = term.frame();
    EXPECT_EQ(stats.patches, 0u);
    EXPECT_TRUE(only(term.sent, "copy").empty());
    EXPECT_EQ(only(term.sent, "img").size(), 1u);
    EXPECT_EQ(term.differences(), 0u);
}

TEST(GuacDisplay, SidewaysPansAreCopiedToo) {
    Image img(400, 200);
    std::mt19937 rng(6);
    for (int x = 0; x < img.w; ++x)
        img.fill(Rect{x, 0, 1, 200}, 0xFF000000 | (rng() & 0xFFFFFF));
    DisplayEncoder enc(ImageFormats{});
    Canvas canvas(400, 200);
    std::string out;
    enc.encode(img.view(), Region(Rect{0, 0, 400, 200}), out);
    canvas.apply(parse(out));
    // Pan left by 24 columns; new columns on the right.
    for (int y = 0; y < img.h; ++y)
        std::memmove(&img.px[size_t(y) * 400 * 4], &img.px[(size_t(y) * 400 + 24) * 4],
                     size_t(400 - 24) * 4);
    for (int x = 400 - 24; x < 400; ++x)
        img.fill(Rect{x, 0, 1, 200}, 0xFF000000 | (rng() & 0xFFFFFF));
    out.clear();
    enc.encode(img.view(), Region(Rect{0, 0, 400, 200}), out);
    const auto all = parse(out);
    const auto copies = only(all, "copy");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].args[1], "24");  // source x
    EXPECT_EQ(copies[0].args[7], "0");   // destination x
    const auto imgs = only(all, "img");
    ASSERT_EQ(imgs.size(), 1u);
    EXPECT_EQ(image_size(only(all, "blob")[0]), std::make_pair(24, 200));
    canvas.apply(all);
    EXPECT_EQ(canvas.differences(img), 0u);
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
    // Flat colours and text stay lossless however often they change.
    EXPECT_EQ(jpeg.choose_codec(text.view(), Rect{0, 0, 256, 256}, true), Codec::png);
    // Photographic content is lossy only while it changes often, and not when small.
    EXPECT_EQ(jpeg.choose_codec(photo.view(), Rect{0, 0, 256, 256}, true), Codec::jpeg);
    EXPECT_EQ(jpeg.choose_codec(photo.view(), Rect{0, 0, 256, 256}, false), Codec::png);
    EXPECT_EQ(jpeg.choose_codec(photo.view(), Rect{0, 0, 16, 16}, true), Codec::png);

    const DisplayEncoder webp(ImageFormats{true, false, true});
    EXPECT_EQ(webp.choose_codec(photo.view(), Rect{0, 0, 256, 256}, true), Codec::webp);
}

TEST(GuacDisplay, FlatContentThatChangesOftenStaysPng) {
    // The ball: a flat disc moving on a flat background, every 33 ms.
    Image img(320, 240);
    DisplayEncoder enc(ImageFormats{true, true, true});
    std::string out;
    auto t = Clock::now();
    enc.encode(img.view(), Region(Rect{0, 0, 320, 240}), out, t);
    Canvas canvas(320, 240);
    canvas.apply(parse(out));
    size_t hits = 0, images = 0;
    for (int k = 0; k < 40; ++k) {
        img.fill(Rect{0, 0, 320, 240}, 0xFF202020);
        disc(img, 30 + 5 * k, 30 + 3 * k, 20, 0xFFFFCC33);
        t += std::chrono::milliseconds(33);
        out.clear();
        const EncodeStats stats = enc.encode(img.view(), Region(Rect{0, 0, 320, 240}), out, t);
        EXPECT_EQ(stats.jpeg + stats.webp, 0u) << "frame " << k;
        hits += stats.cache_hits;
        images += stats.rects;
        canvas.apply(parse(out));
        ASSERT_EQ(canvas.differences(img), 0u) << "frame " << k;
    }
    // The same picture moving: after it was seen twice it comes from an off-screen buffer.
    EXPECT_GE(hits, 35u);
    EXPECT_LE(images, 4u);
    EXPECT_TRUE(enc.lossy().empty());
    EXPECT_FALSE(enc.refine_due());
}

TEST(GuacDisplay, PhotosThatChangeOftenTurnLossyAndAreRefinedWhenTheySettle) {
    Image img(256, 256);
    DisplayEncoder enc(ImageFormats{true, true, false});
    std::string out;
    auto t = Clock::now();
    enc.encode(img.view(), Region(Rect{0, 0, 256, 256}), out, t);
    Canvas canvas(256, 256);
    canvas.apply(parse(out));
    std::mt19937 rng(3);
    const Rect video{32, 32, 128, 96};
    EncodeStats last;
    for (int k = 0; k < 8; ++k) {
        noise(img, video, rng);
        t += std::chrono::milliseconds(40);
        out.clear();
        last = enc.encode(img.view(), Region(video), out, t);
        canvas.apply(parse(out));
    }
    EXPECT_EQ(last.jpeg, 1u);
    EXPECT_EQ(last.png, 0u);
    EXPECT_GT(canvas.differences(img), 0u);  // lossy
    ASSERT_TRUE(enc.refine_due());
    EXPECT_EQ(*enc.refine_due(), t + DisplayEncoder::kSettle);
    EXPECT_FALSE(enc.lossy().empty());

    // Before the area settled nothing is refined; once it has, it is sent as PNG, exactly.
    out.clear();
    enc.encode(img.view(), Region(), out, t + DisplayEncoder::kSettle / 2);
    EXPECT_TRUE(out.empty());
    out.clear();
    const EncodeStats refined = enc.encode(img.view(), Region(video), out, *enc.refine_due());
    EXPECT_GE(refined.refined, 1u);
    EXPECT_EQ(refined.jpeg, 0u);
    canvas.apply(parse(out));
    EXPECT_EQ(canvas.differences(img), 0u);
    EXPECT_TRUE(enc.lossy().empty());
    EXPECT_FALSE(enc.refine_due());
}

TEST(GuacDisplay, ReplayedInstructionsReproduceTheDesktop) {
    // A mixed session: a terminal that scrolls, a moving sprite, random edits and fills, a
    // photo; the client's picture must equal the desktop after every lossless frame.
    Image img(384, 320);
    std::mt19937 rng(4);
    for (int y = 0; y < 200; y += 10)
        noise(img, Rect{8, y, int(rng() % 300) + 8, 6}, rng);
    DisplayEncoder enc(ImageFormats{true, false, false});
    Canvas canvas(384, 320);
    auto t = Clock::now();
    std::string out;
    enc.encode(img.view(), Region(Rect{0, 0, 384, 320}), out, t);
    canvas.apply(parse(out));
    ASSERT_EQ(canvas.differences(img), 0u);
    for (int k = 0; k < 60; ++k) {
        Region damage;
        switch (rng() % 4) {
            case 0: {  // scroll the top 200 rows up by one 10-row line
                std::memmove(img.px.data(), img.px.data() + size_t(10) * 384 * 4,
                             size_t(190) * 384 * 4);
                img.fill(Rect{0, 190, 384, 10}, 0xFF202020);
                noise(img, Rect{8, 192, int(rng() % 300) + 8, 6}, rng);
                damage.add(Rect{0, 0, 384, 200});
                break;
            }
            case 1: {  // the sprite moves
                img.fill(Rect{0, 200, 384, 120}, 0xFF202020);
                disc(img, 40 + (k * 7) % 300, 260, 18, 0xFFFFCC33);
                damage.add(Rect{0, 200, 384, 120});
                break;
            }
            case 2: {  // a few pixels anywhere
                for (int n = 0; n < 5; ++n) {
                    const Rect r{int(rng() % 380), int(rng() % 316), 4, 4};
                    img.fill(r, 0xFF000000 | (rng() & 0xFFFFFF));
                    damage.add(r);
                }
                break;
            }
            default: {  // a flat box
                const Rect r{int(rng() % 300), int(rng() % 250), 80, 60};
                img.fill(r, 0xFF000000 | (rng() & 0xFFFFFF));
                damage.add(r);
            }
        }
        t += std::chrono::milliseconds(20);
        out.clear();
        enc.encode(img.view(), damage, out, t);
        canvas.apply(parse(out));
        ASSERT_EQ(canvas.differences(img), 0u) << "frame " << k;
    }
    EXPECT_GT(canvas.counts["copy"], 0);
    EXPECT_GT(canvas.counts["cfill"], 0);
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
