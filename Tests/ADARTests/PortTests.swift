import Foundation
import Testing

/// docs/PORTING.md §7: the example numpy port (examples/ports/python-numpy)
/// passes `adar conform` in binary64 and binary32, and every deliberately
/// wrong variant of it (`ADAR_PORT_BUG`) fails with the hint naming its bug, and no other.
///
/// The tests drive the real command line — `adar conform --json … -- python3
/// adar_port.py` — as a port author would, with the `adar` built next to the
/// test bundle and the whole committed fixtures/ (a run takes about 2 s).
@Suite(
    "Ports: the numpy example under adar conform",
    .enabled(
        if: NumpyPort.isAvailable,
        "python3 with numpy and scipy is not installed; `python3 -m pip install numpy scipy` runs these tests")
)
struct PortTests {
    @Test("the binary64 numpy port passes every fixture")
    func binary64Passes() throws {
        let run = try NumpyPort.conform()
        try run.expectPassed(precision: "binary64")
    }

    @Test("the binary32 numpy port passes every binary32 fixture")
    func binary32Passes() throws {
        let run = try NumpyPort.conform(environment: ["ADAR_PORT_PRECISION": "binary32"])
        try run.expectPassed(precision: "binary32")
    }

    @Test("a results file written by the numpy port passes adar conform --results")
    func resultsFilePasses() throws {
        let results = FileManager.default.temporaryDirectory
            .appendingPathComponent("adar-port-results-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: results) }
        let writer = try NumpyPort.runPython(
            ["--fixtures", NumpyPort.fixtures.path, "--write-results", results.path], environment: [:])
        try #require(writer.status == 0, "the port could not write its results: \(writer.standardError)")
        let run = try NumpyPort.conform(arguments: ["--results", results.path])
        try run.expectPassed(precision: "binary64")
    }

    /// Each known-bad port, run on the whole fixture set as a port author would, fails with exactly
    /// its own hint: a hint is shown only when it fits every failure, so each bug is the negative
    /// case of every other hint. In binary32 two bugs reproduce only in part and show no hint —
    /// never another one.
    @Test("a known-bad port fails with its hint and no other", arguments: KnownBug.all, ["binary64", "binary32"])
    func knownBugIsCaught(_ bug: KnownBug, _ precision: String) throws {
        let run = try NumpyPort.conform(environment: ["ADAR_PORT_BUG": bug.name, "ADAR_PORT_PRECISION": precision])
        #expect(run.status == 1, "adar conform exited \(run.status) for \(bug.name); it must fail (1)")
        let report = try run.report()
        #expect(report.failures > 0, "\(bug.name): no case failed")
        let expected = precision == "binary32" && KnownBug.binary32WithoutHint.contains(bug.name) ? [] : [bug.misconception]
        #expect(report.hints.map(\.name) == expected, "\(bug.name) (\(precision)): hints \(report.hints)")
        #expect(report.misconceptions == Set(expected), "\(bug.name) (\(precision)): diagnoses \(report.misconceptions.sorted())")
        #expect(report.hints.allSatisfy { $0.confidence != "low" }, "\(bug.name): \(report.hints)")
    }

    /// A wrong hint is worse than none: bugs outside the catalogue (the audit's ᾱ-for-√ᾱ port, 4-digit
    /// Φ⁻¹ and linspace over T, which used to draw "cosine β not clipped", "ᾱ in binary32" or "shifted by
    /// one step") fail with no hint, and the report says none fits every failure.
    @Test("an uncatalogued bug fails with no hint", arguments: KnownBug.uncatalogued, ["binary64", "binary32"])
    func uncataloguedBugHasNoHint(_ bug: String, _ precision: String) throws {
        let run = try NumpyPort.conform(environment: ["ADAR_PORT_BUG": bug, "ADAR_PORT_PRECISION": precision])
        let report = try run.report()
        #expect(run.status == 1 && report.failures > 0, "\(bug): must fail")
        #expect(report.hints.isEmpty, "\(bug): hints \(report.hints)")
        #expect(report.misconceptions.isEmpty, "\(bug): diagnoses \(report.misconceptions.sorted())")
    }

    /// A wrong hint is worse than none: on the τ files, a port with one τ bug is never
    /// diagnosed with another τ misconception (each bug is the negative case of every other hint).
    @Test("a τ bug triggers no other τ hint", arguments: KnownBug.tauExclusive)
    func tauBugTriggersOnlyItsHint(_ bug: KnownBug) throws {
        let run = try NumpyPort.conform(environment: ["ADAR_PORT_BUG": bug.name], onlyFiles: KnownBug.tauFiles)
        let named = try run.report().misconceptions.intersection(KnownBug.tauMisconceptions)
        #expect(named == [bug.misconception], "\(bug.name): τ diagnoses \(named.sorted()), expected only \(bug.misconception)")
    }

    /// A correct port draws no τ hint at all, in either precision.
    @Test("the correct numpy port draws no τ hint", arguments: ["binary64", "binary32"])
    func correctPortHasNoTauHint(_ precision: String) throws {
        let run = try NumpyPort.conform(environment: ["ADAR_PORT_PRECISION": precision], onlyFiles: KnownBug.tauFiles)
        #expect(try run.report().misconceptions.isEmpty)
    }
}

/// A deliberate bug of the numpy port and the misconception `adar conform`
/// must name (docs/PORTING.md §6).
struct KnownBug: Sendable, CustomTestStringConvertible {
    var name: String
    var misconception: String

