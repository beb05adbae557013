// Stand-in for libFuzzer's main when the compiler has none (gcc): runs the target over every
// file in the directories or files named on the command line, plus a few thousand mutations of
// each, so the target stays compiled and exercised in every build.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {
void run_with_mutations(std::vector<uint8_t> input, std::mt19937& rng) {
    LLVMFuzzerTestOneInput(input.data(), input.size());
    for (int k = 0; k < 2000; ++k) {
        std::vector<uint8_t> m = input;
        const int edits = 1 + int(rng() % 4);
        for (int e = 0; e < edits && !m.empty(); ++e) {
            const size_t at = rng() % m.size();
            switch (rng() % 3) {
                case 0:
                    m[at] = uint8_t(rng());
                    break;
                case 1:
                    m.erase(m.begin() + long(at));
                    break;
                default:
                    m.insert(m.begin() + long(at), uint8_t(rng()));
                    break;
            }
        }
        LLVMFuzzerTestOneInput(m.data(), m.size());
    }
}
}  // namespace

int main(int argc, char** argv) {
    std::mt19937 rng(12345);
    size_t files = 0;
    for (int i = 1; i < argc; ++i) {
        std::vector<std::filesystem::path> paths;
        if (std::filesystem::is_directory(argv[i])) {
            for (const auto& entry : std::filesystem::directory_iterator(argv[i]))
                paths.push_back(entry.path());
        } else {
            paths.emplace_back(argv[i]);
        }
        for (const auto& path : paths) {
            std::ifstream in(path, std::ios::binary);
            std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
            run_with_mutations(std::move(bytes), rng);
            ++files;
        }
    }
    std::printf("ran %zu inputs with mutations\n", files);
    return files > 0 ? 0 : 1;
}
