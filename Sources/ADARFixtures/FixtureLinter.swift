import Foundation
import ADARCore
import ADARProtocol

/// One problem in a fixture file: where it is and why it is wrong.
public struct LintIssue: Equatable, Sendable, CustomStringConvertible {
    public var file: String
    /// The index of the test group, for problems inside one.
    public var group: Int?
    /// The test's `tcId`, for problems inside a test that has one.
    public var tcId: Int?
    /// A path into the document (`testGroups[1].tests[3].input.rho`); empty for the whole file.
    public var field: String
    public var reason: String

    public init(file: String, group: Int? = nil, tcId: Int? = nil, field: String, reason: String) {
        self.file = file
        self.group = group
        self.tcId = tcId
        self.field = field
        self.reason = reason
    }

    /// `file tcId N field: reason` (`file field: reason` outside a test).
    public var description: String {
        file + (tcId.map { " tcId \($0)" } ?? "") + (field.isEmpty ? "" : " \(field)") + ": " + reason
    }

    /// `{"file", "group", "tcId", "field", "reason"}`, `null` where there is none (`adar fixtures lint --json`).
    public var json: JSONValue {
        .object([
            ("file", .string(file)), ("group", group.map(JSONValue.integer) ?? .null), ("tcId", tcId.map(JSONValue.integer) ?? .null),
            ("field", .string(field)), ("reason", .string(reason)),
        ])
    }
}

/// `adar fixtures lint`: the rules of docs/PORTING.md §1–§2 checked directly
/// (the JSON Schema files in fixtures/schema/ say less, for ports' own tools).
/// Every finding names the file, the group and tcId where there is one, the field and the reason.
public enum FixtureLinter {
    /// Lints every `*.json` file directly in `directory` (the schema folder is not a fixture),
    /// and reports the files of PORTING.md §1 that are missing.
    public static func lint(directory: URL) throws -> [LintIssue] {
        let names = try FixtureFile.names(in: directory)
        var issues = [LintIssue]()
        if names.isEmpty { issues.append(LintIssue(file: directory.path, field: "", reason: "no fixture files (*.json)")) }
        for expected in FixtureFormat.files.map(\.name) where !names.contains(expected) {
            issues.append(LintIssue(file: expected, field: "", reason: "missing from \(directory.path)"))
        }
        for name in names {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            issues += lint(text: text, file: name)
        }
        return issues
    }

    public static func lint(text: String, file: String) -> [LintIssue] {
        let linter = FileLinter(file: file)
        linter.lint(text)
        return linter.issues
    }

    /// A group's relative tolerance must be below this: at `relative ≥ 1` an answer of 0 passes
    /// for every expected value (Proofs/conformance-tolerances.md derives at most 2⁻¹²).
    public static let relativeToleranceLimit = 1.0

    /// Outputs that must be checked relatively down to `relativeCheckLimit`: S4's a* and π carry no
    /// cancellation beyond their own conditioning, so a floor that hides small values hides bugs
    /// (a* ≈ 3e-4 under binary32's old floor 2⁻¹² could be off by 70 %).
    public static let relativelyChecked = ["aStar", "retention"]
    /// The magnitude down to which `relativelyChecked` fields are checked at the relative tolerance:
    /// their floor may be at most `relative·relativeCheckLimit`.
    public static let relativeCheckLimit = 0x1p-6
}

/// Lints one file; `issues` holds the findings in document order.
private final class FileLinter {
    let file: String
    var issues = [LintIssue]()
    /// The group being read, named by every finding inside it.
    var group: Int?

    init(file: String) { self.file = file }

    func report(_ tcId: Int?, _ field: String, _ reason: String) {
        issues.append(LintIssue(file: file, group: group, tcId: tcId, field: field, reason: reason))
    }