    var testDescription: String { name }

    static let all: [KnownBug] = [
        KnownBug(name: "alpha-bar-shifted", misconception: "alphaBarShiftedOneStep"),
        KnownBug(name: "beta-for-alpha-bar", misconception: "betaForAlphaBar"),
        KnownBug(name: "alpha-for-alpha-bar", misconception: "alphaForAlphaBar"),
        KnownBug(name: "linear-rescaled", misconception: "linearRescaled"),
        KnownBug(name: "zero-based-t", misconception: "zeroBasedTimesteps"),
        KnownBug(name: "cosine-unclipped", misconception: "cosineUnclipped"),
        KnownBug(name: "alpha-bar-float32", misconception: "alphaBarBinary32"),
        KnownBug(name: "missing-sigma", misconception: "sigmaMissing"),
        KnownBug(name: "policy-swapped", misconception: "policySwapped"),
        KnownBug(name: "wrong-root", misconception: "wrongRoot"),
        // z enters S4.d only through z², so a flipped z is exactly the other root.
        KnownBug(name: "z-sign-flipped", misconception: "wrongRoot"),
        KnownBug(name: "amplitude-for-alpha-bar-star", misconception: "amplitudeForAlphaBarStar"),
        KnownBug(name: "strict-tie", misconception: "strictTieComparison"),
        KnownBug(name: "mean-includes-positive", misconception: "meanIncludesPositive"),
        KnownBug(name: "margin-gradient-sign", misconception: "marginGradientSign"),
        KnownBug(name: "box-muller-uniforms-swapped", misconception: "boxMullerUniformsSwapped"),
        KnownBug(name: "counter-words-reversed", misconception: "counterWordsReversed"),
        KnownBug(name: "status-precedence", misconception: "statusPrecedence"),
        KnownBug(name: "naive-softplus", misconception: "naiveSoftplus"),
        KnownBug(name: "gradient-flow-swapped", misconception: "gradientFlowSwapped"),
        KnownBug(name: "fallback-swapped", misconception: "fallbackSwapped"),
        KnownBug(name: "box-muller-lanes-swapped", misconception: "boxMullerLanesSwapped"),
        KnownBug(name: "unit-interval-without-half", misconception: "unitIntervalWithoutHalf"),
        KnownBug(name: "key-halves-swapped", misconception: "keyHalvesSwapped"),
        KnownBug(name: "counter-row-halves-swapped", misconception: "counterRowHalvesSwapped"),
    ] + tau + adam

    /// S9's τ training step (`tauStep`): Adam's common bugs (TauStepTests checks them on tau_step.json alone).
    static let adam: [KnownBug] = [
        KnownBug(name: "adam-no-bias-correction", misconception: "adamBiasCorrectionMissing"),
        KnownBug(name: "adam-epsilon-inside-root", misconception: "adamEpsilonInsideRoot"),
        KnownBug(name: "adam-weight-decay", misconception: "adamWeightDecay"),
        KnownBug(name: "adam-moments-after-step", misconception: "adamMomentsAfterStep"),
    ]

    /// S9's τ bugs: on the τ files each shows exactly its own hint among the τ hints.
    static let tau: [KnownBug] = [
        KnownBug(name: "pe-sin-cos-swapped", misconception: "peSinCosSwapped"),
        KnownBug(name: "pe-integer-division", misconception: "peIntegerDivision"),
        KnownBug(name: "pe-exponent-k", misconception: "peExponentK"),
        KnownBug(name: "concatenation-swapped", misconception: "concatenationSwapped"),
        KnownBug(name: "reconstruction-missing-sigma", misconception: "reconstructionSigmaMissing"),
        KnownBug(name: "ratio-alpha-bar", misconception: "ratioAlphaBar"),
    ]
    /// Bugs no catalogue entry describes (examples/ports/python-numpy: "not a catalogued bug").
    static let uncatalogued = ["alpha-bar-for-sqrt", "coarse-quantile", "linspace-over-t"]
    /// binary32 ports whose failures the binary64 re-derivation reproduces only in part (naive softplus overflows at
    /// 89 in binary32, not at 710; u = w·2⁻³² rounds differently): no hint, which is never a wrong one.
    static let binary32WithoutHint: Set<String> = ["naive-softplus", "unit-interval-without-half"]
    /// The τ bugs and one S2 bug that also shows in `denoise`: on the τ files each names only its own misconception.
    static let tauExclusive = tau + [KnownBug(name: "missing-sigma", misconception: "sigmaMissing")]
    static let tauFiles = ["positional_encoding.json", "tau_forward.json", "denoise.json"]
    /// The misconceptions a τ case can be diagnosed with.
    static let tauMisconceptions: Set<String> = [
        "peSinCosSwapped", "peIntegerDivision", "peExponentK", "concatenationSwapped", "reconstructionSigmaMissing", "ratioAlphaBar",
        "sigmaMissing",
    ]
}

/// Runs the example port and `adar conform` as subprocesses.
enum NumpyPort {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = root.appendingPathComponent("examples/ports/python-numpy/adar_port.py")
    static let fixtures = root.appendingPathComponent("fixtures")

