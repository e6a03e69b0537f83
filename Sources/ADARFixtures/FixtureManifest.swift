import ADARProtocol

/// What a complete fixtures directory holds: exactly the cases `adar fixtures generate` writes.
/// The generator is compiled into `adar`, so the expected set cannot be deleted together with
/// the files; `FixturesTests` checks that the committed fixtures/ is this set, byte for byte.
/// `adar conform` refuses a directory with any gap unless given `--subset`, and then reports the gaps.
public enum FixtureManifest {
    /// The gaps of `files` against the generated set: per file, operation and precision, the
    /// cases absent or different from the generated ones (`precision` nil: both precisions).
    public static func gaps(
        in files: [FixtureFile], precision: Precision? = nil, expected: [FixtureFile] = FixtureGenerator.generateAll()
    ) -> [FixtureGap] {
        var gaps = [FixtureGap]()
        for file in expected {
            let present = files.first { $0.name == file.name }
            let loaded = Dictionary(present?.cases.map { ($0.test.tcId, $0) } ?? [], uniquingKeysWith: { first, _ in first })
            for group in file.testGroups where precision == nil || group.precision == precision {
                guard let operation = group.operation else { continue }
                var gap = FixtureGap(
                    file: file.name, operation: operation, precision: group.precision, total: group.tests.count, fileAbsent: present == nil)
                for test in group.tests {
                    guard let found = loaded[test.tcId] else { gap.absent.append(test.tcId); continue }
                    if found.test != test || found.operation != operation || found.precision != group.precision
                        || found.tolerance != group.tolerance {
                        gap.different.append(test.tcId)
                    }
                }
                if !gap.absent.isEmpty || !gap.different.isEmpty { gaps.append(gap) }
            }
        }
        return gaps
    }

    /// The operations none of whose cases in `precision` is left after `gaps`: not checked at all.
    public static func uncheckedOperations(
        _ gaps: [FixtureGap], precision: Precision, expected: [FixtureFile] = FixtureGenerator.generateAll()
    ) -> [FixtureOperation] {
        FixtureOperation.allCases.filter { operation in
            let total = expected.flatMap(\.cases).count { $0.operation == operation && $0.precision == precision }
            let missing = gaps.filter { $0.operation == operation && $0.precision == precision }.reduce(0) { $0 + $1.uncovered }
            return total > 0 && missing == total
        }
    }
}

/// Cases of one generated group (file, operation, precision) that a fixtures directory lacks.
public struct FixtureGap: Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var operation: FixtureOperation
    public var precision: Precision
    /// tcIds the directory does not hold.
    public var absent: [Int] = []
    /// tcIds it holds with another comment, flags, input, expectation, result, tolerance or operation.
    public var different: [Int] = []
    /// How many cases the generated group has.
    public var total: Int
    /// Whether the whole file is missing.
    public var fileAbsent: Bool

    public var uncovered: Int { absent.count + different.count }

    public var description: String {
        let cases = "\(precision.rawValue) \(operation.rawValue) cases"
        if fileAbsent { return "\(file): file absent (\(total) \(cases))" }
        var parts = [String]()
        if !absent.isEmpty { parts.append("\(absent.count) of \(total) \(cases) absent (\(Self.ranges(absent)))") }
        if !different.isEmpty {
            parts.append("\(different.count) of \(total) \(cases) differ from the fixtures this adar generates (\(Self.ranges(different)))")
        }
        return "\(file): " + parts.joined(separator: "; ")
    }

    /// `tcIds 1–4, 9` (at most eight runs, then `…`).
    static func ranges(_ ids: [Int]) -> String {
        var runs = [(Int, Int)]()
        for id in ids.sorted() {
            if let last = runs.last, last.1 + 1 == id { runs[runs.count - 1].1 = id } else { runs.append((id, id)) }
        }
        let shown = runs.prefix(8).map { $0.0 == $0.1 ? "\($0.0)" : "\($0.0)–\($0.1)" }
        return (ids.count == 1 ? "tcId " : "tcIds ") + shown.joined(separator: ", ") + (runs.count > 8 ? ", …" : "")
    }
}
