#include <gtest/gtest.h>

#include "rdp-bridge/guac/parser.hpp"

using namespace deskpod::guac;

namespace {

std::vector<Instruction> parse_all(Parser& p, Parser::Status* last = nullptr) {
    std::vector<Instruction> out;
    Instruction in;
    Parser::Status s;
    while ((s = p.next(in)) == Parser::Status::instruction)
        out.push_back(in);
    if (last)
        *last = s;
    return out;
}

}  // namespace

TEST(GuacParser, ParsesSimpleInstructions) {
    Parser p;
    p.append("4.size,4.1024,3.768;5.mouse,2.10,2.20,1.1;");
    const auto all = parse_all(p);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].opcode, "size");
    EXPECT_EQ(all[0].args, (std::vector<std::string>{"1024", "768"}));
    EXPECT_EQ(all[1].opcode, "mouse");
    EXPECT_EQ(all[1].args.size(), 3u);
}

TEST(GuacParser, LengthsCountCodePointsNotBytes) {
    Parser p;
    // "héllo" is 5 code points, 6 bytes; "😀" is one code point, 4 bytes.
    p.append("9.clipboard,5.h\xc3\xa9llo,1.\xf0\x9f\x98\x80;");
    const auto all = parse_all(p);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].args[0], "h\xc3\xa9llo");
    EXPECT_EQ(all[0].args[1], "\xf0\x9f\x98\x80");
}

TEST(GuacParser, EmptyElementsAndNoArgs) {
    Parser p;
    p.append("0.,4.ping,3.123;3.nop;");
    const auto all = parse_all(p);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].opcode, "");
    EXPECT_EQ(all[0].args, (std::vector<std::string>{"ping", "123"}));
    EXPECT_EQ(all[1].opcode, "nop");
    EXPECT_TRUE(all[1].args.empty());
}

TEST(GuacParser, ByteByByteAcrossSplitCodePoints) {
    const std::string wire =
        "3.key,5.\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
        "12,1.1;4.sync,1.7;";
    Parser p;
    std::vector<Instruction> all;
    for (char c : wire) {
        p.append(std::string_view(&c, 1));
        for (auto& in : parse_all(p))
            all.push_back(in);
    }
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].args[0],
              "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
              "12");
    EXPECT_EQ(all[1].opcode, "sync");
    EXPECT_EQ(p.buffered(), 0u);
}

TEST(GuacParser, MalformedInputIsAnError) {
    for (const char* bad : {"x.nop;", "3.nop:", "3nop;", "3.no\xffp;", "2.\xc3(;"}) {
        Parser p;
        p.append(bad);
        Parser::Status s;
        parse_all(p, &s);
        EXPECT_EQ(s, Parser::Status::error) << bad;
        EXPECT_FALSE(p.error_message().empty());
        // Stays failed.
        p.append("3.nop;");
        Instruction in;
        EXPECT_EQ(p.next(in), Parser::Status::error);
    }
}

TEST(GuacParser, EnforcesLimits) {
    {
        Parser p(ParserLimits{4, 100, 1000});
        p.append("1.a,1.b,1.c,1.d,1.e;");
        Parser::Status s;
        parse_all(p, &s);
        EXPECT_EQ(s, Parser::Status::error);  // 5 elements > 4
    }
    {
        Parser p(ParserLimits{128, 10, 1000});
        p.append("11.");
        Instruction in;
        EXPECT_EQ(p.next(in), Parser::Status::error);  // announced too long, fails early
    }
    {
        Parser p(ParserLimits{128, 100, 32});
        p.append("3.abc");
        for (int k = 0; k < 20; ++k)
            p.append(",3.abc");
        Instruction in;
        EXPECT_EQ(p.next(in), Parser::Status::error);  // never-ending instruction
    }
    {
        Parser p;
        p.append("123456.");
        Instruction in;
        EXPECT_EQ(p.next(in), Parser::Status::error);  // six length digits
    }
}

TEST(GuacWriter, EncodesLengthsInCodePoints) {
    EXPECT_EQ(instruction("sync", 1234), "4.sync,4.1234;");
    EXPECT_EQ(instruction("clipboard", "h\xc3\xa9"), "9.clipboard,2.h\xc3\xa9;");
    EXPECT_EQ(instruction("nop"), "3.nop;");
    EXPECT_EQ(instruction("", "ping", std::string("")), "0.,4.ping,0.;");
    EXPECT_EQ(codepoint_count("\xf0\x9f\x98\x80"
                              "a"),
              2u);
}

TEST(GuacWriter, RoundTripsThroughTheParser) {
    const std::string wire = instruction("error", "Zu viele Benutzer \xe2\x9c\x8b", 797);
    Parser p;
    p.append(wire);
    Instruction in;
    ASSERT_EQ(p.next(in), Parser::Status::instruction);
    EXPECT_EQ(in.opcode, "error");
    EXPECT_EQ(in.args[0], "Zu viele Benutzer \xe2\x9c\x8b");
    EXPECT_EQ(in.args[1], "797");
}
