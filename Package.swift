// swift-tools-version:6.0
import PackageDescription

// Hot numeric code is compiled with -Ounchecked in release builds: bounds are checked at the
// API boundary (shapes), not per element inside kernels.
let fast: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]
// Code that parses files or indexes with values read from them keeps Swift's checks (-O): an
// index that slipped past a validation then stops with a message instead of reading past a
// buffer and printing a plausible wrong answer.
let checked: [SwiftSetting] = []

let package = Package(
    name: "NoisyStudent",
    products: [
        .library(name: "Randomness", targets: ["Randomness"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Augment", targets: ["Augment"]),
        .library(name: "NoisyStudent", targets: ["NoisyStudent"]),
        .library(name: "Charts", targets: ["Charts"]),
        .library(name: "Weave", targets: ["Weave"]),
        .library(name: "WeaveRuntime", targets: ["WeaveRuntime"]),
        .executable(name: "noisy-student", targets: ["noisy-student"]),
        .executable(name: "weave", targets: ["weave"]),
        .executable(name: "engine-bench", targets: ["engine-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `weave preview`'s HTTP + websocket server (no SwiftNIO: builds in seconds).
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        // System libraries: a module map and a shim header each, nothing else.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CCmark", pkgConfig: "libcmark-gfm", providers: [.apt(["libcmark-gfm-dev", "libcmark-gfm-extensions-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // Plain C kernels (llm.c style) with per-CPU clones, called by the engine. Strict IEEE
        // arithmetic (no -ffast-math): each sum runs in the order the code writes it, so a kernel
        // change that keeps that order keeps the bits, and the AVX2 and AVX-512 paths agree. Under
        // -ffast-math the compiler regrouped the Winograd transforms' adds differently after a
        // change that only replaced full-mask loads (training numbers moved on the same CPU).
        // Which path the kernels run (CPUID, or ENGINE_ISA): apart from the kernels, so the weaver,
        // which records it with each result, does not compile them.
        .target(name: "CKernelPath"),
        .target(name: "CKernels", dependencies: ["CKernelPath"], cSettings: [.unsafeFlags(["-O3"])]),

        // Seeded random numbers shared by every layer of the stack (no global RNG anywhere).
        .target(name: "Randomness", swiftSettings: fast),
        // One of each system job the other targets share: atomic file writes, a lock, MD5/SHA-256
        // (libcrypto), CPU feature detection (the engine's own rule, from CKernelPath). Foundation + C.
        .target(name: "SystemSupport", dependencies: ["CKernelPath", "CCrypto"]),
        // Slurm's clients (sbatch, scancel, squeue) run as processes; Foundation only.
        // Runs helper programs to completion through temp files (the weaver's and Slurm's clients).
        .target(name: "ProcessRunner"),
        .target(name: "Slurm", dependencies: ["ProcessRunner"]),
        .target(name: "Engine", dependencies: ["CBLAS", "CKernels", "CZlib", "Randomness", "SystemSupport"], swiftSettings: fast),
        .target(name: "Datasets", dependencies: ["CCairo", "CPNG", "CZlib", "Randomness", "SystemSupport"], swiftSettings: checked),
        .target(name: "Augment", dependencies: ["Datasets", "Randomness", "CJPEG"], swiftSettings: fast),
        .target(name: "NoisyStudent", dependencies: ["Engine", "Datasets", "Augment", "SystemSupport"], swiftSettings: checked),
        .target(name: "Charts", dependencies: ["CCairo"], swiftSettings: fast),
        // Data-parallel training over OpenMPI (only initialised under mpirun).
        .target(name: "MPIGroup", dependencies: ["CMPI", "NoisyStudent"]),
        // What generated stage code links against: publish/input, progress. Foundation only.
        .target(name: "WeaveRuntime"),
        // Empty: depends on every library generated stage code links, so that build.sh compiles
        // them ahead with one `swift build --target StageLibraries`, in which SwiftPM builds
        // Charts and WeaveRuntime beside NoisyStudent rather than after it.
        .target(name: "StageLibraries", dependencies: ["NoisyStudent", "Charts", "WeaveRuntime"]),
        .target(name: "Weave", dependencies: ["CCmark", "SystemSupport", "WeaveRuntime", "Slurm", "ProcessRunner"],
                exclude: ["README.md"]),
        // `weave preview`: serves the report, rebuilds on save, reloads the page. A target, not a
        // product, so stage code neither imports it nor keys on it.
        .target(name: "WeavePreview", dependencies: ["Weave", .product(name: "FlyingFox", package: "FlyingFox")]),

        .executableTarget(name: "noisy-student", dependencies: [
            "NoisyStudent", "Engine", "Datasets", "Augment", "Charts", "Randomness", "Slurm", "MPIGroup", "SystemSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: checked),
        .executableTarget(name: "weave", dependencies: [
            "Weave", "WeavePreview", "Slurm", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "engine-bench", dependencies: [
            "Engine", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: fast),

        .testTarget(name: "RandomnessTests", dependencies: ["Randomness"]),
        .testTarget(name: "SystemSupportTests", dependencies: ["SystemSupport"]),
        .testTarget(name: "SlurmTests", dependencies: ["Slurm"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "SystemSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "SystemSupport"]),
        .testTarget(name: "AugmentTests", dependencies: ["Augment", "Datasets"], exclude: ["Fixtures"]),
        .testTarget(name: "NoisyStudentTests", dependencies: ["NoisyStudent"]),
        .testTarget(name: "ChartsTests", dependencies: ["Charts"], exclude: ["Golden"]),
        .testTarget(name: "WeaveTests", dependencies: ["Weave", "WeavePreview", "WeaveRuntime", "Charts", "SystemSupport"], exclude: ["Fixtures"]),
    ]
)
