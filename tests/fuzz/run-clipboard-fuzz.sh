#!/usr/bin/env bash
# Builds the clipboard format fuzz targets with clang's libFuzzer (-fsanitize=fuzzer,address,
# undefined) and runs each for a while (FUZZ_SECONDS, default 20) on its seed corpus. Needs
# clang and libclang-rt-14-dev (scripts/bootstrap). scripts/test runs it; by hand, give it more
# time: FUZZ_SECONDS=600 tests/fuzz/run-clipboard-fuzz.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${FUZZ_SECONDS:-20}"
out="${FUZZ_OUT:-$root/build-fuzz-clipboard}"
cxx="${CLANGXX:-clang++}"
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "run-clipboard-fuzz: $cxx not found (scripts/bootstrap installs clang)" >&2
  exit 1
fi
mkdir -p "$out"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$root" $(pkg-config --cflags libpng))
for target in cf_html dib; do
  "$cxx" "${flags[@]}" "$here/${target}_fuzz.cpp" "$root/rdp-bridge/clipboard/formats.cpp" \
    "$root/rdp-bridge/image/png_encoder.cpp" \
    $(pkg-config --libs libpng) -o "$out/${target}_fuzz"
  work="$out/corpus-$target"
  mkdir -p "$work"
  echo "run-clipboard-fuzz: $target for ${seconds}s"
  "$out/${target}_fuzz" -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
    "$work" "$here/corpus/$target" 2>"$out/$target.log" || {
    tail -50 "$out/$target.log" >&2
    echo "run-clipboard-fuzz: $target found a crash (reproducer in $out)" >&2
    exit 1
  }
  grep -E '^stat::number_of_executed_units' "$out/$target.log" || true
done
