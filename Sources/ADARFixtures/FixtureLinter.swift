import Foundation
import ADARCore
import ADARProtocol

/// One problem in a fixture file: where it is and why it is wrong.
public struct LintIssue: Equatable, Sendable, CustomStringConvertible {
    public var file: String
    /// `nil` for problems outside a test.
    public var tcId: Int?
    /// A path into the document (`testGroups[1].tests[3].flags`).
    public var field: String
    public var reason: String

    public var description: String {
        "\(file)" + (tcId.map { " tcId \($0)" } ?? "") + " \(field): \(reason)"
    }
}

/// `adar fixtures lint`: the structure of PORTING.md §1 checked directly
/// (the JSON Schema files in fixtures/schema/ say the same for ports' own tools).
public enum FixtureLinter {
    /// Lints every `*.json` file directly in `directory` (the schema folder is not a fixture).
    public static func lint(directory: URL) throws -> [LintIssue] {
        let names = try FixtureFile.names(in: directory)
        var issues = [LintIssue]()
        if names.isEmpty { issues.append(LintIssue(file: directory.path, tcId: nil, field: "", reason: "no fixture files")) }
        for expected in FixtureFormat.files.map(\.name) where !names.contains(expected) {
            issues.append(LintIssue(file: expected, tcId: nil, field: "", reason: "missing from \(directory.path)"))
        }
        for name in names {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            issues += lint(text: text, file: name)
        }
        return issues
    }

    public static func lint(text: String, file: String) -> [LintIssue] {
        var issues = [LintIssue]()
        func issue(_ tcId: Int?, _ field: String, _ reason: String) {
            issues.append(LintIssue(file: file, tcId: tcId, field: field, reason: reason))
        }
        let document: JSONValue
        do { document = try JSONValue.parse(text) } catch {
            issue(nil, "", "not JSON: \(error)")
            return issues
        }
        guard let top = document.objectFields else {
            issue(nil, "", "the document must be an object")
            return issues
        }
        let allowedTop = ["schema", "operation", "generatorVersion", "header", "notes", "numberOfTests", "testGroups"]
        for key in top.map(\.0) where !allowedTop.contains(key) { issue(nil, key, "unknown top-level field") }
        for key in allowedTop where document[key] == nil { issue(nil, key, "missing") }
        if let schema = document["schema"], schema.stringValue != FixtureFormat.schema {
            issue(nil, "schema", "must be \"\(FixtureFormat.schema)\"")
        }
        let topics = FixtureFormat.files.map(\.topic) + FixtureOperation.allCases.map(\.rawValue)
        if let operation = document["operation"], !topics.contains(operation.stringValue ?? "") {
            issue(nil, "operation", "unknown operation \(operation.rendered)")
        }
        if let version = document["generatorVersion"], version.stringValue == nil { issue(nil, "generatorVersion", "must be a string") }
        if let header = document["header"], !(header.arrayValue?.allSatisfy { $0.stringValue != nil } ?? false) {
            issue(nil, "header", "must be an array of strings")
        }
        var noted = Set<String>()
        if let notes = document["notes"] {
            if let fields = notes.objectFields {
                for (flag, note) in fields {
                    noted.insert(flag)
                    for key in ["bugType", "description", "effect"] where note[key]?.stringValue?.isEmpty ?? true {
                        issue(nil, "notes.\(flag).\(key)", "missing or empty")
                    }
                    if let bugType = note["bugType"]?.stringValue, !FixtureFormat.bugTypes.contains(bugType) {
                        issue(nil, "notes.\(flag).bugType", "\(bugType) is not one of \(FixtureFormat.bugTypes.joined(separator: ", "))")
                    }
                }
            } else {
                issue(nil, "notes", "must be an object")
            }
        }
        var count = 0, seenIDs = Set<Int>(), usedFlags = Set<String>()
        guard let groups = document["testGroups"]?.arrayValue else {
            if document["testGroups"] != nil { issue(nil, "testGroups", "must be an array") }
            return issues
        }
        for (g, group) in groups.enumerated() {
            let path = "testGroups[\(g)]"
            guard group.objectFields != nil else { issue(nil, path, "must be an object"); continue }
            for key in group.objectFields!.map(\.0) where !["type", "operation", "precision", "tolerance", "tests"].contains(key) {
                issue(nil, "\(path).\(key)", "unknown group field")
            }
            if group["type"]?.stringValue == nil { issue(nil, "\(path).type", "missing or not a string") }
            let operation = group["operation"]?.stringValue.flatMap(FixtureOperation.init(rawValue:))
            if operation == nil { issue(nil, "\(path).operation", "missing or not an operation of PORTING.md §2") }
            if Precision(rawValue: group["precision"]?.stringValue ?? "") == nil {
                issue(nil, "\(path).precision", "must be binary64 or binary32")
            }
            if let tolerance = group["tolerance"] {
                for key in ["relative", "absolute"] {
                    guard let x = tolerance[key]?.doubleValue, x.isFinite, x >= 0 else {
                        issue(nil, "\(path).tolerance.\(key)", "must be a finite number ≥ 0")
                        continue
                    }
                }
            } else {
                issue(nil, "\(path).tolerance", "missing")
            }
            guard let tests = group["tests"]?.arrayValue else { issue(nil, "\(path).tests", "missing or not an array"); continue }
            for (i, test) in tests.enumerated() {
                count += 1
                let testPath = "\(path).tests[\(i)]"
                let tcId = test["tcId"]?.intValue
                if let tcId {
                    if tcId < 1 { issue(tcId, "\(testPath).tcId", "must be ≥ 1") }
                    if !seenIDs.insert(tcId).inserted { issue(tcId, "\(testPath).tcId", "duplicate tcId") }
                } else {
                    issue(nil, "\(testPath).tcId", "missing or not an integer")
                }
                for key in test.objectFields?.map(\.0) ?? []
                where !["tcId", "comment", "flags", "input", "expected", "alternatives", "result"].contains(key) {
                    issue(tcId, "\(testPath).\(key)", "unknown test field")
                }
                if test["comment"]?.stringValue == nil { issue(tcId, "\(testPath).comment", "missing or not a string") }
                if let flags = test["flags"]?.arrayValue {
                    for flag in flags {
                        guard let name = flag.stringValue else { issue(tcId, "\(testPath).flags", "flags must be strings"); continue }
                        usedFlags.insert(name)
                        if !noted.contains(name) { issue(tcId, "\(testPath).flags", "flag \(name) has no entry in notes") }
                    }
                } else {
                    issue(tcId, "\(testPath).flags", "missing or not an array")
                }
                let result = test["result"]?.stringValue ?? ""
                if ExpectedResult(rawValue: result) == nil { issue(tcId, "\(testPath).result", "must be valid, invalid or acceptable") }
                guard let operation else { continue }
                lintTest(test, operation: operation, result: result) { issue(tcId, "\(testPath).\($0)", $1) }
            }
        }
        if let declared = document["numberOfTests"] {
            if declared.intValue != count { issue(nil, "numberOfTests", "declares \(declared.rendered) but the groups hold \(count) tests") }
        }
        for flag in noted.subtracting(usedFlags).sorted() { issue(nil, "notes.\(flag)", "note for a flag no test uses") }
        return issues
    }