    /// Whether `python3` imports numpy and scipy (the suite is skipped otherwise).
    static let isAvailable: Bool = {
        (try? ProcessResult.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", "import numpy, scipy"]).status) == 0
    }()

    /// `adar conform --json [arguments] [-- python3 adar_port.py]` over the
    /// committed fixtures, or over a copy of `onlyFiles` of them (`--subset`:
    /// conform refuses an incomplete fixture set without it).
    static func conform(
        arguments: [String] = [], environment: [String: String] = [:], onlyFiles: [String]? = nil
    ) throws -> ConformRun {
        var directory = fixtures
        if let onlyFiles {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("adar-port-fixtures-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for name in onlyFiles {
                try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name), to: directory.appendingPathComponent(name))
            }
        }
        defer { if onlyFiles != nil { try? FileManager.default.removeItem(at: directory) } }
        var command = ["conform", "--json", "--fixtures", directory.path] + (onlyFiles == nil ? [] : ["--subset"]) + arguments
        if !arguments.contains("--results") { command += ["--", "python3", script.path] }
        let result = try ADARExecutable.run(command, environment: environment)
        return ConformRun(status: result.status, standardOutput: result.standardOutput, standardError: result.standardError)
    }

    static func runPython(_ arguments: [String], environment: [String: String]) throws -> ProcessResult {
        try ProcessResult.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script.path] + arguments, environment: environment)
    }
}

/// One `adar conform --json` run and its report.
struct ConformRun {
    var status: Int32
    var standardOutput: String
    var standardError: String

    struct Report {
        var precision: String
        var pass: Int, failures: Int, acceptable: Int, skipped: Int
        /// Every `misconception` named by a diagnosis of a failing case.
        var misconceptions: Set<String>
        /// The report's hints (`misconception`, `confidence`): those that fit every failure.
        var hints: [(name: String, confidence: String)]
        /// The first failures, `id: reason`, for messages.
        var firstFailures: [String]
    }

    /// The report of `adar conform --json` (docs/PORTING.md §4).
    func report() throws -> Report {
        guard let data = standardOutput.data(using: .utf8),
              let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let total = root["total"] as? [String: Any]
        else { throw ProcessRunError("adar conform printed no JSON report (exit \(status)): \(standardOutput.prefix(400)) \(standardError.prefix(400))") }
        var misconceptions = Set<String>(), firstFailures = [String]()
        for file in root["files"] as? [[String: Any]] ?? [] {
            for failure in file["failures"] as? [[String: Any]] ?? [] {
                if firstFailures.count < 5 {
                    firstFailures.append("\(failure["id"] ?? "?"): \(failure["reason"] ?? "")")
                }
                for diagnosis in failure["diagnoses"] as? [[String: Any]] ?? [] {
                    if let name = diagnosis["misconception"] as? String { misconceptions.insert(name) }
                }
            }
        }
        func count(_ key: String) -> Int { (total[key] as? NSNumber)?.intValue ?? -1 }
        let hints = (root["hints"] as? [[String: Any]] ?? []).map { ($0["misconception"] as? String ?? "", $0["confidence"] as? String ?? "") }
        return Report(
            precision: root["precision"] as? String ?? "", pass: count("pass"), failures: count("fail"),
            acceptable: count("acceptable"), skipped: count("skipped"),
            misconceptions: misconceptions, hints: hints, firstFailures: firstFailures)
    }

    /// Exit 0, no failure, nothing skipped, and some cases checked in `precision`.
    func expectPassed(precision: String) throws {
        let report = try report()
        #expect(report.precision == precision)
        #expect(report.failures == 0, "failures: \(report.firstFailures)")
        #expect(report.skipped == 0)
        #expect(report.pass + report.acceptable > 0, "no case was checked")
        #expect(status == 0, "adar conform exited \(status): \(standardError.prefix(400))")
    }
}

