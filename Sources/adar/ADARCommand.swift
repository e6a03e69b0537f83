import ArgumentParser

/// The version `adar --version` prints (semantic versioning); defined only here.
enum ADARVersion {
    static let number = "0.1.0"
}

@main
struct ADARCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adar",
        abstract: "Reference harness for ADAR (Adaptive Diffusion-based Augmentation for Recommendation).",
        discussion: """
            The contract is ADAR-SPEC.md; section numbers (S1…S8) are cited throughout.
            Start with `adar demo` (ADAR against uniform, DNS and AHNS on real MovieLens data) or
            `adar verify` (every claim of Proofs/ checked numerically against GSL).
            Exit statuses: docs/CLI.md. Shell completion: `adar --generate-completion-script bash|zsh|fish`.
            """,
        version: ADARVersion.number,
        subcommands: [
            ScheduleCommand.self, TransitionCommand.self, VerifyCommand.self, DataCommand.self,
            TrainCommand.self, TuneCommand.self, ReportCommand.self, DemoCommand.self,
            FixturesCommand.self, ConformCommand.self, PortServerCommand.self, SASRecGradientCommand.self,
        ]
    )
}
