#!/usr/bin/env bash
# NOT RUN HERE (needs macOS with Xcode, whose SDKs build whisper.cpp and SQLite for Apple).
#
# Builds copilot-core as a static library for iOS devices, the iOS simulator (arm64 and x86_64
# joined with lipo) and macOS (for `swift test`), generates the Swift bindings and the C header
# from it, and packs the libraries and headers into CopilotCoreFFI.xcframework.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
work="$target_dir/xcframework"
export IPHONEOS_DEPLOYMENT_TARGET=15.0 MACOSX_DEPLOYMENT_TARGET=13.0 GGML_NATIVE=OFF
cd "$root"

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin
  x86_64-apple-darwin)
rustup target add "${targets[@]}"
for target in "${targets[@]}"; do
  # Selected alone, so no other member's features (uniffi's "cli") reach the library.
  cargo build --release -p copilot-core --target "$target"
done
lib() { echo "$target_dir/$1/release/libcopilot_core.a"; }

rm -rf "$work" && mkdir -p "$work/headers" "$work/ios-sim" "$work/macos"
lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" \
  -output "$work/ios-sim/libcopilot_core.a"
lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" \
  -output "$work/macos/libcopilot_core.a"

# The bindings come from the device library; every slice carries the same exported surface.
generated="$here/Sources/CopilotCore/Generated"
rm -rf "$generated" && mkdir -p "$generated"
cargo run --release -q -p uniffi-bindgen -- generate --library "$(lib aarch64-apple-ios)" \
  --language swift --out-dir "$work/swift"
mv "$work/swift/CopilotCore.swift" "$generated/"
mv "$work/swift/CopilotCoreFFI.h" "$work/headers/"
# An XCFramework's headers expose their module through a file named module.modulemap.
mv "$work/swift/CopilotCoreFFI.modulemap" "$work/headers/module.modulemap"

rm -rf "$here/CopilotCoreFFI.xcframework"
xcodebuild -create-xcframework \
  -library "$(lib aarch64-apple-ios)" -headers "$work/headers" \
  -library "$work/ios-sim/libcopilot_core.a" -headers "$work/headers" \
  -library "$work/macos/libcopilot_core.a" -headers "$work/headers" \
  -output "$here/CopilotCoreFFI.xcframework"
echo "wrote $here/CopilotCoreFFI.xcframework and $generated/CopilotCore.swift"
