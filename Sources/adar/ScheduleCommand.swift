import Foundation
import ArgumentParser
import ADARCore
import ADARProtocol

struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Print a noise schedule's table: t, β_t, ᾱ_t, √ᾱ_t, √(1 − ᾱ_t) (S1).",
        discussion: """
            Timesteps are 1-based; row t = 0 is the clean sample (ᾱ_0 = 1). Each family takes only its own \
            parameters (linear, scaled-linear: --start, --end; cosine: --s, --max-beta; linear-variance: --scale, \
            --min, --max, --max-beta; custom: --betas; all: -T, which for custom must equal the count of --betas); \
            another family's option is refused. A parameter outside its S1 domain is refused (exit 64), never clamped.
            """
    )

    @Argument(help: "Schedule family: \(ScheduleName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kind: ScheduleName

    @OptionGroup var parameters: ScheduleParameters

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        try parameters.validate(for: kind)
    }

    func run() throws {
        let schedule = try parameters.schedule(kind)
        if json {
            print(JSONValue.object([
                ("kind", .string(schedule.kind.name)),
                ("steps", .integer(schedule.steps)),
                ("beta", .array(schedule.beta.map(JSONValue.number))),
                ("alphaBar", .array(schedule.alphaBar.map(JSONValue.number))),
                ("sqrtAlphaBar", .array(schedule.sqrtAlphaBar.map(JSONValue.number))),
                ("sqrtOneMinusAlphaBar", .array(schedule.sqrtOneMinusAlphaBar.map(JSONValue.number))),
            ]).rendered)
            return
        }
        print("# \(schedule.kind.name), T = \(schedule.steps); t = 0 is the clean sample")
        print(["t", "beta", "alphaBar", "sqrtAlphaBar", "sqrtOneMinusAlphaBar"]
            .map { $0.padding(toLength: $0 == "t" ? 6 : 24, withPad: " ", startingAt: 0) }.joined())
        for t in 0...schedule.steps {
            let cells = [schedule.beta[t], schedule.alphaBar[t], schedule.sqrtAlphaBar[t], schedule.sqrtOneMinusAlphaBar[t]]
                .map { "\($0)".padding(toLength: 24, withPad: " ", startingAt: 0) }
            print("\(t)".padding(toLength: 6, withPad: " ", startingAt: 0) + cells.joined())
        }
    }
}
