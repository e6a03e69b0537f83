import Foundation
import ArgumentParser
import ADARCore
import ADARProtocol

/// The schedule families of S1 as command-line names.
enum ScheduleName: String, CaseIterable, ExpressibleByArgument {
    case linear, ddpmLinear = "ddpm-linear", scaledLinear = "scaled-linear", cosine
    case linearVariance = "linear-variance", custom
}

/// Schedule parameters shared by `schedule` and `transition` (S1).
///
/// Every parameter is optional so that giving one the chosen family does not
/// take is refused rather than ignored; defaults are applied per family.
/// Numeric options parse unconditionally, so `--start -0.1` reaches S1's
/// checks (and is refused there) instead of reading as an option.
struct ScheduleParameters: ParsableArguments {
    @Option(name: [.customShort("T"), .long], parsing: .unconditional,
            help: "Number of diffusion steps T (t = 1…T), 1…\(ADARLimits.maxSteps); default 1000. custom: T is the count of --betas, and -T, if given, must equal it.")
    var steps: Int?

    @Option(parsing: .unconditional, help: "linear, scaled-linear: first β, ≤ --end, ≥ 0 for scaled-linear (default 1e-4 linear, 0.00085 scaled-linear).")
    var start: Double?

    @Option(parsing: .unconditional, help: "linear, scaled-linear: last β (default 0.02 linear, 0.012 scaled-linear).")
    var end: Double?

    @Option(parsing: .unconditional, help: "cosine: offset s ≥ 0 (default 0.008).")
    var s: Double?

    @Option(parsing: .unconditional, help: "cosine, linear-variance: clip for β, in (0, 1) (default 0.999).")
    var maxBeta: Double?

    @Option(parsing: .unconditional, help: "linear-variance: noise scale > 0 (default 0.1).")
    var scale: Double?

    @Option(parsing: .unconditional, help: "linear-variance: minimum noise (default 1e-4).")
    var min: Double?

    @Option(parsing: .unconditional, help: "linear-variance: maximum noise, > --min (default 0.02).")
    var max: Double?

    @Option(parsing: .unconditional,
            help: "custom: comma-separated β_1,…,β_T, each in (0, 1) (required); T is their count, at most \(ADARLimits.maxSteps).")
    var betas: String?

    /// The options each family takes besides -T, as spelled on the command line.
    static func options(of family: ScheduleName) -> [String] {
        switch family {
        case .linear, .scaledLinear: ["--start", "--end"]
        case .ddpmLinear: []
        case .cosine: ["--s", "--max-beta"]
        case .linearVariance: ["--scale", "--min", "--max", "--max-beta"]
        case .custom: ["--betas"]
        }
    }

    /// Refuses options `family` does not take, a custom schedule without
    /// `--betas`, and a `-T` that contradicts the count of `--betas`.
    func validate(for family: ScheduleName) throws {
        let given: [(String, Bool)] = [
            ("--start", start != nil), ("--end", end != nil), ("--s", s != nil), ("--max-beta", maxBeta != nil),
            ("--scale", scale != nil), ("--min", min != nil), ("--max", max != nil), ("--betas", betas != nil),
        ]
        let accepted = Self.options(of: family)
        let foreign = given.filter { $0.1 && !accepted.contains($0.0) }.map(\.0)
        if !foreign.isEmpty {
            let takes = accepted.isEmpty ? "only -T" : accepted.joined(separator: ", ") + " and -T"
            throw ValidationError("\(foreign.joined(separator: ", ")) \(foreign.count == 1 ? "does" : "do") not apply to \(family.rawValue) schedules, which take \(takes)")
        }
        guard family == .custom else { return }
        let values = try customBetas()
        if let steps, steps != values.count {
            throw ValidationError("-T \(steps) contradicts --betas, which gives \(values.count) values (T is their count); drop -T or make them agree")
        }
    }

    /// `--betas` as numbers.
    private func customBetas() throws -> [Double] {
        guard let betas else { throw ValidationError("custom schedules need --betas β_1,…,β_T") }
        var values = [Double]()
        for (i, field) in betas.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let text = field.trimmingCharacters(in: .whitespaces)
            guard let value = Double(text) else {
                throw ValidationError("--betas: item \(i + 1) (\"\(text)\") is not a number")
            }
            values.append(value)
        }
        return values
    }

    /// The validated S1 schedule; a parameter S1 refuses is a usage error naming its option.
    func schedule(_ family: ScheduleName) throws -> NoiseSchedule {
        let steps = steps ?? 1000
        let kind: ScheduleKind = switch family {
        case .linear: .linear(start: start ?? 1e-4, end: end ?? 0.02)
        case .ddpmLinear: .ddpmLinear
        case .scaledLinear: .scaledLinear(start: start ?? 0.000_85, end: end ?? 0.012)
        case .cosine: .cosine(s: s ?? 0.008, maxBeta: maxBeta ?? 0.999)
        case .linearVariance: .linearVariance(scale: scale ?? 0.1, min: min ?? 1e-4, max: max ?? 0.02, maxBeta: maxBeta ?? 0.999)
        case .custom: .custom(betas: try customBetas())
        }
        do throws(ADARError) {
            if case let .custom(values) = kind { return try NoiseSchedule(kind, steps: values.count) }
            return try NoiseSchedule(kind, steps: steps)
        } catch {
            throw CLIError(.usage, "\(Self.option(naming: error, in: family)): \(error)")
        }
    }

    /// The option behind the field or parameter an S1 refusal names.
    static func option(naming error: ADARError, in family: ScheduleName) -> String {
        if family == .custom { return "--betas" }
        let field = error.field
        // A computed β out of range comes from the family's parameters together.
        if field.hasPrefix("beta[") { return (options(of: family) + ["-T"]).joined(separator: ", ") }
        return switch field {
        case "steps": "-T"
        case "start/end": "--start/--end"
        case "maxBeta": "--max-beta"
        default: "--\(field)"
        }
    }
}