    static let topFields = ["schema", "operation", "generatorVersion", "header", "notes", "numberOfTests", "testGroups"]
    static let groupFields = ["type", "operation", "precision", "tolerance", "tests"]
    static let testFields = ["tcId", "comment", "flags", "operation", "input", "expected", "alternatives", "result"]
    static let noteFields = ["bugType", "description", "effect"]
    static let operationNames = FixtureOperation.allCases.map(\.rawValue).joined(separator: ", ")

    func lint(_ text: String) {
        let document: JSONValue
        do { document = try JSONValue.parse(text) } catch {
            report(nil, "", "not JSON: \(error)")
            return
        }
        guard document.objectFields != nil else {
            report(nil, "", "the document must be an object, got \(describe(document))")
            return
        }
        unknownFields(document, allowed: Self.topFields, path: "", what: "top-level field", tcId: nil)
        for key in Self.topFields where document[key] == nil { report(nil, key, "missing") }
        if let schema = document["schema"], schema.stringValue != FixtureFormat.schema {
            report(nil, "schema", "must be \"\(FixtureFormat.schema)\", got \(describe(schema))")
        }
        let topics = FixtureFormat.files.map(\.topic) + FixtureOperation.allCases.map(\.rawValue)
        var fileOperation: FixtureOperation?
        if let topic = document["operation"] {
            if let name = topic.stringValue, topics.contains(name) {
                fileOperation = FixtureOperation(rawValue: name)
            } else {
                report(nil, "operation", "unknown operation \(describe(topic)): one of \(Array(Set(topics)).sorted().joined(separator: ", "))")
            }
        }
        if let version = document["generatorVersion"], version.stringValue == nil {
            report(nil, "generatorVersion", "must be a string, got \(describe(version))")
        }
        if let header = document["header"], !(header.arrayValue?.allSatisfy { $0.stringValue != nil } ?? false) {
            report(nil, "header", "must be an array of strings")
        }
        let noted = lintNotes(document["notes"])
        var count = 0, firstPlace = [Int: String](), usedFlags = Set<String>()
        if let groups = document["testGroups"] {
            guard let groups = groups.arrayValue else {
                report(nil, "testGroups", "must be an array, got \(describe(groups))")
                return
            }
            for (g, value) in groups.enumerated() {
                group = g
                count += lintGroup(value, path: "testGroups[\(g)]", fileOperation: fileOperation, noted: noted,
                                   firstPlace: &firstPlace, usedFlags: &usedFlags)
            }
            group = nil
        }
        if let declared = document["numberOfTests"] {
            if let n = declared.intValue {
                if n != count { report(nil, "numberOfTests", "declares \(n) but the groups hold \(count) tests") }
            } else {
                report(nil, "numberOfTests", "must be an integer, got \(describe(declared))")
            }
        }
        for flag in noted.subtracting(usedFlags).sorted() { report(nil, "notes.\(flag)", "note for a flag no test uses") }
    }

    /// The flags `notes` explains.
    func lintNotes(_ notes: JSONValue?) -> Set<String> {
        guard let notes else { return [] }
        guard let fields = notes.objectFields else {
            report(nil, "notes", "must be an object, got \(describe(notes))")
            return []
        }
        for (flag, note) in fields {
            guard note.objectFields != nil else { report(nil, "notes.\(flag)", "must be an object, got \(describe(note))"); continue }
            unknownFields(note, allowed: Self.noteFields, path: "notes.\(flag)", what: "note field", tcId: nil)
            for key in Self.noteFields where note[key]?.stringValue?.isEmpty ?? true { report(nil, "notes.\(flag).\(key)", "missing or empty") }
            if let bugType = note["bugType"]?.stringValue, !FixtureFormat.bugTypes.contains(bugType) {
                report(nil, "notes.\(flag).bugType", "\(bugType) is not one of \(FixtureFormat.bugTypes.joined(separator: ", "))")
            }
        }
        return Set(fields.map(\.0))
    }

