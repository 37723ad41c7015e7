// NOT BUILT HERE: the Android Gradle plugin and AndroidX live on Google's Maven repository, which
// the project's machines cannot reach. Written for integrators; see README.md.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "copilot-core-android"
