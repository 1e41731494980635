// swift-tools-version: 6.1
import PackageDescription

// MARK: - Settings

/// Targets that define simulated actors run nonisolated async code on the caller's executor.
let simulatedActorSettings: [SwiftSetting] = [
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

/// moesim-bench allocates through mimalloc (Debian's libmimalloc-dev, which `make deps` installs): a V3-scale
/// run makes hundreds of millions of small allocations across a heap of ~400 MiB, and with glibc's allocator the
/// full V3 step took 1.13-1.21 times as long ("Speed and approximations" in docs/ARCHITECTURE.md). Linked before
/// the C library, its malloc serves the Swift runtime too. Not the `moesim` REPL: with it, libedit's Tab
/// completion read a stale line buffer (`UsabilityTests`).
let allocatorSettings: [LinkerSetting] = [.linkedLibrary("mimalloc", .when(platforms: [.linux]))]

let package = Package(
    name: "moesim",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SimCore", targets: ["SimCore"]),
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "Hardware", targets: ["Hardware"]),
        .library(name: "Collectives", targets: ["Collectives"]),
        .executable(name: "moesim", targets: ["moesim"]),
        .executable(name: "moesim-bench", targets: ["moesim-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // MARK: - Simulation kernel
        // DWARF 4: the valgrind on these machines cannot read clang's default DWARF 5 (callgrind profiles).
        .target(name: "CSimHooks", cSettings: [.unsafeFlags(["-gdwarf-4"])]),
        .target(
            name: "SimCore",
            dependencies: [
                "CSimHooks",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: simulatedActorSettings
        ),
        .testTarget(name: "SimCoreTests", dependencies: ["SimCore"], swiftSettings: simulatedActorSettings),

        // MARK: - Model
        .target(name: "Tensors"),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .target(name: "MoEModel", dependencies: ["Tensors"]),
        .testTarget(name: "MoEModelTests", dependencies: ["MoEModel", "Tensors"]),

        // MARK: - Hardware
        .target(
            name: "Hardware",
            dependencies: [
                "SimCore",
                "Tensors",
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: simulatedActorSettings
        ),
        .testTarget(
            name: "HardwareTests", dependencies: ["Hardware", "SimCore", "Tensors"],
            swiftSettings: simulatedActorSettings),

        // MARK: - Collectives
        .target(
            name: "Collectives", dependencies: ["SimCore", "Hardware", "Tensors"],
            swiftSettings: simulatedActorSettings),
        .testTarget(
            name: "CollectivesTests", dependencies: ["Collectives", "Hardware", "SimCore", "Tensors"],
            swiftSettings: simulatedActorSettings),

        // MARK: - Parallelism
        .target(
            name: "Parallelism", dependencies: ["SimCore", "Tensors", "MoEModel", "Hardware", "Collectives"],
            swiftSettings: simulatedActorSettings),
        .testTarget(
            name: "ParallelismTests",
            dependencies: ["Parallelism", "SimCore", "Tensors", "MoEModel", "Hardware", "Collectives"],
            swiftSettings: simulatedActorSettings),

        // MARK: - Command language
        .target(
            name: "Scenario",
            dependencies: ["SimCore", "Tensors", "MoEModel", "Hardware", "Collectives", "Parallelism"],
            swiftSettings: simulatedActorSettings),
        .testTarget(
            name: "ScenarioTests", dependencies: ["Scenario", "SimCore", "Hardware"], exclude: ["Golden"],
            swiftSettings: simulatedActorSettings),

        // MARK: - Executables
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        .executableTarget(
            name: "moesim",
            dependencies: [
                "Scenario", "SimCore", "CEditLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: simulatedActorSettings
        ),
        .testTarget(name: "MoesimCLITests", dependencies: ["moesim"], swiftSettings: simulatedActorSettings),
        // MARK: - Fuzzing
        // `make fuzz` builds moesim-fuzz with -sanitize=fuzzer -DFUZZING; CFuzzShim declares libFuzzer's driver.
        .target(name: "CFuzzShim"),
        .executableTarget(
            name: "moesim-fuzz", dependencies: ["Scenario", "CFuzzShim"], swiftSettings: simulatedActorSettings),
        .executableTarget(
            name: "moesim-bench",
            dependencies: [
                "SimCore",
                "Tensors",
                "MoEModel",
                "Hardware",
                "Collectives",
                "Parallelism",
                "Scenario",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: simulatedActorSettings,
            linkerSettings: allocatorSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
