import Foundation
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

/// Runs the fixtures against a port (docs/PORTING.md §3, §4).
public struct ConformanceRunner: Sendable {
    public var files: [FixtureFile]
    /// Overrides the precision the port declares (and is the precision of a results file without a handshake).
    public var precision: Precision?
    /// Seconds the port has for each answer.
    public var caseTimeout: Double
    /// Seconds the whole run may take; cases not reached in time fail.
    public var totalTimeout: Double
    /// Whether the port's stderr is thrown away instead of passed through.
    public var discardPortStandardError: Bool

    public init(
        files: [FixtureFile], precision: Precision? = nil, caseTimeout: Double = 10, totalTimeout: Double = 600,
        discardPortStandardError: Bool = false
    ) {
        self.files = files
        self.precision = precision
        self.caseTimeout = caseTimeout
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

    // MARK: Subprocess mode

    /// Starts `command` as a port and checks every case of its precision.
    public func run(command: [String]) -> ConformanceReport {
        let start = Date()
        let port: PortProcess
        do {
            port = try PortProcess(command: command, discardStandardError: discardPortStandardError)
        } catch {
            return report(name: command.joined(separator: " "), precision: precision ?? .binary64, operations: nil, remarks: []) { _ in
                .noAnswer("could not start the port: \(error)")
            }
        }
        defer { port.finish(grace: 2) }

        port.send(JSONValue.object([("op", .string("hello"))]).rendered)
        let declared: Declaration
        switch port.nextLine(within: min(caseTimeout, totalTimeout)) {
        case let .line(line):
            guard let found = Self.declaration(try? JSONValue.parse(line)) else {
                port.kill()
                let reason = "no answer (the handshake answer \(brief(.string(line))) is not {name, precision, operations})"
                return report(name: command.joined(separator: " "), precision: precision ?? .binary64, operations: nil, remarks: [reason]) { _ in .noAnswer(reason) }
            }
            declared = found
        case .timeout:
            port.kill()
            let reason = "no answer (timeout: no handshake within \(short(caseTimeout)) s)"
            return report(name: command.joined(separator: " "), precision: precision ?? .binary64, operations: nil, remarks: [reason]) { _ in .noAnswer(reason) }
        case let .ended(how):
            return report(name: command.joined(separator: " "), precision: precision ?? .binary64, operations: nil, remarks: [how]) { _ in .noAnswer(how) }
        }

        // Once the port is gone (crash, timeout, time limit), every later case fails with this.
        var gone: String?
        return report(name: declared.name, precision: precision ?? declared.precision, operations: declared.operations, remarks: []) { test in
            if let gone { return .noAnswer(gone) }
            let remaining = totalTimeout - Date().timeIntervalSince(start)
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
                case .timeout:
                    port.kill()
                    let limit = caseTimeout <= remaining ? "\(short(caseTimeout)) s per case" : "the run's time limit of \(short(totalTimeout)) s"
                    gone = "no answer (timeout: the port was stopped after \(limit), at \(test.id))"
                    return .noAnswer("no answer (timeout after \(limit))")
                case let .ended(how):
                    gone = how
                    return .noAnswer(how)
                }
            }
        }
    }

    // MARK: Results-file mode

    /// Checks a file of response lines written by a port, in any order. A
    /// handshake line (`name`, `precision`, `operations`) may come first.
    public func check(resultsLines lines: [String]) -> ConformanceReport {
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
        let remarks = unparseable == 0 ? [] : ["\(unparseable) line(s) of the results file are not responses (unparseable)"]
        return report(
            name: declared?.name ?? "results file", precision: precision ?? declared?.precision ?? .binary64,
            operations: declared?.operations, remarks: remarks
        ) { test in
            if duplicates.contains(test.id) { return .noAnswer("answered more than once in the results file") }
            return answers[test.id] ?? .noAnswer("no answer in the results file")
        }
    }

    // MARK: Verdicts

    /// Asks for an answer to every case of `precision`, in file order, and judges it.
    private func report(
        name: String, precision: Precision, operations: Set<String>?, remarks: [String],
        answer: (FixtureCase) -> PortAnswer
    ) -> ConformanceReport {
        var reports = [FileReport]()
        for file in files {
            var verdicts = [CaseVerdict]()
            for test in file.cases where test.precision == precision {
                if let operations, !operations.contains(test.operation.rawValue) {
                    verdicts.append(CaseVerdict(
                        test: test, outcome: .skipped, reason: "the port does not implement \(test.operation.rawValue)", diagnoses: []))
                    continue
                }
                verdicts.append(Self.judge(test, answer(test), precision: precision))
            }
            if !verdicts.isEmpty { reports.append(FileReport(name: file.name, verdicts: verdicts)) }
        }
        return ConformanceReport(portName: name, precision: precision, files: reports, remarks: remarks)
    }

    /// The verdict on one answer (docs/PORTING.md §1: valid / invalid / acceptable).
    public static func judge(_ test: FixtureCase, _ answer: PortAnswer, precision: Precision) -> CaseVerdict {
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
                verdict.diagnoses = Misconception.diagnose(test, answer: output, precision: precision)
            }
        }
        return verdict
    }
}
