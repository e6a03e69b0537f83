import Foundation

/// The fixture format of docs/PORTING.md §1, and the policy constants the
/// generator, the linter, the runner and the tolerance checks share.
public enum FixtureFormat {
    public static let schema = "adar-fixtures-v1"
    public static let generatorVersion = "adar 1"
    public static let bugTypes = ["CONVENTION", "NUMERICAL", "EDGE_CASE", "FUNCTIONALITY", "INVALID_INPUT"]

    /// The files, in the order of PORTING.md §1, with their topic (`operation`).
    public static let files: [(name: String, topic: String)] = [
        ("schedules.json", "schedule"), ("forward_process.json", "forward"), ("transition.json", "transition"),
        ("synthesis.json", "synthesize"), ("noise.json", "noise"), ("loss.json", "loss"),
        ("positional_encoding.json", "pe"), ("tau_init.json", "tauInit"), ("tau_forward.json", "tauForward"),
        ("denoise.json", "denoise"), ("synthesis_denoised.json", "synthesizeDenoised"), ("tau_step.json", "tauStep"),
        ("invalid_inputs.json", "invalid"),
    ]

    /// The `type` of a test group of an operation (`InvalidInputTest` for refusals).
    public static func groupType(_ operation: FixtureOperation) -> String {
        switch operation {
        case .schedule: "ScheduleTest"
        case .forward: "ForwardTest"
        case .transition: "TransitionTest"
        case .synthesize: "SynthesisTest"
        case .philox: "PhiloxTest"
        case .normals: "NormalsTest"
        case .loss: "LossTest"
        case .pe: "PositionalEncodingTest"
        case .tauInit: "TauInitTest"
        case .tauForward: "TauForwardTest"
        case .denoise: "DenoiseTest"
        case .synthesizeDenoised: "DenoisedSynthesisTest"
        case .tauStep: "TauStepTest"
        }
    }
    public static let invalidGroupType = "InvalidInputTest"
}

/// The arithmetic a port computes in; it is checked against the fixture
/// groups of the same precision (docs/PORTING.md §1).
public enum Precision: String, Sendable, CaseIterable {
    case binary64, binary32
}

/// What a test expects of a port (docs/PORTING.md §1).
public enum ExpectedResult: String, Sendable, CaseIterable {
    /// The expected output, within tolerance.
    case valid
    /// A refusal (an `error` response).
    case invalid
    /// The expected output or any listed alternative.
    case acceptable
}

/// `|got − expected| ≤ max(absolute, relative·|expected|)` for every real output (PORTING.md §1);
/// an output field named in `fieldAbsolute` uses its own absolute floor instead of `absolute`.
public struct Tolerance: Equatable, Sendable {
    public var relative: Double
    public var absolute: Double
    /// Absolute floors of single output fields (by top-level name), replacing `absolute` for them:
    /// binary32's `aStar` and `retention` are checked relatively far below `absolute`
    /// (Proofs/conformance-tolerances.md, S6/F1).
    public var fieldAbsolute: [String: Double]

    public init(relative: Double, absolute: Double, fieldAbsolute: [String: Double] = [:]) {
        self.relative = relative
        self.absolute = absolute
        self.fieldAbsolute = fieldAbsolute
    }

    /// The largest admissible `|got − expected|` for a value of `field` (a top-level output name).
    public func allowance(_ expected: Double, field: String = "") -> Double {
        max(fieldAbsolute[field] ?? absolute, relative * abs(expected))
    }

    /// The same tolerance with every part multiplied by `factor`.
    public func scaled(by factor: Double) -> Tolerance {
        Tolerance(relative: relative * factor, absolute: absolute * factor, fieldAbsolute: fieldAbsolute.mapValues { $0 * factor })
    }

    public var json: JSONValue {
        var fields: [(String, JSONValue)] = [("relative", .real(relative)), ("absolute", .real(absolute))]
        if !fieldAbsolute.isEmpty {
            fields.append(("fieldAbsolute", .object(fieldAbsolute.sorted { $0.key < $1.key }.map { ($0.key, .real($0.value)) })))
        }
        return .object(fields)
    }

    /// The tolerance of a group, by operation and precision; derived in
    /// Proofs/conformance-tolerances.md (S6/F1 binary32, S6/F2 binary64).
    public static func of(_ operation: FixtureOperation, precision: Precision) -> Tolerance {
        switch precision {
        case .binary64: binary64(operation)
        case .binary32: binary32(operation)
        }
    }