    /// Lints one group and returns how many tests it holds.
    func lintGroup(
        _ value: JSONValue, path: String, fileOperation: FixtureOperation?, noted: Set<String>,
        firstPlace: inout [Int: String], usedFlags: inout Set<String>
    ) -> Int {
        guard value.objectFields != nil else {
            report(nil, path, "must be an object, got \(describe(value))")
            return 0
        }
        unknownFields(value, allowed: Self.groupFields, path: path, what: "group field", tcId: nil)
        if value["type"]?.stringValue == nil { report(nil, "\(path).type", "missing or not a string") }
        var groupOperation = fileOperation
        if let operation = value["operation"] {
            groupOperation = operation.stringValue.flatMap(FixtureOperation.init(rawValue:))
            if groupOperation == nil { report(nil, "\(path).operation", "unknown operation \(describe(operation)): one of \(Self.operationNames)") }
        }
        if Precision(rawValue: value["precision"]?.stringValue ?? "") == nil {
            report(nil, "\(path).precision", "must be binary64 or binary32, got \(value["precision"].map(describe) ?? "nothing")")
        }
        let checksOutputs = value["tests"]?.arrayValue?.contains { $0["result"]?.stringValue != ExpectedResult.invalid.rawValue } ?? false
        let tolerance = lintTolerance(value["tolerance"], path: "\(path).tolerance", operation: checksOutputs ? groupOperation : nil)
        guard let tests = value["tests"]?.arrayValue else {
            report(nil, "\(path).tests", "missing or not an array")
            return 0
        }
        var scale = 0.0
        for (i, test) in tests.enumerated() {
            let testPath = "\(path).tests[\(i)]"
            guard test.objectFields != nil else { report(nil, testPath, "must be an object, got \(describe(test))"); continue }
            let tcId = test["tcId"]?.intValue
            if let tcId {
                if tcId < 1 { report(tcId, "\(testPath).tcId", "must be ≥ 1") }
                if let first = firstPlace[tcId] {
                    report(tcId, "\(testPath).tcId", "duplicate tcId (also at \(first)); tcIds are unique within a file")
                } else {
                    firstPlace[tcId] = testPath
                }
            } else {
                report(nil, "\(testPath).tcId", "missing or not an integer (got \(test["tcId"].map(describe) ?? "nothing"))")
            }
            unknownFields(test, allowed: Self.testFields, path: testPath, what: "test field", tcId: tcId)
            if test["comment"]?.stringValue == nil { report(tcId, "\(testPath).comment", "missing or not a string") }
            if let flags = test["flags"]?.arrayValue {
                for flag in flags {
                    guard let name = flag.stringValue else { report(tcId, "\(testPath).flags", "flags must be strings, got \(describe(flag))"); continue }
                    usedFlags.insert(name)
                    if !noted.contains(name) { report(tcId, "\(testPath).flags", "flag \(name) has no entry in notes") }
                }
            } else {
                report(tcId, "\(testPath).flags", "missing or not an array")
            }
            let result = test["result"]?.stringValue.flatMap(ExpectedResult.init(rawValue:))
            if result == nil {
                report(tcId, "\(testPath).result", "must be valid, invalid or acceptable, got \(test["result"].map(describe) ?? "nothing")")
            }
            for key in ["input", "expected", "alternatives"] {
                if let value = test[key] { finiteNumbers(value, path: "\(testPath).\(key)", tcId: tcId) }
            }
            var operation = groupOperation
            if let named = test["operation"] {
                operation = named.stringValue.flatMap(FixtureOperation.init(rawValue:))
                if operation == nil { report(tcId, "\(testPath).operation", "unknown operation \(describe(named)): one of \(Self.operationNames)") }
            } else if operation == nil, value["operation"] == nil {
                report(tcId, "\(testPath)", "names no operation: give the test, its group or the file one of \(Self.operationNames)")
            }
            guard let operation, let result else { continue }
            lintTest(test, operation: operation, result: result, path: testPath, tcId: tcId)
            if let flags = test["flags"]?.arrayValue?.compactMap(\.stringValue), let input = test["input"], let expected = test["expected"] {
                let complete = noted.allSatisfy { FlagCatalogue.notes[$0] != nil }
                for problem in FlagChecks.problems(
                    flags: flags, operation: operation, input: input, expected: expected, result: result, complete: complete) {
                    report(tcId, "\(testPath).flags", problem)
                }
            }
            if result != .invalid, let expected = test["expected"] { scale = max(scale, Self.largestReal(expected, operation)) }
        }
        if let tolerance, scale > 0, tolerance.absolute >= scale {
            report(nil, "\(path).tolerance.absolute",
                   "\(tolerance.absolute) is not below \(scale), the largest |expected| real of the group: an answer of zeros would pass "
                   + "every case; an absolute tolerance is a floor for values near 0 (Proofs/conformance-tolerances.md)")
        }
        return tests.count
    }

