import Foundation
import ADARCore
import ADARProtocol

/// What a port answered to one test case (docs/PORTING.md §3).
public enum PortAnswer: Sendable {
    case output(JSONValue)
    case refused(kind: String, field: String, message: String)
    /// No usable answer: the reason names the failure (timeout, crash, garbage, wrong id, …).
    case noAnswer(String)

    /// Reads one response line; `nil` id when the line is not a response.
    static func parse(_ line: String) -> (id: String, answer: PortAnswer)? {
        guard let response = try? JSONValue.parse(line), let id = response["id"]?.stringValue else { return nil }
        if let output = response["output"], response["error"] == nil { return (id, .output(output)) }
        if let error = response["error"], response["output"] == nil, error.objectFields != nil {
            return (id, .refused(
                kind: error["kind"]?.stringValue ?? "", field: error["field"]?.stringValue ?? "",
                message: error["message"]?.stringValue ?? ""))
        }
        return nil
    }
}

/// The port could not be used at all: it did not start, or did not complete
/// the handshake, so no case was checked (`adar conform` exits 74).
public struct PortFailure: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// Where a run is: after each case, for a progress line (docs/CLI.md "Conformance runner").
public struct ConformanceProgress: Sendable {
    public var file: String
    /// The file's operation (its `operation` topic).
    public var operation: String
    public var fileCasesDone: Int, fileCases: Int
    public var casesDone: Int, cases: Int
}

/// Runs the fixtures against a port (docs/PORTING.md §3, §4).
public struct ConformanceRunner: Sendable {
    public var files: [FixtureFile]
    /// Overrides the precision the port declares (and is the precision of a results file without a handshake).
    public var precision: Precision?
    /// Seconds the port has for each answer.
    public var caseTimeout: Double
    /// Seconds the port has to start and answer the handshake: separate from
    /// `caseTimeout` because loading a framework (e.g. `import torch`) takes
    /// far longer than answering one case.
    public var startupTimeout: Double
    /// Seconds the whole run may take, hints included; cases not reached in time fail.
    public var totalTimeout: Double
    /// Whether the port's stderr is thrown away instead of passed through.
    public var discardPortStandardError: Bool
    /// Called after each case is judged.
    public var progress: (@Sendable (ConformanceProgress) -> Void)?

    /// The longest answer line (port stdout or results file) the runner reads,
    /// in bytes: 16 MiB, far above any fixture's answer (about 1 KiB) yet a
    /// bound on the memory and time one line can take. A longer line fails its
    /// case as "answer too long" (docs/CLI.md "Conformance runner").
    public static let maximumLineBytes = ADARLimits.maxRequestBytes

    public init(
        files: [FixtureFile], precision: Precision? = nil, caseTimeout: Double = 10, startupTimeout: Double = 60,
        totalTimeout: Double = 600, discardPortStandardError: Bool = false
    ) {
        self.files = files
        self.precision = precision
        self.caseTimeout = caseTimeout
        self.startupTimeout = startupTimeout
        self.totalTimeout = totalTimeout
        self.discardPortStandardError = discardPortStandardError
    }

    /// The handshake a port declared.
    struct Declaration {
        var name: String
        var precision: Precision
        var operations: Set<String>
    }

    static func declaration(_ value: JSONValue?) -> Declaration? {
        guard let value, let precision = value["precision"]?.stringValue.flatMap(Precision.init(rawValue:)),
              let operations = value["operations"]?.arrayValue?.compactMap(\.stringValue)
        else { return nil }
        return Declaration(name: value["name"]?.stringValue ?? "unnamed port", precision: precision, operations: Set(operations))
    }

    static let tooLongReason = "answer too long (more than \(maximumLineBytes) bytes, the maximum line length)"

    // MARK: Subprocess mode