    public static func binary64(_ operation: FixtureOperation) -> Tolerance {
        switch operation {
        case .schedule: Tolerance(relative: 0x1p-28, absolute: 0)
        case .forward: Tolerance(relative: 1e-12, absolute: 1e-14)
        case .transition, .synthesize, .loss: Tolerance(relative: 1e-10, absolute: 1e-12)
        case .philox: Tolerance(relative: 0, absolute: 0)
        case .normals: Tolerance(relative: 1e-12, absolute: 1e-14)
        case .pe: Tolerance(relative: 1e-12, absolute: 1e-12)
        case .tauInit: Tolerance(relative: 1e-14, absolute: 0)
        case .tauForward, .denoise: Tolerance(relative: 1e-10, absolute: 1e-11)
        // S4's outputs as in synthesize (their floor 1e-12); x̂_0 keeps τ's 1e-11 (S9/K1).
        case .synthesizeDenoised: Tolerance(relative: 1e-10, absolute: 1e-11, fieldAbsolute: ["aStar": 1e-12, "retention": 1e-12])
        case .tauStep: Tolerance(relative: 1e-10, absolute: 1e-12)
        }
    }

    public static func binary32(_ operation: FixtureOperation) -> Tolerance {
        switch operation {
        case .schedule: Tolerance(relative: 0x1p-23, absolute: 0)
        case .forward: Tolerance(relative: 0x1p-20, absolute: 0x1p-20)
        case .transition, .synthesize: Tolerance(relative: 0x1p-12, absolute: 0x1p-12, fieldAbsolute: binary32S4Floors)
        case .loss: Tolerance(relative: 0x1p-12, absolute: 0x1p-12)
        case .philox: Tolerance(relative: 0, absolute: 0)
        case .normals: Tolerance(relative: 0x1p-20, absolute: 0x1p-11)
        case .pe: Tolerance(relative: 0x1p-23, absolute: 0x1p-23)
        case .tauInit: Tolerance(relative: 0x1p-23, absolute: 0)
        case .tauForward, .denoise: Tolerance(relative: 0x1p-12, absolute: 0x1p-12)
        case .synthesizeDenoised: Tolerance(relative: 0x1p-12, absolute: 0x1p-12, fieldAbsolute: binary32S4Floors)
        case .tauStep: Tolerance(relative: 0x1p-14, absolute: 0x1p-18)
        }
    }

    /// The tolerance of the `tauStep` cases of a τ at its target, whose residuals `ε̂ − ε′`
    /// are a few binary32 ulps (S9/E5, Proofs/S9-binary32-tau.md). binary32: the sign of
    /// some entries' gradient, hence of their step, is not determined; at step 1 every
    /// step is at most `lr·U`, `U ≤ 1 + 2⁻¹⁶`, either way, so `θ′` may differ by up to
    /// `2·lr·U`: the allowance `4·lr` is twice that. binary64: the residual is a
    /// difference of numbers 10⁶ times larger, so its relative error (the schedule's
    /// ᾱ alone carries `T·u`) reaches the step: absolute `lr·2⁻²⁰`.
    public static func tauStepAtTarget(learningRate: Double, precision: Precision) -> Tolerance {
        switch precision {
        case .binary64: Tolerance(relative: 1e-10, absolute: learningRate * 0x1p-20)
        case .binary32: Tolerance(relative: 0x1p-14, absolute: 4 * learningRate)
        }
    }

    /// binary32 floors of S4's outputs: a* and π are computed without cancellation beyond a*'s own
    /// conditioning, so they are checked relatively down to 2⁻⁸ (Proofs/conformance-tolerances.md, S6/F1).
    public static let binary32S4Floors = ["aStar": 0x1p-20, "retention": 0x1p-20]

    /// The relative change of `ᾱ*` within which a binary32 evaluation may
    /// decide `ᾱ_t ≤ ᾱ*` the other way (S4.f); such cases are `acceptable`
    /// with the other timestep listed (Proofs/conformance-tolerances.md, S6/F1).
    public static let binary32DecisionWidth = 0x1p-14
}

/// What a flag means: the bug it catches and what that bug does (PORTING.md §1, `notes`).
public struct FlagNote: Equatable, Sendable {
    public var bugType: String
    public var description: String
    public var effect: String

    public init(bugType: String, description: String, effect: String) {
        self.bugType = bugType
        self.description = description
        self.effect = effect
    }