    /// The group's tolerance when it is well formed; reports what is wrong otherwise.
    /// `operation` is the group's when it checks outputs (nil for a group of invalid inputs).
    func lintTolerance(_ value: JSONValue?, path: String, operation: FixtureOperation?) -> Tolerance? {
        guard let value else { report(nil, path, "missing"); return nil }
        guard value.objectFields != nil else { report(nil, path, "must be an object {relative, absolute}, got \(describe(value))"); return nil }
        unknownFields(value, allowed: ["relative", "absolute", "fieldAbsolute"], path: path, what: "tolerance field", tcId: nil)
        var floors = [String: Double]()
        if let given = value["fieldAbsolute"] {
            if let entries = given.objectFields {
                for (field, floor) in entries {
                    if let operation, !operation.outputFields.contains(field) {
                        report(nil, "\(path).fieldAbsolute.\(field)", "not an output field of \(operation.rawValue) (\(operation.outputFields.joined(separator: ", ")))")
                    }
                    if let x = floor.doubleValue, x.isFinite, x >= 0 { floors[field] = x } else {
                        report(nil, "\(path).fieldAbsolute.\(field)", "must be a finite number ≥ 0, got \(describe(floor))")
                    }
                }
            } else {
                report(nil, "\(path).fieldAbsolute", "must be an object {output field: absolute floor}, got \(describe(given))")
            }
        }
        var parts = [Double]()
        for key in ["relative", "absolute"] {
            switch value[key] {
            case let .number(x)? where x.isFinite && x >= 0: parts.append(x)
            case let .integer(i)? where i >= 0: parts.append(Double(i))
            case let other?: report(nil, "\(path).\(key)", "must be a finite number ≥ 0, got \(describe(other))")
            case nil: report(nil, "\(path).\(key)", "missing")
            }
        }
        guard parts.count == 2 else { return nil }
        let tolerance = Tolerance(relative: parts[0], absolute: parts[1], fieldAbsolute: floors)
        if tolerance.relative >= FixtureLinter.relativeToleranceLimit {
            report(nil, "\(path).relative",
                   "\(tolerance.relative) is not below 1: an answer of 0 would pass for every expected value "
                   + "(Proofs/conformance-tolerances.md derives relative tolerances of at most 2⁻¹²)")
        }
        for field in FixtureLinter.relativelyChecked where operation?.outputFields.contains(field) ?? false {
            let floor = tolerance.fieldAbsolute[field] ?? tolerance.absolute
            if tolerance.relative > 0, floor > tolerance.relative * FixtureLinter.relativeCheckLimit {
                report(nil, "\(path)\(tolerance.fieldAbsolute[field] == nil ? ".absolute" : ".fieldAbsolute.\(field)")",
                       "\(field)'s absolute floor \(floor) is above relative·2⁻⁶ = \(tolerance.relative * FixtureLinter.relativeCheckLimit): "
                       + "\(field) values below \(floor / tolerance.relative) would be checked only loosely or not at all; "
                       + "give it a floor in fieldAbsolute (Proofs/conformance-tolerances.md, S6/F1)")
            }
        }
        return tolerance
    }

