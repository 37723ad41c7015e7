//! `uniffi-bindgen`: the code generator for the Kotlin and Swift bindings of `copilot-core`.
//!
//! Run it on a built library, which carries the exported surface as metadata:
//! `cargo run -p uniffi-bindgen -- generate --library target/release/libcopilot_core.so
//! --language kotlin --out-dir OUT`. The mobile builds (`mobile-android/`, `mobile-ios/`) call
//! it on every build, so the generated code always matches the library it is packaged with.

fn main() {
    uniffi::uniffi_bindgen_main();
}