    public var json: JSONValue {
        .object([("bugType", .string(bugType)), ("description", .string(description)), ("effect", .string(effect))])
    }
}

/// One test case.
public struct FixtureTest: Equatable, Sendable {
    public var tcId: Int
    public var comment: String
    public var flags: [String]
    /// The test's own operation, when it differs from its group's (docs/PORTING.md §1).
    public var operation: FixtureOperation?
    public var input: JSONValue
    /// The reference's output, or `{"error": {"kind", "field"}}` for `invalid`; `null` when a file read has none.
    public var expected: JSONValue
    public var result: ExpectedResult
    /// For `acceptable`: the other complete outputs that also pass.
    public var alternatives: [JSONValue]

    public init(
        tcId: Int, comment: String, flags: [String], operation: FixtureOperation? = nil, input: JSONValue, expected: JSONValue,
        result: ExpectedResult, alternatives: [JSONValue]
    ) {
        self.tcId = tcId
        self.comment = comment
        self.flags = flags
        self.operation = operation
        self.input = input
        self.expected = expected
        self.result = result
        self.alternatives = alternatives
    }

    public var json: JSONValue {
        var fields: [(String, JSONValue)] = [
            ("tcId", .integer(tcId)), ("comment", .string(comment)), ("flags", .array(flags.map(JSONValue.string))),
        ]
        if let operation { fields.append(("operation", .string(operation.rawValue))) }
        fields += [("input", input), ("expected", expected)]
        if !alternatives.isEmpty { fields.append(("alternatives", .array(alternatives))) }
        fields.append(("result", .string(result.rawValue)))
        return .object(fields)
    }
}

public struct TestGroup: Equatable, Sendable {
    public var type: String
    /// The operation of the group's tests; a file read may leave it to the tests or the file (docs/PORTING.md §1).
    public var operation: FixtureOperation?
    public var precision: Precision
    public var tolerance: Tolerance
    public var tests: [FixtureTest]

    public init(type: String, operation: FixtureOperation?, precision: Precision, tolerance: Tolerance, tests: [FixtureTest]) {
        self.type = type
        self.operation = operation
        self.precision = precision
        self.tolerance = tolerance
        self.tests = tests
    }

    public var json: JSONValue {
        var fields: [(String, JSONValue)] = [("type", .string(type))]
        if let operation { fields.append(("operation", .string(operation.rawValue))) }
        fields += [("precision", .string(precision.rawValue)), ("tolerance", tolerance.json), ("tests", .array(tests.map(\.json)))]
        return .object(fields)
    }
}

public struct FixtureFile: Equatable, Sendable {
    public var name: String
    public var topic: String
    public var header: [String]
    public var notes: [(String, FlagNote)]
    public var testGroups: [TestGroup]

    public init(name: String, topic: String, header: [String], notes: [(String, FlagNote)], testGroups: [TestGroup]) {
        self.name = name
        self.topic = topic
        self.header = header
        self.notes = notes
        self.testGroups = testGroups
    }

    public static func == (lhs: FixtureFile, rhs: FixtureFile) -> Bool { lhs.json == rhs.json }

    public var numberOfTests: Int { testGroups.reduce(0) { $0 + $1.tests.count } }

    public var json: JSONValue {
        .object([
            ("schema", .string(FixtureFormat.schema)), ("operation", .string(topic)),
            ("generatorVersion", .string(FixtureFormat.generatorVersion)),
            ("header", .array(header.map(JSONValue.string))),
            ("notes", .object(notes.map { ($0.0, $0.1.json) })),
            ("numberOfTests", .integer(numberOfTests)),
            ("testGroups", .array(testGroups.map(\.json))),
        ])
    }

    /// The file's bytes: pretty-printed JSON and a trailing newline.
    public var text: String { json.prettyPrinted() + "\n" }

    /// Every test with what its group and file give it, in file order.
    public var cases: [FixtureCase] {
        testGroups.flatMap { group in
            group.tests.compactMap { test in
                (test.operation ?? group.operation).map {
                    FixtureCase(file: name, operation: $0, precision: group.precision, tolerance: group.tolerance, test: test)
                }
            }
        }
    }
}

/// One test as a runner checks it: its protocol id and the operation,
/// precision and tolerance its group or file gives it (docs/PORTING.md §1, §3).
@dynamicMemberLookup
public struct FixtureCase: Sendable {
    public var file: String
    public var operation: FixtureOperation
    public var precision: Precision
    public var tolerance: Tolerance
    public var test: FixtureTest