    /// Inputs and outputs of one test against the operation's fields (PORTING.md §2).
    func lintTest(_ test: JSONValue, operation: FixtureOperation, result: ExpectedResult, path: String, tcId: Int?) {
        if let input = test["input"], input.objectFields != nil {
            // An invalid input may be malformed on purpose: only its being an object is checked.
            if result != .invalid {
                fields(input, operation.inputFields.map { ($0, FieldKind.input($0, of: operation)) }, path: "\(path).input",
                       what: "input field of \(operation.rawValue)", tcId: tcId)
            }
        } else {
            report(tcId, "\(path).input", "missing or not an object")
        }
        guard let expected = test["expected"], expected.objectFields != nil else {
            report(tcId, "\(path).expected", "missing or not an object")
            return
        }
        if result == .invalid {
            unknownFields(expected, allowed: ["error"], path: "\(path).expected", what: "field of an invalid test's expected", tcId: tcId)
            let error = expected["error"] ?? .object([])
            if error.objectFields == nil { report(tcId, "\(path).expected.error", "must be an object {kind, field}, got \(describe(error))") }
            unknownFields(error, allowed: ["kind", "field"], path: "\(path).expected.error", what: "error field", tcId: tcId)
            if !ADARError.kinds.contains(error["kind"]?.stringValue ?? "") {
                report(tcId, "\(path).expected.error.kind", "missing or not one of \(ADARError.kinds.joined(separator: ", "))")
            }
            if error["field"]?.stringValue == nil { report(tcId, "\(path).expected.error.field", "missing or not a string") }
            if test["alternatives"] != nil { report(tcId, "\(path).alternatives", "only acceptable tests list alternatives") }
            return
        }
        let outputFields = operation.outputFields.map { ($0, FieldKind.output($0)) }
        fields(expected, outputFields, path: "\(path).expected", what: "output field of \(operation.rawValue)", tcId: tcId)
        let alternatives = test["alternatives"]
        if let alternatives, alternatives.arrayValue == nil {
            report(tcId, "\(path).alternatives", "must be an array of outputs, got \(describe(alternatives))")
        }
        for (k, output) in (alternatives?.arrayValue ?? []).enumerated() {
            fields(output, outputFields, path: "\(path).alternatives[\(k)]", what: "output field of \(operation.rawValue)", tcId: tcId)
        }
        if result == .acceptable, (alternatives?.arrayValue ?? []).isEmpty {
            report(tcId, "\(path).alternatives", "an acceptable test lists at least one alternative")
        }
        if result == .valid, alternatives != nil { report(tcId, "\(path).alternatives", "only acceptable tests list alternatives") }
    }

    // MARK: - Values

    /// An object with exactly `expected` fields, each of its kind.
    func fields(_ value: JSONValue, _ expected: [(String, FieldKind)], path: String, what: String, tcId: Int?) {
        guard value.objectFields != nil else { report(tcId, path, "must be an object, got \(describe(value))"); return }
        unknownFields(value, allowed: expected.map(\.0), path: path, what: what, tcId: tcId)
        for (key, kind) in expected {
            if let field = value[key] { check(field, kind, path: "\(path).\(key)", tcId: tcId) } else { report(tcId, "\(path).\(key)", "missing (\(what))") }
        }
    }

    func check(_ value: JSONValue, _ kind: FieldKind, path: String, tcId: Int?) {
        func wrong(_ wanted: String) { report(tcId, path, "must be \(wanted), got \(describe(value))") }
        func each(_ wanted: String, _ item: FieldKind) {
            guard let items = value.arrayValue else { return wrong(wanted) }
            for (k, element) in items.enumerated() { check(element, item, path: "\(path)[\(k)]", tcId: tcId) }
        }
        switch kind {
        case .real:
            switch value {
            case .number, .integer, .null: break
            default: wrong("a number (null for NaN)")
            }
        case .reals: each("an array of numbers", .real)
        case .realMatrix: each("an array of arrays of numbers", .reals)
        case .integer: if value.intValue == nil { wrong("an integer") }
        case .integers: each("an array of integers", .integer)
        case .words32:
            guard let items = value.arrayValue else { return wrong("an array of unsigned 32-bit integers") }
            for (k, word) in items.enumerated() where word.intValue.flatMap(UInt32.init(exactly:)) == nil {
                report(tcId, "\(path)[\(k)]", "must be an unsigned 32-bit integer (0…4294967295), got \(describe(word))")
            }
        case .unsigned64:
            if value.stringValue.flatMap(UInt64.init) == nil { wrong("an unsigned 64-bit integer written as a decimal string") }
        case let .name(names):
            if !names.contains(value.stringValue ?? "") { wrong("one of \(names.joined(separator: ", "))") }
        case .schedule: schedule(value, path: path, tcId: tcId)
        case let .object(expected): fields(value, expected, path: path, what: "field", tcId: tcId)
        }
    }

