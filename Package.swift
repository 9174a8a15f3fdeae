// swift-tools-version:6.1
import PackageDescription

// Module layout: see docs/architecture.md and DESIGN.md §3.
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
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
    ],
    targets: [
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // glibc's <malloc.h> (mallinfo2, malloc_usable_size) for memory accounting.
        .systemLibrary(name: "CMalloc"),
        .target(
            name: "CairnFormats",
            dependencies: ["CLZ4", "CZlib"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .target(
            name: "CairnEngine",
            dependencies: ["CairnFormats", "CMalloc"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .target(
            name: "CairnServer",
            dependencies: [
                "CairnEngine", "CairnFormats",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(
            name: "cairn-server",
            dependencies: ["CairnServer"],
            swiftSettings: [.swiftLanguageMode(.v5)]
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