    /// The protocol id of this test: `"<file>#<tcId>"` (docs/PORTING.md §3).
    public var id: String { "\(file)#\(test.tcId)" }

    public subscript<Value>(dynamicMember field: KeyPath<FixtureTest, Value>) -> Value { test[keyPath: field] }
}

// MARK: - Reading

extension FixtureFile {
    /// Why a fixture file cannot be read.
    public struct FormatError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads a fixture file as a runner needs it. Only what a runner uses is
    /// required; `adar fixtures lint` checks the rest of the format.
    public init(name: String, text: String) throws(FormatError) {
        let root: JSONValue
        do { root = try JSONValue.parse(text) } catch { throw FormatError(description: "\(name): not JSON (\(error))") }
        guard root["schema"]?.stringValue == FixtureFormat.schema else {
            throw FormatError(description: "\(name): schema is not \(FixtureFormat.schema)")
        }
        guard let topic = root["operation"]?.stringValue else { throw FormatError(description: "\(name): no operation") }
        guard let groups = root["testGroups"]?.arrayValue else { throw FormatError(description: "\(name): no testGroups") }
        func operation(_ value: JSONValue?, _ place: String) throws(FormatError) -> FixtureOperation? {
            guard let value else { return nil }
            guard let operation = value.stringValue.flatMap(FixtureOperation.init(rawValue:)) else {
                throw FormatError(description: "\(name): \(place) has an unknown operation \(value.rendered)")
            }
            return operation
        }
        var testGroups = [TestGroup]()
        for (g, group) in groups.enumerated() {
            guard let precision = group["precision"]?.stringValue.flatMap(Precision.init(rawValue:)) else {
                throw FormatError(description: "\(name): group \(g) has no precision binary64|binary32")
            }
            let groupOperation = try operation(group["operation"], "group \(g)") ?? FixtureOperation(rawValue: topic)
            var tests = [FixtureTest]()
            for test in group["tests"]?.arrayValue ?? [] {
                guard let tcId = test["tcId"]?.intValue,
                      let result = test["result"]?.stringValue.flatMap(ExpectedResult.init(rawValue:)),
                      let input = test["input"]
                else { throw FormatError(description: "\(name): group \(g) has a test without tcId, result or input") }
                let testOperation = try operation(test["operation"], "tcId \(tcId)")
                guard testOperation ?? groupOperation != nil else {
                    throw FormatError(description: "\(name): tcId \(tcId) names no operation (test, group or file)")
                }
                tests.append(FixtureTest(
                    tcId: tcId, comment: test["comment"]?.stringValue ?? "",
                    flags: test["flags"]?.arrayValue?.compactMap(\.stringValue) ?? [], operation: testOperation,
                    input: input, expected: test["expected"] ?? .null, result: result,
                    alternatives: test["alternatives"]?.arrayValue ?? []))
            }
            testGroups.append(TestGroup(
                type: group["type"]?.stringValue ?? "", operation: groupOperation, precision: precision,
                tolerance: Tolerance(
                    relative: group["tolerance"]?["relative"]?.doubleValue ?? 0,
                    absolute: group["tolerance"]?["absolute"]?.doubleValue ?? 0,
                    fieldAbsolute: Dictionary(
                        (group["tolerance"]?["fieldAbsolute"]?.objectFields ?? []).compactMap { key, value in value.doubleValue.map { (key, $0) } },
                        uniquingKeysWith: { first, _ in first })),
                tests: tests))
        }
        let notes = (root["notes"]?.objectFields ?? []).map { flag, note in
            (flag, FlagNote(
                bugType: note["bugType"]?.stringValue ?? "", description: note["description"]?.stringValue ?? "",
                effect: note["effect"]?.stringValue ?? ""))
        }
        self.init(
            name: name, topic: topic, header: root["header"]?.arrayValue?.compactMap(\.stringValue) ?? [], notes: notes,
            testGroups: testGroups)
    }

    /// The names of the fixture files directly in `directory` (not `schema/`), sorted.
    public static func names(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
    }

    /// Every fixture file directly in `directory`, by name.
    public static func load(directory: URL) throws -> [FixtureFile] {
        try names(in: directory).map { name in
            try FixtureFile(name: name, text: try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8))
        }
    }
}
