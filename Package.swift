// swift-tools-version:6.0
import PackageDescription

// Stepwise: HTTP/1.1, HTTP/2 and WebSocket for Swift on Linux, every object drivable from a foreign
// main loop. Layers (docs/architecture.md): C shims → Reactor → HTTPCore → HTTP2 / WebSocket → Stepwise.
let package = Package(
    name: "Stepwise",
    products: [
        .library(name: "Stepwise", targets: ["Stepwise"]),
        .executable(name: "stepwise", targets: ["StepwiseCLI"]),
        .executable(name: "example-poll-host", targets: ["ExamplePollHost"]),
        .executable(name: "example-game-loop", targets: ["ExampleGameLoop"]),
        .executable(name: "example-glib-host", targets: ["ExampleGLibHost"]),
        .executable(name: "example-libuv-host", targets: ["ExampleLibuvHost"]),
        // Benchmarks/client.sh's load program (`make bench`).
        .executable(name: "stepwise-client-bench", targets: ["StepwiseClientBench"]),
        // The HTTP/1 codec's per-request work, for callgrind (Benchmarks/README.md).
        .executable(name: "stepwise-codec-bench", targets: ["StepwiseCodecBench"]),
    ],
    dependencies: [
        // The Swift server ecosystem's logging API: a `Logger` per server and client.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),  // LogHandler.log(event:)
        // The demo CLI's argument parsing.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries. Debian's libev-dev ships no libev.pc, so CLibev links "ev" directly.
        .systemLibrary(name: "CLibev", providers: [.apt(["libev-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CGLib", path: "Examples/CGLib", pkgConfig: "glib-2.0",
            providers: [.apt(["libglib2.0-dev"])]),
        .systemLibrary(
            name: "CLibuv", path: "Examples/CLibuv", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),

        .target(name: "Reactor", dependencies: ["CLibev", "COpenSSL"]),
        .target(name: "HTTPCore", dependencies: ["Reactor", "CZlib"]),
        .target(
            name: "Stepwise",
            dependencies: ["Reactor", "HTTPCore", .product(name: "Logging", package: "swift-log")]),
        // The demo server's static-file logic (sans-IO planner), tested on its own.
        .target(name: "StepwiseDemo", dependencies: ["HTTPCore"]),

        .executableTarget(
            name: "StepwiseCLI",
            dependencies: [
                "Stepwise", "StepwiseDemo", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(name: "ExamplePollHost", dependencies: ["Stepwise"], path: "Examples/PollHost"),
        .executableTarget(name: "ExampleGameLoop", dependencies: ["Stepwise"], path: "Examples/GameLoop"),
        .executableTarget(
            name: "ExampleGLibHost", dependencies: ["Stepwise", "CGLib"], path: "Examples/GLibHost"),
        .executableTarget(
            name: "ExampleLibuvHost", dependencies: ["Stepwise", "CLibuv"], path: "Examples/LibuvHost"),
        .executableTarget(
            name: "StepwiseClientBench", dependencies: ["Stepwise"], path: "Benchmarks/ClientBench"),
        .executableTarget(
            name: "StepwiseCodecBench", dependencies: ["HTTPCore"], path: "Benchmarks/CodecBench"),

        .testTarget(name: "ReactorTests", dependencies: ["Reactor", "CLibev", "TestSupport"]),
        // What several test targets share (a seeded generator, sample data); not a test target.
        .target(name: "TestSupport", dependencies: ["HTTPCore", "Reactor"], path: "Tests/TestSupport"),
        .testTarget(name: "HTTPCoreTests", dependencies: ["HTTPCore", "TestSupport"]),
        .testTarget(
            name: "ClientTests",
            // StepwiseCLI for its argument parsing (`@testable import`); the tests run its binary too.
            dependencies: [
                "Stepwise", "StepwiseCLI", "TestSupport", .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "StepwiseTests", dependencies: ["Stepwise"]),
        .testTarget(name: "StepwiseDemoTests", dependencies: ["StepwiseDemo", "HTTPCore"]),
        // curl and Python peers (h11, httpx) against an in-process Server; needs `make test`'s peers.
        // The peer scripts in Peers/ are run from the source tree, not bundled.
        .testTarget(name: "InteropTests", dependencies: ["Stepwise"], exclude: ["Peers"]),
        .testTarget(
            name: "ServerTests",
            dependencies: ["Stepwise", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        // Runs the built example executables with --self-test (no module dependencies: it
        // spawns the binaries from the build directory).
        .testTarget(name: "ExamplesTests"),
    ]
)
