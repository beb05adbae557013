// The main() of every GoogleTest binary in tests/: GoogleTest's own, plus the project's skip rule.
// Under CI (the CI environment variable set to anything but "", "0" or "false"), a skipped test
// (GTEST_SKIP) fails the run: a skip that can happen on CI proves nothing there. Outside CI a
// skip still passes and prints its reason, as GoogleTest does by default.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

bool running_on_ci() {
    const char* ci = std::getenv("CI");
    if (ci == nullptr) {
        return false;
    }
    const std::string_view value{ci};
    return !value.empty() && value != "0" && value != "false";
}

// Collects the skipped tests with their reasons; main() turns them into a failed exit status.
class SkipRecorder final : public testing::EmptyTestEventListener {
  public:
    void OnTestEnd(const testing::TestInfo& info) override {
        const testing::TestResult* result = info.result();
        if (result == nullptr || !result->Skipped()) {
            return;
        }
        std::string reason;
        for (int i = 0; i < result->total_part_count(); ++i) {
            const testing::TestPartResult& part = result->GetTestPartResult(i);
            if (part.skipped() && part.message() != nullptr) {
                reason = part.message();
            }
        }
        skipped_.push_back(std::string(info.test_suite_name()) + "." + info.name() + ": " + reason);
    }

    const std::vector<std::string>& skipped() const { return skipped_; }

  private:
    std::vector<std::string> skipped_;
};

}  // namespace

int main(int argc, char** argv) {
    testing::InitGoogleTest(&argc, argv);
    SkipRecorder* recorder = nullptr;
    if (running_on_ci()) {
        recorder = new SkipRecorder;  // owned by GoogleTest's listener list
        testing::UnitTest::GetInstance()->listeners().Append(recorder);
    }
    int status = RUN_ALL_TESTS();
    if (recorder != nullptr && !recorder->skipped().empty()) {
        std::fprintf(stderr,
                     "\n%zu test(s) skipped; under CI a skip is a failure (docs/testing.md):\n",
                     recorder->skipped().size());
        for (const std::string& line : recorder->skipped()) {
            std::fprintf(stderr, "  SKIPPED ON CI  %s\n", line.c_str());
        }
        status = 1;
    }
    return status;
}
