#!/usr/bin/env bash
# ctest entry: builds the libFuzzer target with clang (a separate build dir
# below the test build) and runs it briefly. Skips (77) without clang++.
# The target links no network code: clang 14 cannot compile Asio coroutine
# units under -fsanitize=fuzzer ("Cannot represent a difference across sections").
set -euo pipefail
src=$1 bin=$2 seconds=${3:-20}
command -v clang++ >/dev/null || { echo "clang++ not installed: fuzzing skipped"; exit 77; }
cmake -S "$src" -B "$bin/fuzz-build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS=-Wno-unknown-warning-option -fsanitize=fuzzer-no-link,address,undefined" >/dev/null
if ! cmake --build "$bin/fuzz-build" --target api_fuzz -j2 >"$bin/fuzz-build.log" 2>&1; then
  tail -40 "$bin/fuzz-build.log"; echo "fuzz: the clang build failed"; exit 1
fi
mkdir -p "$bin/fuzz-corpus"
"$bin/fuzz-build/tests/fuzz/api_fuzz" -max_total_time="$seconds" -max_len=4096 "$bin/fuzz-corpus" 2>&1 | tail -5
echo "fuzz: api handler ran ${seconds}s without a finding"
