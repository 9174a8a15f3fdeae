// swift-tools-version:6.1
import PackageDescription

// Module layout: see DESIGN.md §3.
//
// Release builds turn off Swift's *runtime* exclusivity checks for our own modules: the
// profile of a pipelined SET load spent ~15% of the engine loop in swift_beginAccess and its
// thread-local bookkeeping. Compile-time exclusivity checking stays on, and debug builds (the
// test suite) keep the runtime checks.
let engineSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v5),
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]
// CairnFormats has no sockets; CairnEngine has no I/O; CairnServer owns every syscall.
let package = Package(
    name: "Cairn",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cairn-server", targets: ["cairn-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // glibc's <malloc.h> (malloc_usable_size) for memory accounting, and a prefetch hint.
        .systemLibrary(name: "CMalloc"),
        // malloc/free counting over glibc's allocator: used_memory in O(1) (see its header).
        .target(name: "CAllocCounter"),
        // CRC64 by carry-less multiplication (PCLMULQDQ), chosen at run time by CPUID.
        .target(name: "CCRC64"),
        .target(
            name: "CairnFormats",
            dependencies: ["CLZ4", "CZlib", "CCRC64"],
            swiftSettings: engineSettings
        ),
        .target(
            name: "CairnEngine",
            dependencies: ["CairnFormats", "CMalloc", "CAllocCounter"],
            swiftSettings: engineSettings
        ),
        .target(
            name: "CairnServer",
            dependencies: [
                "CairnEngine", "CairnFormats", "CMalloc",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: engineSettings
        ),
        .executableTarget(
            name: "cairn-server",
            dependencies: ["CairnServer"],
            swiftSettings: engineSettings
        ),
        .testTarget(name: "CairnFormatsTests", dependencies: ["CairnFormats"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "CairnEngineTests", dependencies: ["CairnEngine"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "CairnServerTests", dependencies: ["CairnServer"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "IntegrationTests", dependencies: ["CairnFormats"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)
