import Foundation
import ArgumentParser
import ADARCore

/// The schedule families of S1 as command-line names.
enum ScheduleName: String, CaseIterable, ExpressibleByArgument {
    case linear, ddpmLinear = "ddpm-linear", scaledLinear = "scaled-linear", cosine
    case linearVariance = "linear-variance", custom
}

/// Schedule parameters shared by `schedule` and `transition` (S1).
struct ScheduleParameters: ParsableArguments {
    @Option(name: [.customShort("T"), .long], help: "Number of diffusion steps T (t = 1…T).")
    var steps: Int = 1000

    @Option(help: "linear / scaled-linear: β start (default 1e-4 / 0.00085).")
    var start: Double?

    @Option(help: "linear / scaled-linear: β end (default 0.02 / 0.012).")
    var end: Double?

    @Option(help: "cosine: offset s.")
    var s: Double = 0.008

    @Option(help: "cosine / linear-variance: clip for β.")
    var maxBeta: Double = 0.999

    @Option(help: "linear-variance: noise scale.")
    var scale: Double = 0.1

    @Option(help: "linear-variance: minimum noise.")
    var min: Double = 1e-4

    @Option(help: "linear-variance: maximum noise.")
    var max: Double = 0.02

    @Option(help: "custom: comma-separated β_1,…,β_T (T is their count).")
    var betas: String?

    func schedule(_ name: ScheduleName) throws -> NoiseSchedule {
        switch name {
        case .linear:
            return try NoiseSchedule(.linear(start: start ?? 1e-4, end: end ?? 0.02), steps: steps)
        case .ddpmLinear:
            return try NoiseSchedule(.ddpmLinear, steps: steps)
        case .scaledLinear:
            return try NoiseSchedule(.scaledLinear(start: start ?? 0.000_85, end: end ?? 0.012), steps: steps)
        case .cosine:
            return try NoiseSchedule(.cosine(s: s, maxBeta: maxBeta), steps: steps)
        case .linearVariance:
            return try NoiseSchedule(.linearVariance(scale: scale, min: min, max: max, maxBeta: maxBeta), steps: steps)
        case .custom:
            guard let betas else { throw ValidationError("custom schedules need --betas β_1,…,β_T") }
            var values = [Double]()
            for (i, field) in betas.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
                let text = field.trimmingCharacters(in: .whitespaces)
                guard let value = Double(text) else {
                    throw ValidationError("--betas: item \(i + 1) (\"\(text)\") is not a number")
                }
                values.append(value)
            }
            return try NoiseSchedule(.custom(betas: values), steps: values.count)
        }
    }
}
