// swift-tools-version:5.10
// The autoencoders runtime: a Swift core on OpenBLAS behind one C ABI.
//
//   COpenBLAS      system library: <cblas.h> from Debian's libopenblas-dev, and an errno-free sqrt
//   CGemm          C: packed sgemm micro-kernels (AVX-512F, AVX2 + FMA) chosen at run time, else OpenBLAS
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
        // The vector instructions are enabled per function (__attribute__((target))), never for the
        // whole target, so nothing outside the kernels can use an instruction the CPU may lack.
        .target(
            name: "CGemm",
            linkerSettings: [.linkedLibrary("openblas"), .linkedLibrary("pthread")]
        ),
        .target(
            name: "Autoencoders",
            dependencies: ["COpenBLAS", "CGemm"]
            // No unsafeFlags here or in COpenBLAS: SwiftPM refuses a version-based dependency
            // (`.package(url:, from: "0.1.0")`) on a product whose targets carry them. Release
            // builds already optimise the whole module (-O, WMO), and the optimizer loops take
            // their square roots from COpenBLAS's sqrt.h (llvm.sqrt, no errno), so they vectorise
            // without -fno-math-errno (docs/ARCHITECTURE.md, "Building and packaging").
        ),
        .target(
            name: "CAutoencoders",
            dependencies: ["Autoencoders", "CGemm"],
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
            path: "Sources/autoencoders-cli",
            linkerSettings: [
                // The Swift runtime linked in, like the library's: the installed tool runs where no
                // Swift toolchain is. (Not part of the Autoencoders product, so version-based
                // dependents never see this flag.)
                .unsafeFlags(["-static-stdlib"]),
            ]
        ),
        .testTarget(
            name: "AutoencodersTests",
            dependencies: ["Autoencoders"],
            path: "Tests/AutoencodersTests",
            resources: []
        ),
    ]
)
