// swift-tools-version:6.1
import PackageDescription

// Data flow, by module:
//   ADARCore        vocabulary: schedules (S1), configuration, batches, statuses (S5),
//                   errors, counter-based noise (S8), the standard normal Φ / Φ⁻¹
//   ADARReference   the binary64 reference: S2 → S3 → S4 → S5 → S6 → S7, one file each
//   ADAR            the optimised implementation users link: binary32, SIMD, batched, parallel
//   GSLOracle       the independent numerical oracle over GSL (never under test)
//   ADARData        MovieLens fetch, splits, full-ranking metrics
//   ADARLayers      the SASRec backbone's layers with their backward passes (docs/LAYERS.md):
//                   embedding, Linear (OpenBLAS GEMM), LayerNorm, causal self-attention,
//                   point-wise FFN, dropout, the block stack, S10's BCE, Adam; binary32 and binary64
//   ADARTraining    MF / LightGCN, BPR, uniform / DNS / AHNS / ADAR samplers (Adam: ADARLayers')
//   ADARVerification the numeric self-checks of every Proofs/ claim, run by tests and `adar verify`
//   ADARProtocol     the port protocol of docs/PORTING.md: JSON values, the fixture model,
//                   request decoding, the reference's answers, the output comparison
//   ADARFixtures     generates and lints fixtures/ (`adar fixtures`)
//   ADARConformance  runs fixtures/ against a port over the protocol of docs/PORTING.md (`adar conform`)
//   ADAREvaluation   the evaluation protocol of docs/PROTOCOL.md: early stopping, the grid file,
//                   selection on validation, the sealed test split, paired statistics (GSL)
//   ADARStore        the SQLite run store of tuning and final runs (docs/STORE.md), over GRDB
//   ADARExperiment   runs the protocol: early-stopped runs, the sealed test evaluation, tuning,
//                   selection and final runs recorded in the store (`adar tune`, `adar train`)
//   ADARReport       `adar report`: the final tables, verdicts and plots, rendered from the store alone
//   adar            the command line
/// The hot modules' release settings: no overflow or exclusivity checks, and on x86-64 the
/// x86-64-v3 level (AVX2, FMA, BMI2; Intel since 2013, AMD Zen), named `haswell` because the
/// clang importer rejects `x86-64-v3`: the binary32 kernels run 8 lanes wide instead of SSE2's 4.
/// Swift never contracts `a * b + c` into a fused multiply-add, so the results are bit-identical
/// to a baseline build (docs/TRAINING.md, "LightGCN (issue 9)"). `#if arch` tests the machine
/// the manifest is compiled on: a cross-compilation from x86-64 to another architecture must
/// drop the flag.
var optimisedRelease: [SwiftSetting] {
    var flags = ["-Ounchecked", "-enforce-exclusivity=unchecked"]
    #if arch(x86_64)
    flags += ["-target-cpu", "haswell"]
    #endif
    return [.unsafeFlags(flags, .when(configuration: .release))]
}

let package = Package(
    name: "swift-adar",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "ADARCore", targets: ["ADARCore"]),
        .library(name: "ADARReference", targets: ["ADARReference"]),
        .library(name: "ADAR", targets: ["ADAR"]),
        .executable(name: "adar", targets: ["adar"]),
        .executable(name: "adar-bench", targets: ["adar-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // No pkg-config for GSL: its `-lgslcblas` would put GSL's reference CBLAS before OpenBLAS and
        // take over the layers' cblas_sgemm; the module map links GSL against OpenBLAS instead.
        .systemLibrary(
            name: "CGSL",
            providers: [.apt(["libgsl-dev"])]
        ),
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(name: "ADARCore"),
        .target(name: "ADARReference", dependencies: ["ADARCore"]),
        .target(
            name: "ADAR",
            dependencies: ["ADARCore"],
            swiftSettings: optimisedRelease
        ),
        .target(
            name: "ADARLayers",
            dependencies: ["ADARCore", "COpenBLAS"],
            swiftSettings: optimisedRelease
        ),
        .target(name: "ADARData", dependencies: ["ADARCore"]),
        .target(
            name: "ADARTraining",
            dependencies: ["ADARCore", "ADAR", "ADARData", "ADARLayers"],
            swiftSettings: optimisedRelease
        ),
        .target(name: "GSLOracle", dependencies: ["CGSL"]),
        .target(name: "ADAREvaluation", dependencies: ["ADARCore", "ADARProtocol", "GSLOracle"]),
        .target(name: "ADARStore", dependencies: ["ADARCore", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "ADARReport", dependencies: ["ADARCore", "ADARStore", "ADAREvaluation"]),
        .target(name: "ADARProtocol", dependencies: ["ADARCore", "ADARReference"]),
        .target(name: "ADARExperiment", dependencies: ["ADARCore", "ADARData", "ADARTraining", "ADARLayers", "ADAREvaluation", "ADARStore"]),
        .target(name: "ADARFixtures", dependencies: ["ADARCore", "ADARReference", "ADARProtocol"]),
        .target(
            name: "ADARVerification",
            dependencies: ["ADARCore", "ADARReference", "GSLOracle", "ADAR", "ADARFixtures", "ADARProtocol", "ADARConformance"]
        ),
        .target(
            name: "ADARConformance",
            dependencies: ["ADARCore", "ADARReference", "ADAR", "ADARProtocol"]
        ),
        .executableTarget(
            name: "adar",
            dependencies: [
                "ADARCore", "ADARReference", "ADARVerification", "ADARData", "ADARTraining", "GSLOracle",
                "ADARConformance", "ADARFixtures", "ADAREvaluation", "ADARStore", "ADARExperiment", "ADARReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "adar-bench",
            dependencies: [
                "ADARCore", "ADARReference", "ADAR", "ADARVerification", "ADARData", "ADARTraining", "ADARLayers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Bench/adar-bench"
        ),
        .testTarget(
            name: "ADARTests",
            dependencies: [
                "ADARCore", "ADARReference", "ADAR", "ADARData", "ADARTraining", "GSLOracle", "ADARVerification",
                "ADARLayers", "ADARConformance", "ADARFixtures", "ADAREvaluation", "ADARStore", "ADARExperiment", "ADARReport", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["ConformanceFixtures", "ConformancePorts"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
