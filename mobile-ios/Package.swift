// swift-tools-version:5.9
// NOT BUILT HERE: the project's machines have no Swift toolchain or Apple SDK. Written for
// integrators and reviewed against the Kotlin layer's tests; see README.md.
//
// Build the binary target first: `./build-xcframework.sh` (on a Mac with Xcode and Rust) writes
// CopilotCoreFFI.xcframework and the generated Swift into Sources/CopilotCore/Generated/.
import PackageDescription

let package = Package(
    name: "CopilotCore",
    platforms: [.iOS(.v15), .macOS(.v13)],
    products: [
        .library(name: "CopilotCore", targets: ["CopilotCore"]),
    ],
    targets: [
        // The core as a static library per platform, with its C header and module map
        // (module CopilotCoreFFI).
        .binaryTarget(name: "CopilotCoreFFI", path: "CopilotCoreFFI.xcframework"),
        // The generated Swift bindings (Generated/CopilotCore.swift) and the small async layer.
        .target(
            name: "CopilotCore",
            dependencies: ["CopilotCoreFFI"],
            path: "Sources/CopilotCore",
            linkerSettings: [
                // whisper.cpp uses Accelerate for its matrix products, and is C++.
                .linkedFramework("Accelerate"),
                .linkedLibrary("c++"),
            ]
        ),
        // Runs on the macOS slice with the checkout's models/ and fixtures/.
        .testTarget(name: "CopilotCoreTests", dependencies: ["CopilotCore"]),
    ]
)
