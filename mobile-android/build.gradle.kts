// NOT BUILT HERE: the Android library (AAR) of copilot-core. The project's machines cannot reach
// Google's Maven repository, so this file is written for integrators and reviewed, never run;
// the same Kotlin sources are built and tested here by Maven (pom.xml) on the host JVM.
//
// What it needs on the build machine: the Android SDK and NDK (r27 or newer), Rust with the
// Android targets (`rustup target add aarch64-linux-android armv7-linux-androideabi
// x86_64-linux-android`), `cargo install cargo-ndk`, cmake, and the host build of the core for
// uniffi-bindgen (any host library carries the same exported surface).

import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.4.21"
}

val repoRoot: File = rootDir.parentFile
val rustJniLibs = layout.buildDirectory.dir("rustJniLibs")
val generatedKotlin = layout.buildDirectory.dir("generated/uniffi")

// The ABIs shipped: 64-bit ARM (phones), 32-bit ARM (older phones), x86_64 (emulators).
val abis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")

android {
    namespace = "salescopilot.core"
    compileSdk = 35
    // r27 or newer; the 16 KB page alignment of the core's .so is set in the cargo linker flags
    // (../.cargo/config.toml: -Wl,-z,max-page-size=16384), which cargo-ndk uses.
    ndkVersion = "27.2.12479018"

    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
        ndk { abiFilters += abis }
    }

    sourceSets["main"].apply {
        java.srcDirs("src/main/kotlin", generatedKotlin)
        jniLibs.srcDirs(rustJniLibs)
    }
    // src/test/kotlin holds the host-JVM tests that Maven runs against the host library; run
    // them with `mvn test` (they need libcopilot_core.so for the host, not an Android ABI).
    sourceSets["test"].java.srcDirs("src/test/kotlin")

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    packaging {
        // Stored uncompressed and page-aligned in the APK, so the loader maps them directly.
        jniLibs.useLegacyPackaging = false
    }
}

kotlin {
    compilerOptions { jvmTarget.set(JvmTarget.JVM_17) }
}

dependencies {
    // The AAR form carries libjnidispatch.so for every Android ABI.
    implementation("net.java.dev.jna:jna:5.19.1@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.11.0")
    testImplementation("net.java.dev.jna:jna:5.19.1")
    testImplementation("org.junit.jupiter:junit-jupiter:5.14.4")
}

// The core for each ABI. whisper.cpp is C++ and whisper-rs links the shared C++ runtime on
// Android, so the NDK's libc++_shared.so is copied beside it.
val ndkTriples = mapOf(
    "arm64-v8a" to "aarch64-linux-android",
    "armeabi-v7a" to "arm-linux-androideabi",
    "x86_64" to "x86_64-linux-android",
)

val cargoNdk by tasks.registering(Exec::class) {
    workingDir = repoRoot
    val out = rustJniLibs.get().asFile
    val args = mutableListOf("cargo", "ndk", "--platform", "24", "-o", out.path)
    abis.forEach { args += listOf("-t", it) }
    commandLine(args + listOf("build", "--release", "-p", "copilot-core"))
    environment("GGML_NATIVE", "OFF")
    doLast {
        val mac = System.getProperty("os.name").startsWith("Mac")
        val host = if (mac) "darwin-x86_64" else "linux-x86_64"
        val sysroot = android.ndkDirectory.resolve("toolchains/llvm/prebuilt/$host/sysroot/usr/lib")
        abis.forEach { abi ->
            sysroot.resolve("${ndkTriples.getValue(abi)}/libc++_shared.so")
                .copyTo(out.resolve("$abi/libc++_shared.so"), overwrite = true)
        }
    }
}

// The Kotlin bindings, generated from a host build of the core so they match its surface.
val uniffiBindings by tasks.registering(Exec::class) {
    workingDir = repoRoot
    commandLine("bash", "mobile-android/generate-bindings.sh", generatedKotlin.get().asFile.path)
}

tasks.named("preBuild") { dependsOn(cargoNdk, uniffiBindings) }
