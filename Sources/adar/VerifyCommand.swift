import Foundation
import ArgumentParser
import ADARVerification
import ADARProtocol

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every claim of Proofs/ numerically on this machine (GSL is the oracle).",
        discussion: """
            One row per claim ID: verdict, what was measured, and the p-value or worst error against its bound. \
            Exit status 1 if any claim fails. Each claim has a fixed default seed; --seed replays another.

            A randomised check that fails shrinks its first failing case to a minimal counterexample and prints \
            it as a ready-to-paste Swift Testing case (docs/Shrinking.md).

            --inject-bug is a demonstration that the claims catch bugs: it plants one deliberate bug in the \
            optimised implementation and runs the claims that compare it with the reference (S6/E*, S7/E1, \
            S9/E*); those that catch it fail and print their minimal counterexample. The bugs:
            \(InjectedBug.allCases.map { "  " + $0.rawValue.padding(toLength: 32, withPad: " ", startingAt: 0) + $0.summary }.joined(separator: "\n"))
            """
    )

    @Option(name: .customLong("claim"), help: "Run only this claim ID (repeatable), e.g. --claim S4.d/T1.")
    var claimIDs: [String] = []

    @Option(help: "Seed for every selected claim's random inputs (default: each claim's fixed seed).")
    var seed: UInt64?

    @Option(help: "Demonstration: plant this deliberate bug in the optimised implementation and run the claims that compare it with the reference (see below).")
    var injectBug: InjectedBug?

    @Flag(help: "List the claim IDs and titles, and run nothing.")
    var list = false

    @Flag(help: "Print JSON lines, one per claim.")
    var json = false

    func run() throws {
        var claims = injectBug.map(Claims.injecting) ?? Claims.all
        if !claimIDs.isEmpty {
            let unknown = claimIDs.filter { id in !claims.contains { $0.id == id } }
            guard unknown.isEmpty else {
                let scope = injectBug == nil ? "" : " with --inject-bug (only \(claims.map(\.id).joined(separator: ", ")) check the optimised implementation)"
                throw CLIError(.usage, "unknown claim ID(s)\(scope): \(unknown.joined(separator: ", ")); `adar verify --list` shows them")
            }
            claims = claims.filter { claimIDs.contains($0.id) }
        }
        if let injectBug, !list {
            print("DEMONSTRATION: the optimised implementation runs with a deliberately injected bug, \(injectBug.rawValue) "
                  + "(\(injectBug.summary)); the claims that catch it FAIL and show a minimal counterexample.")
        }
        if list {
            for claim in claims { print("\(claim.id.padding(toLength: 12, withPad: " ", startingAt: 0)) \(claim.title)") }
            return
        }
        var failures = 0
        for claim in claims {
            let clock = ContinuousClock(), start = clock.now
            let row: String
            do {
                let result = try claim.run(seed: seed)
                let seconds = (clock.now - start) / .seconds(1)
                if !result.passed { failures += 1 }
                row = json ? jsonRow(result, seconds: seconds) : textRow(result, seconds: seconds)
            } catch {
                failures += 1
                row = json
                    ? JSONValue.object([("id", .string(claim.id)), ("passed", .bool(false)), ("error", .string("\(error)"))]).rendered
                    : "\(claim.id.padding(toLength: 12, withPad: " ", startingAt: 0)) ERROR  \(error)"
            }
            print(row)
            fflush(nil)   // a row appears as soon as its claim is done
        }
        if !json {
            print("\(claims.count - failures) passed, \(failures) failed")
        }
        if failures > 0 { throw ExitCode(ExitStatus.checkFailed.rawValue) }
    }

    private func textRow(_ r: ClaimResult, seconds: Double) -> String {
        var text = "\(r.id.padding(toLength: 12, withPad: " ", startingAt: 0)) \(r.passed ? "PASS" : "FAIL")  "
            + "\(r.statistic); \(r.measureText)  [\(String(format: "%.2f", seconds)) s]"
        if !r.worstCase.isEmpty { text += "\n             worst: \(r.worstCase)" }
        if let counterexample = r.counterexample {
            text += "\n             " + counterexample.description.replacingOccurrences(of: "\n", with: "\n             ")
        }
        if !r.passed {
            let replay = injectBug.map { "adar verify --inject-bug \($0.rawValue) --claim \(r.id) --seed \(r.seed)" } ?? r.replay
            text += "\n             replay: \(replay)"
        }
        return text
    }

    private func jsonRow(_ r: ClaimResult, seconds: Double) -> String {
        var fields: [(String, JSONValue)] = [
            ("id", .string(r.id)), ("passed", .bool(r.passed)), ("statistic", .string(r.statistic)),
            ("seed", .string(String(r.seed))), ("worstCase", .string(r.worstCase)), ("seconds", .number(seconds)),
        ]
        if let counterexample = r.counterexample {
            fields += [("counterexample", .string(counterexample.summary)), ("drawnCase", .string(counterexample.drawnSummary)),
                       ("swiftTest", .string(counterexample.swiftTest)), ("shrinkSteps", .integer(counterexample.steps))]
        }
        switch r.measure {
        case let .pValue(p, alpha): fields += [("pValue", .number(p)), ("alpha", .number(alpha))]
        case let .maxError(v, bound, unit): fields += [("maxError", .number(v)), ("bound", .number(bound)), ("unit", .string(unit))]
        case let .exact(m, n): fields += [("mismatches", .integer(m)), ("cases", .integer(n))]
        }
        return JSONValue.object(fields).rendered
    }
}

extension InjectedBug: ExpressibleByArgument {}