    /// Starts `command` as a port and checks every case of its precision.
    /// Throws when the port cannot be started or fails the handshake: then
    /// nothing was checked, and the error says why once, with the end of the
    /// port's stderr.
    public func run(command: [String]) throws(PortFailure) -> ConformanceReport {
        let deadline = Date().addingTimeInterval(totalTimeout)
        let commandLine = command.joined(separator: " ")
        let port: PortProcess
        do {
            port = try PortProcess(command: command, discardStandardError: discardPortStandardError)
        } catch {
            throw PortFailure(description: "could not start the port `\(commandLine)`: \(error)")
        }
        defer { port.finish(grace: 2) }
        let declared = try handshake(port, commandLine: commandLine)

        // Once the port is gone (crash, timeout, time limit), every later case fails with this.
        var gone: String?
        var portEnded = false
        var checked = report(
            name: declared.name, precision: precision ?? declared.precision, operations: declared.operations,
            remarks: [], hintDeadline: deadline
        ) { test in
            if let gone { return .noAnswer(gone) }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                port.kill()
                gone = "no answer (the run's time limit of \(short(totalTimeout)) s was reached)"
                return .noAnswer(gone!)
            }
            port.send(JSONValue.object([("id", .string(test.id)), ("op", .string(test.operation.rawValue)), ("input", test.input)]).rendered)
            while true {
                switch port.nextLine(within: min(caseTimeout, remaining)) {
                case let .line(line):
                    if line.allSatisfy(\.isWhitespace) { continue }
                    guard let (id, answer) = PortAnswer.parse(line) else {
                        return .noAnswer("unparseable response: \(brief(.string(line)))")
                    }
                    guard id == test.id else { return .noAnswer("answered id \(id), expected \(test.id) (out of order)") }
                    return answer
                case .tooLong:
                    return .noAnswer(Self.tooLongReason)
                case .timeout:
                    port.kill()
                    let limit = caseTimeout <= remaining ? "\(short(caseTimeout)) s per case" : "the run's time limit of \(short(totalTimeout)) s"
                    gone = "no answer (timeout: the port was stopped after \(limit), at \(test.id))"
                    return .noAnswer("no answer (timeout after \(limit))")
                case let .ended(how):
                    gone = "port \(how)"
                    portEnded = true
                    return .noAnswer(gone!)
                }
            }
        }
        if portEnded, let tail = port.standardErrorTail(waitingUpTo: 1) {
            checked.remarks.append("the port's stderr ended with: \(tail)")
        }
        return checked
    }

    /// Says hello and reads the port's declaration; throws, after stopping the
    /// port, when it does not give one.
    private func handshake(_ port: PortProcess, commandLine: String) throws(PortFailure) -> Declaration {
        let hello = JSONValue.object([("op", .string("hello"))]).rendered
        port.send(hello)
        let problem: String
        switch port.nextLine(within: min(startupTimeout, totalTimeout)) {
        case let .line(line):
            if let declared = Self.declaration(try? JSONValue.parse(line)) { return declared }
            problem = "answered the handshake \(hello) with \(brief(.string(line))), not {\"name\", \"precision\", \"operations\"} (docs/PORTING.md §3)"
        case .tooLong:
            problem = "answered the handshake \(hello) with a line of more than \(Self.maximumLineBytes) bytes"
        case .timeout:
            let limit = startupTimeout <= totalTimeout ? "\(short(startupTimeout)) s (--startup-timeout)" : "\(short(totalTimeout)) s (--total-timeout)"
            problem = "did not answer the handshake \(hello) within \(limit)"
        case let .ended(how):
            problem = "\(how) before answering the handshake \(hello)"
        }
        port.kill()
        var message = "the port `\(commandLine)` \(problem); no case was checked"
        if let tail = port.standardErrorTail(waitingUpTo: 1) { message += ". Its stderr ended with: \(tail)" }
        throw PortFailure(description: message)
    }

    // MARK: Results-file mode

    /// Checks the bytes of a results file: lines end with LF or CRLF, the last
    /// may have no line end, and a line longer than `maximumLineBytes` is not read.
    public func check(results: Data) -> ConformanceReport {
        var splitter = LineSplitter(maximumBytes: Self.maximumLineBytes)
        let pieces = results.withUnsafeBytes { splitter.feed($0) } + splitter.finish()
        var lines = [String](), tooLong = [Int]()
        for (index, piece) in pieces.enumerated() {
            switch piece {
            case let .text(line): lines.append(line)
            case .tooLong: tooLong.append(index + 1)
            }
        }
        let remarks = tooLong.isEmpty ? [] : [
            "line(s) \(tooLong.prefix(5).map(String.init).joined(separator: ", "))\(tooLong.count > 5 ? ", …" : "") of the results file "
                + "are longer than \(Self.maximumLineBytes) bytes (the maximum line length) and were not read",
        ]
        return check(resultsLines: lines, remarks: remarks)
    }

    /// Checks a file of response lines written by a port, in any order. A
    /// handshake line (`name`, `precision`, `operations`) may come first.
    public func check(resultsLines lines: [String]) -> ConformanceReport {
        check(resultsLines: lines, remarks: [])
    }

    private func check(resultsLines lines: [String], remarks: [String]) -> ConformanceReport {
        let deadline = Date().addingTimeInterval(totalTimeout)
        var answers = [String: PortAnswer]()
        var duplicates = Set<String>()
        var unparseable = 0
        var declared: Declaration?
        for line in lines where !line.allSatisfy(\.isWhitespace) {
            if let (id, answer) = PortAnswer.parse(line) {
                if answers[id] != nil { duplicates.insert(id) }
                answers[id] = answer
            } else if declared == nil, let found = Self.declaration(try? JSONValue.parse(line)) {
                declared = found
            } else {
                unparseable += 1
            }
        }
        let remarks = remarks + (unparseable == 0 ? [] : ["\(unparseable) line(s) of the results file are not responses (unparseable)"])
        return report(
            name: declared?.name ?? "results file", precision: precision ?? declared?.precision ?? .binary64,
            operations: declared?.operations, remarks: remarks, hintDeadline: deadline
        ) { test in
            if duplicates.contains(test.id) { return .noAnswer("answered more than once in the results file") }
            return answers[test.id] ?? .noAnswer("no answer in the results file")
        }
    }

    // MARK: Verdicts

    /// Asks for an answer to every case of `precision`, in file order, and judges it.
    private func report(
        name: String, precision: Precision, operations: Set<String>?, remarks: [String], hintDeadline: Date,
        answer: (FixtureCase) -> PortAnswer
    ) -> ConformanceReport {
        let cases = files.map { $0.cases.filter { $0.precision == precision } }
        let total = cases.reduce(0) { $0 + $1.count }
        var reports = [FileReport]()
        for (file, tests) in zip(files, cases) where !tests.isEmpty {
            var verdicts = [CaseVerdict]()
            for test in tests {
                if let operations, !operations.contains(test.operation.rawValue) {
                    verdicts.append(CaseVerdict(
                        test: test, outcome: .skipped, reason: "the port does not implement \(test.operation.rawValue)", diagnoses: []))
                } else {
                    verdicts.append(Self.judge(test, answer(test), precision: precision, hintDeadline: hintDeadline))
                }
                progress?(ConformanceProgress(
                    file: file.name, operation: file.topic, fileCasesDone: verdicts.count, fileCases: tests.count,
                    casesDone: reports.reduce(verdicts.count) { $0 + $1.verdicts.count }, cases: total))
            }
            reports.append(FileReport(name: file.name, verdicts: verdicts))
        }
        let skipped = Self.hintRemarks(reports)
        let (hints, absence) = ConfirmedHint.confirm(&reports)
        return ConformanceReport(
            portName: name, precision: precision, files: reports, remarks: remarks + skipped + (absence.map { [$0] } ?? []), hints: hints)
    }

    /// One remark per reason hints were not worked out, with how many failing cases it left without.
    static func hintRemarks(_ reports: [FileReport]) -> [String] {
        var skipped = [(reason: String, ids: [String])]()
        for verdict in reports.flatMap(\.verdicts) {
            guard let reason = verdict.hintSkipped else { continue }
            if let index = skipped.firstIndex(where: { $0.reason == reason }) {
                skipped[index].ids.append(verdict.test.id)
            } else {
                skipped.append((reason, [verdict.test.id]))
            }
        }
        return skipped.map { reason, ids in
            "no hint for \(ids.count) failing case(s) (\(ids.prefix(3).joined(separator: ", "))\(ids.count > 3 ? ", …" : "")): \(reason)"
        }
    }

    /// The verdict on one answer (docs/PORTING.md §1: valid / invalid / acceptable).
    /// Hints are worked out only before `hintDeadline` (the run's time limit) and
    /// within `ADARLimits`.
    public static func judge(
        _ test: FixtureCase, _ answer: PortAnswer, precision: Precision, hintDeadline: Date = .distantFuture
    ) -> CaseVerdict {
        var verdict = CaseVerdict(test: test, outcome: .fail, reason: nil, diagnoses: [])
        switch (test.result, answer) {
        case let (_, .noAnswer(reason)):
            verdict.reason = reason
        case let (.invalid, .refused(kind, _, _)):
            verdict.outcome = .pass
            if let wanted = test.expected["error"]?["kind"]?.stringValue, wanted != kind {
                verdict.reason = "refused as \(kind); the fixture names \(wanted)"
            }
        case let (.invalid, .output(output)):
            verdict.reason = "accepted an invalid input (answered \(brief(output)))"
        case let (_, .refused(kind, field, message)):
            verdict.reason = "refused a valid input: \(kind) (\(field)): \(message)"
            do {
                verdict.diagnoses = try Misconception.diagnose(test, refusedAs: kind, deadline: hintDeadline)
            } catch {
                verdict.hintSkipped = error.reason
            }
        case let (.valid, .output(output)), let (.acceptable, .output(output)):
            guard test.expected != .null else {
                verdict.reason = "the fixture has no expected output"
                return verdict
            }
            let comparison = OutputComparison(tolerance: test.tolerance, precision: precision)
            let outcome = comparison.compare(expected: test.expected, got: output)
            verdict.error = outcome.error
            if outcome.passed {
                verdict.outcome = test.result == .valid ? .pass : .acceptable
            } else if test.result == .acceptable, test.alternatives.contains(where: { comparison.compare(expected: $0, got: output).passed }) {
                verdict.outcome = .acceptable
            } else {
                let mismatches = outcome.mismatches
                verdict.reason = mismatches.prefix(3).joined(separator: "; ") + (mismatches.count > 3 ? "; … (\(mismatches.count) mismatches)" : "")
                do {
                    verdict.diagnoses = try Misconception.diagnose(test, answer: output, precision: precision, deadline: hintDeadline)
                } catch {
                    verdict.hintSkipped = error.reason
                }
            }
        }
        return verdict
    }
}