    /// Inputs and outputs of one test against the operation's field lists (PORTING.md §2).
    static func lintTest(_ test: JSONValue, operation: FixtureOperation, result: String, report: (String, String) -> Void) {
        if let input = test["input"], input.objectFields != nil {
            if result != "invalid" {
                for key in operation.inputFields where input[key] == nil { report("input.\(key)", "missing for \(operation.rawValue)") }
            }
        } else {
            report("input", "missing or not an object")
        }
        guard let expected = test["expected"], expected.objectFields != nil else {
            report("expected", "missing or not an object")
            return
        }
        if result == "invalid" {
            let kind = expected["error"]?["kind"]?.stringValue
            if !ADARError.kinds.contains(kind ?? "") { report("expected.error.kind", "must be an ADARError case name") }
            if expected["error"]?["field"]?.stringValue == nil { report("expected.error.field", "missing or not a string") }
            return
        }
        let outputs = [expected] + (test["alternatives"]?.arrayValue ?? [])
        for (k, output) in outputs.enumerated() {
            let prefix = k == 0 ? "expected" : "alternatives[\(k - 1)]"
            for key in operation.outputFields where output[key] == nil { report("\(prefix).\(key)", "missing for \(operation.rawValue)") }
        }
        switch result {
        case "acceptable":
            if (test["alternatives"]?.arrayValue ?? []).isEmpty { report("alternatives", "an acceptable test lists at least one alternative") }
        default:
            if test["alternatives"] != nil { report("alternatives", "only acceptable tests list alternatives") }
        }
    }
}