    /// A schedule object: a kind of S1 and exactly its parameters (PORTING.md §2).
    func schedule(_ value: JSONValue, path: String, tcId: Int?) {
        guard value.objectFields != nil else { report(tcId, path, "must be a schedule object {kind, steps, …}, got \(describe(value))"); return }
        let kinds = FieldKind.scheduleParameters
        guard let name = value["kind"]?.stringValue, let entry = kinds.first(where: { $0.kind == name }) else {
            report(tcId, "\(path).kind", "must be one of \(kinds.map(\.kind).joined(separator: ", ")), got \(value["kind"].map(describe) ?? "nothing")")
            return
        }
        let parameters = entry.required + entry.optional
        unknownFields(value, allowed: ["kind"] + parameters, path: path, what: "parameter of a \(name) schedule", tcId: tcId)
        for key in entry.required where value[key] == nil { report(tcId, "\(path).\(key)", "missing (a \(name) schedule needs it)") }
        for key in parameters {
            guard let parameter = value[key] else { continue }
            check(parameter, key == "steps" ? .integer : key == "betas" ? .reals : .real, path: "\(path).\(key)", tcId: tcId)
        }
    }

    func unknownFields(_ value: JSONValue, allowed: [String], path: String, what: String, tcId: Int?) {
        for key in value.objectFields?.map(\.0) ?? [] where !allowed.contains(key) {
            report(tcId, path.isEmpty ? key : "\(path).\(key)", "unknown \(what) (allowed: \(allowed.joined(separator: ", ")))")
        }
    }

    /// Reports every number that read as ±∞: a literal such as `1e999` beyond binary64's range.
    /// An infinite expected value would let any answer pass (its allowance is infinite).
    func finiteNumbers(_ value: JSONValue, path: String, tcId: Int?) {
        switch value {
        case let .number(x) where !x.isFinite:
            report(tcId, path, "a number beyond binary64's range (it reads as \(x < 0 ? "−" : "")∞): fixtures hold finite numbers, null for NaN")
        case let .array(items): for (k, item) in items.enumerated() { finiteNumbers(item, path: "\(path)[\(k)]", tcId: tcId) }
        case let .object(fields): for (key, item) in fields { finiteNumbers(item, path: "\(path).\(key)", tcId: tcId) }
        default: break
        }
    }

    /// The largest finite |x| over the real-valued output fields of `output`: the magnitude scale
    /// an absolute tolerance is judged against.
    static func largestReal(_ output: JSONValue, _ operation: FixtureOperation) -> Double {
        func reals(_ value: JSONValue) -> [Double] {
            switch value {
            case let .array(items): items.flatMap(reals)
            default: value.doubleValue.map { [$0] } ?? []
            }
        }
        var largest = 0.0
        for key in operation.outputFields {
            switch FieldKind.output(key) {
            case .real, .reals, .realMatrix:
                for x in reals(output[key] ?? .null) where x.isFinite { largest = max(largest, abs(x)) }
            default: break
            }
        }
        return largest
    }

    func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case let .bool(b): "\(b)"
        case let .integer(i): "the integer \(i)"
        case let .number(x): "the number \(x)"
        case .string: "the string \(value.rendered)"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
