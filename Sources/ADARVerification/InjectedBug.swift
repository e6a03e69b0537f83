import ADAR

/// A deliberate bug planted in the optimised implementation's prepared state
/// (the white-box hooks `SynthesizerMutation` and `TauMutation`), for
/// `adar verify --inject-bug` and the tests to show that the claims catch it
/// and shrink its counterexample. Never used to produce results.
public enum InjectedBug: String, CaseIterable, Sendable {
    case previousAlphaBar = "previous-alpha-bar"
    case wrongRoot = "wrong-root"
    case missingSigma = "missing-sigma"
    case swappedSignalAndNoise = "swapped-signal-and-noise"
    case missingSigmaInReconstruction = "missing-sigma-in-reconstruction"
    case swappedSinCos = "swapped-sin-cos"
    case swappedConcatenation = "swapped-concatenation"

    /// What the bug does, for `--help` (one line each).
    public var summary: String {
        switch self {
        case .previousAlphaBar: "ᾱ_{t−1} instead of ᾱ_t (S4.f, S6)"
        case .wrongRoot: "the other root of S4.d (z negated)"
        case .missingSigma: "n = ‖e_u‖ and x⁻ without σ (S2)"
        case .swappedSignalAndNoise: "√ᾱ_t and √(1 − ᾱ_t) swapped (S2, S6)"
        case .missingSigmaInReconstruction: "denoised x̂_0 = x_0 + r_t·(ε − ε̂), no σ (S9)"
        case .swappedSinCos: "τ's PE(t) with sin and cos exchanged (S9)"
        case .swappedConcatenation: "τ's input [e_u ; PE(t) ; x_t] (S9)"
        }
    }

    package var synthesizerMutation: SynthesizerMutation? {
        switch self {
        case .previousAlphaBar: .previousAlphaBar
        case .wrongRoot: .wrongRoot
        case .missingSigma: .missingSigma
        case .swappedSignalAndNoise: .swappedSignalAndNoise
        case .missingSigmaInReconstruction: .missingSigmaInReconstruction
        case .swappedSinCos, .swappedConcatenation: nil
        }
    }

    package var tauMutation: TauMutation? {
        switch self {
        case .swappedSinCos: .swappedSinCos
        case .swappedConcatenation: .swappedConcatenation
        default: nil
        }
    }
}

/// Where a subject under test came from, so that a shrunk counterexample's
/// Swift test runs the claim against the same implementation.
enum SubjectOrigin: Sendable {
    case optimised
    case injected(InjectedBug)
    /// Closures replaced by a test: the snippet cannot name them.
    case custom

    /// The `subject:` argument of the printed check call (none for the production subject).
    var argument: String {
        switch self {
        case .optimised: ""
        case let .injected(bug): ", subject: .injecting(.\(bug))"
        case .custom: ", subject: <#the test's broken subject#>"
        }
    }
}
