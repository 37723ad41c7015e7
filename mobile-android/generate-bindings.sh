#!/usr/bin/env bash
# Builds the host copilot-core library and generates its Kotlin bindings into OUT_DIR (default
# mobile-android/target/generated-sources/uniffi). Maven runs it in generate-sources, so the
# bindings always match the library the tests load; nothing generated is committed.
# The Gradle build of the Android library does the same for the Android ABIs (build.gradle.kts).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="${1:-$here/target/generated-sources/uniffi}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"

# Selected alone, so no other member's features (uniffi's "cli") reach the library.
cargo build --release -p copilot-core
library="$target_dir/release/libcopilot_core.so"
rm -rf "$out"
cargo run --release -q -p uniffi-bindgen -- generate --library "$library" \
  --language kotlin --no-format --out-dir "$out"
echo "generated Kotlin bindings from $library into $out"
