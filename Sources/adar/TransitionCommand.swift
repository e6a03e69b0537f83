import ArgumentParser
import ADARCore
import ADARReference
import ADARProtocol

struct TransitionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transition",
        abstract: "The score-aware timestep of one row: status, t*, a*, ᾱ*, π at t* and t* − 1 (S4, S5).",
        discussion: """
            n = σ·‖e_u‖ is the score's noise scale (S2). The status follows S5: degenerateUser (n = 0), \
            alreadyNegative (s0 ≤ s⁻), nonPositiveScore (s0 ≤ 0), else transition or saturated.
            """
    )

    @Option(parsing: .unconditional, help: "Positive score s0 = ⟨e_u, x_0⟩ (finite; may be negative).")
    var s0: Double

    @Option(parsing: .unconditional, help: "Reference negative score s⁻ (S3) (finite; may be negative).")
    var sneg: Double

    @Option(parsing: .unconditional, help: "User norm ‖e_u‖₂ (finite, ≥ 0).")
    var norm: Double

    @Option(parsing: .unconditional, help: "Retention level ρ ∈ (0, 1) (S4.c).")
    var rho: Double = 0.5

    @Option(parsing: .unconditional, help: "Noise scale σ > 0, finite (S2).")
    var sigma: Double = 1

    @Option(help: "Schedule family (see `adar schedule --help`); its parameters as there.")
    var schedule: ScheduleName = .cosine

    @OptionGroup var parameters: ScheduleParameters

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        for (name, value) in [("--s0", s0), ("--sneg", sneg), ("--norm", norm)] where !value.isFinite {
            throw ValidationError("\(name) must be finite (got \(value))")
        }
        guard norm >= 0 else { throw ValidationError("--norm is a norm and must be ≥ 0 (got \(norm))") }
        let config = try configuration()
        guard (config.sigma * norm).isFinite else {
            throw ValidationError("--sigma × --norm = \(sigma) × \(norm) overflows binary64 (S5); use smaller values")
        }
        try parameters.validate(for: schedule)
    }

    /// ρ and σ, validated; a value outside its domain is a usage error naming its option.
    private func configuration() throws -> ADARConfiguration {
        do throws(ADARError) {
            return try ADARConfiguration(rho: rho, sigma: sigma)
        } catch {
            throw ValidationError("--\(error.field): \(error)")
        }
    }

    func run() throws {
        let config = try configuration()
        let table = try parameters.schedule(schedule)
        let n = config.sigma * norm
        let point = ReferenceADAR.transitionPoint(
            positiveScore: s0, referenceNegativeScore: sneg, noiseScale: n, rho: config.rho, schedule: table)
        let fields: [(String, JSONValue)] = [
            ("status", .string(point.status.rawValue)),
            ("timestep", .integer(point.timestep)),
            ("aStar", .number(point.aStar)),
            ("alphaBarStar", .number(point.alphaBarStar)),
            ("retentionAtTimestep", .number(point.retention)),
            ("retentionAtPreviousTimestep", .number(point.previousRetention)),
            ("steps", .integer(table.steps)),
            ("schedule", .string(table.kind.name)),
        ]
        if json {
            print(JSONValue.object(fields).rendered)
        } else {
            for (name, value) in fields {
                if case let .string(text) = value { print("\(name): \(text)") } else { print("\(name): \(value.rendered)") }
            }
        }
    }
}
