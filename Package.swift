// swift-tools-version:5.10
// The autoencoders runtime: a Swift core on OpenBLAS behind one C ABI.
//
//   COpenBLAS      system library: <cblas.h> from Debian's libopenblas-dev
//   Autoencoders   the core: tensors, layers, losses, optimizers, models, training, file format
//   CAutoencoders  the C ABI (@_cdecl only), built into libautoencoders.so
//   autoencoders-cli  the command-line tool (installed as `autoencoders` by the Makefile:
//                  SwiftPM allows one product name per package, and libautoencoders takes it)
import PackageDescription

let package = Package(
    name: "autoencoders",
    products: [
        .library(name: "autoencoders", type: .dynamic, targets: ["CAutoencoders"]),
        .library(name: "Autoencoders", targets: ["Autoencoders"]),
        .executable(name: "autoencoders-cli", targets: ["autoencoders-cli"]),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .target(
            name: "Autoencoders",
            dependencies: ["COpenBLAS"],
            swiftSettings: [
                // sqrt without errno lets the optimizer loops vectorise (sqrtps instead of calls to sqrtf).
                .unsafeFlags(["-Xcc", "-fno-math-errno"]),
                .unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release)),
            ]
        ),
        .target(
            name: "CAutoencoders",
            dependencies: ["Autoencoders"],
            exclude: ["exports.map"],
            linkerSettings: [
                .unsafeFlags([
                    "-static-stdlib",
                    // lld keeps the symbols the version script localizes out of .dynsym (gold lists them as locals).
                    "-use-ld=lld",
                    "-Xlinker", "--version-script=Sources/CAutoencoders/exports.map",
                    "-Xlinker", "-soname=libautoencoders.so.0",
                ]),
            ]
        ),
        .executableTarget(
            name: "autoencoders-cli",
            dependencies: ["Autoencoders"],
            path: "Sources/autoencoders-cli"
        ),
        .testTarget(
            name: "AutoencodersTests",
            dependencies: ["Autoencoders"],
            path: "Tests/AutoencodersTests",
            resources: []
        ),
    ]
)
