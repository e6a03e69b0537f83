import Foundation

/// The arithmetic a port computes in; it is checked against the fixture
/// groups of the same precision (docs/PORTING.md §1).
public enum Precision: String, Sendable, CaseIterable {
    case binary64, binary32
}

/// What a test expects of a port (docs/PORTING.md §1).
public enum ExpectedResult: String, Sendable {
    /// The expected output, within tolerance.
    case valid
    /// A refusal (an `error` response).
    case invalid
    /// The expected output or any listed alternative.
    case acceptable
}

/// `|got − expected| ≤ max(absolute, relative·|expected|)` for every real output.
public struct Tolerance: Equatable, Sendable {
    public var relative: Double
    public var absolute: Double

    public init(relative: Double, absolute: Double) {
        self.relative = relative
        self.absolute = absolute
    }

    public func bound(for expected: Double) -> Double { max(absolute, relative * abs(expected)) }
}

/// One test of a fixture file, with what its group shares.
public struct FixtureTest: Sendable {
    public var file: String
    public var tcId: Int
    public var operation: String
    public var comment: String
    public var flags: [String]
    public var input: JSONValue
    public var expected: JSONValue?
    /// Outputs that also pass an `acceptable` test (docs/PORTING.md §1).
    public var alternatives: [JSONValue]
    public var result: ExpectedResult
    public var precision: Precision
    public var tolerance: Tolerance

    /// The protocol id of this test: `"<file>#<tcId>"` (docs/PORTING.md §3).
    public var id: String { "\(file)#\(tcId)" }
}

/// A fixture file (docs/PORTING.md §1), read with a minimal model of its own
/// so the runner depends on the documented format only.
public struct FixtureFile: Sendable {
    public var name: String
    public var operation: String
    public var notes: [String: String]
    public var tests: [FixtureTest]

    public struct FormatError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(name: String, data: Data) throws {
        guard let root = JSONValue(data: data) else { throw FormatError(description: "\(name): not JSON") }
        guard root["schema"]?.string == "adar-fixtures-v1" else {
            throw FormatError(description: "\(name): schema is not adar-fixtures-v1")
        }
        guard let operation = root["operation"]?.string else { throw FormatError(description: "\(name): no operation") }
        guard let groups = root["testGroups"]?.arrayItems else { throw FormatError(description: "\(name): no testGroups") }
        self.name = name
        self.operation = operation
        notes = [:]
        for (flag, note) in root["notes"]?.objectFields ?? [] {
            notes[flag] = note["description"]?.string ?? ""
        }
        tests = []
        for (g, group) in groups.enumerated() {
            guard let precision = group["precision"]?.string.flatMap(Precision.init(rawValue:)) else {
                throw FormatError(description: "\(name): group \(g) has no precision binary64|binary32")
            }
            let tolerance = Tolerance(
                relative: group["tolerance"]?["relative"]?.double ?? 0,
                absolute: group["tolerance"]?["absolute"]?.double ?? 0)
            for test in group["tests"]?.arrayItems ?? [] {
                guard let tcId = test["tcId"]?.int,
                      let result = test["result"]?.string.flatMap(ExpectedResult.init(rawValue:)),
                      let input = test["input"]
                else { throw FormatError(description: "\(name): group \(g) has a test without tcId, result or input") }
                tests.append(FixtureTest(
                    file: name, tcId: tcId,
                    operation: test["operation"]?.string ?? group["operation"]?.string ?? operation,
                    comment: test["comment"]?.string ?? "",
                    flags: test["flags"]?.arrayItems?.compactMap(\.string) ?? [],
                    input: input, expected: test["expected"],
                    alternatives: test["alternatives"]?.arrayItems ?? [],
                    result: result, precision: precision, tolerance: tolerance))
            }
        }
    }

    public init(contentsOf url: URL) throws {
        try self.init(name: url.lastPathComponent, data: try Data(contentsOf: url))
    }

    /// Every `*.json` file directly in `directory` (not `schema/`), by name.
    public static func load(directory: URL) throws -> [FixtureFile] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { try FixtureFile(contentsOf: directory.appendingPathComponent($0)) }
    }
}
