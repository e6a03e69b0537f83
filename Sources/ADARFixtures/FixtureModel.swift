/// The fixture format of docs/PORTING.md §1, and the policy constants the
/// generator, the linter and the tolerance checks share.
public enum FixtureFormat {
    public static let schema = "adar-fixtures-v1"
    public static let generatorVersion = "adar 1"
    public static let results = ["valid", "invalid", "acceptable"]
    public static let precisions = ["binary64", "binary32"]
    public static let bugTypes = ["CONVENTION", "NUMERICAL", "EDGE_CASE", "FUNCTIONALITY", "INVALID_INPUT"]

    /// The files, in the order of PORTING.md §1, with their topic (`operation`).
    public static let files: [(name: String, topic: String)] = [
        ("schedules.json", "schedule"), ("forward_process.json", "forward"), ("transition.json", "transition"),
        ("synthesis.json", "synthesize"), ("noise.json", "noise"), ("loss.json", "loss"),
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
        }
    }
    public static let invalidGroupType = "InvalidInputTest"
}

/// `|got − expected| ≤ max(absolute, relative·|expected|)` for every real output (PORTING.md §1).
public struct Tolerance: Equatable, Sendable {
    public var relative: Double
    public var absolute: Double

    public init(relative: Double, absolute: Double) {
        self.relative = relative
        self.absolute = absolute
    }

    public func allows(got: Double, expected: Double) -> Bool {
        if got.isNaN || expected.isNaN { return got.isNaN && expected.isNaN }
        return abs(got - expected) <= allowance(expected)
    }

    /// The largest admissible `|got − expected|`.
    public func allowance(_ expected: Double) -> Double { max(absolute, relative * abs(expected)) }

    public var json: JSONValue { .object([("relative", .real(relative)), ("absolute", .real(absolute))]) }

    /// The tolerance of a group, by operation and precision; derived in
    /// Proofs/conformance-tolerances.md (S6/F1 binary32, S6/F2 binary64).
    public static func of(_ operation: FixtureOperation, precision: String) -> Tolerance {
        precision == "binary32" ? binary32(operation) : binary64(operation)
    }

    public static func binary64(_ operation: FixtureOperation) -> Tolerance {
        switch operation {
        case .schedule: Tolerance(relative: 0x1p-28, absolute: 0)
        case .forward: Tolerance(relative: 1e-12, absolute: 1e-14)
        case .transition, .synthesize, .loss: Tolerance(relative: 1e-10, absolute: 1e-12)
        case .philox: Tolerance(relative: 0, absolute: 0)
        case .normals: Tolerance(relative: 1e-12, absolute: 1e-14)
        }
    }

    public static func binary32(_ operation: FixtureOperation) -> Tolerance {
        switch operation {
        case .schedule: Tolerance(relative: 0x1p-23, absolute: 0)
        case .forward: Tolerance(relative: 0x1p-20, absolute: 0x1p-20)
        case .transition, .synthesize, .loss: Tolerance(relative: 0x1p-12, absolute: 0x1p-12)
        case .philox: Tolerance(relative: 0, absolute: 0)
        case .normals: Tolerance(relative: 0x1p-20, absolute: 0x1p-11)
        }
    }

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

    public var json: JSONValue {
        .object([("bugType", .string(bugType)), ("description", .string(description)), ("effect", .string(effect))])
    }
}

/// One test case.
public struct FixtureTest: Equatable, Sendable {
    public var tcId: Int
    public var comment: String
    public var flags: [String]
    public var input: JSONValue
    /// The reference's output, or `{"error": {"kind", "field"}}` for `invalid`.
    public var expected: JSONValue
    public var result: String
    /// For `acceptable`: the other complete outputs that also pass.
    public var alternatives: [JSONValue]

    public var json: JSONValue {
        var fields: [(String, JSONValue)] = [
            ("tcId", .integer(tcId)), ("comment", .string(comment)), ("flags", .array(flags.map(JSONValue.string))),
            ("input", input), ("expected", expected),
        ]
        if !alternatives.isEmpty { fields.append(("alternatives", .array(alternatives))) }
        fields.append(("result", .string(result)))
        return .object(fields)
    }
}

public struct TestGroup: Equatable, Sendable {
    public var type: String
    public var operation: FixtureOperation
    public var precision: String
    public var tolerance: Tolerance
    public var tests: [FixtureTest]

    public var json: JSONValue {
        .object([
            ("type", .string(type)), ("operation", .string(operation.rawValue)), ("precision", .string(precision)),
            ("tolerance", tolerance.json), ("tests", .array(tests.map(\.json))),
        ])
    }
}

public struct FixtureFile: Equatable, Sendable {
    public var name: String
    public var topic: String
    public var header: [String]
    public var notes: [(String, FlagNote)]
    public var testGroups: [TestGroup]

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
    public var text: String { json.rendered() + "\n" }
}
