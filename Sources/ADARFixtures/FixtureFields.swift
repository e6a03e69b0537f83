import ADARCore
import ADARProtocol

/// What a field of an operation's input or output holds (docs/PORTING.md §1, §2).
/// `FixtureLinter` checks values against it and `FixtureSchema` writes it as JSON Schema,
/// so the two never disagree on a field.
indirect enum FieldKind {
    /// A number, or `null` for NaN.
    case real
    case reals
    /// `[M][d]`: an array of arrays of reals.
    case realMatrix
    case integer
    case integers
    /// Unsigned 32-bit integers (Philox counters, keys and words).
    case words32
    /// An unsigned 64-bit integer written as a decimal string (seeds, rows).
    case unsigned64
    /// One of these strings.
    case name([String])
    /// A schedule object `{"kind", "steps", parameters…}` (PORTING.md §2).
    case schedule
    /// An object with exactly these fields.
    case object([(String, FieldKind)])

    static let statuses = RowStatus.allCases.map(\.rawValue)
    /// τ's parameters, or an Adam moment in their shape (S9).
    static let tauParameters = FieldKind.object([("w1", .realMatrix), ("b1", .reals), ("w2", .realMatrix), ("b2", .reals)])

    /// The kind of input field `field` of `operation`.
    static func input(_ field: String, of operation: FixtureOperation) -> FieldKind {
        switch field {
        case "schedule": .schedule
        case "configuration" where operation == .synthesize || operation == .synthesizeDenoised:
            .object([("rho", .real), ("policy", .name(ReferencePolicy.allCases.map(\.rawValue))), ("sigma", .real)])
        case "configuration":
            .object([("augmentationWeight", .real), ("l2", .real), ("fallback", .name(FallbackMode.allCases.map(\.rawValue))),
                     ("gradientFlow", .name(GradientFlow.allCases.map(\.rawValue)))])
        case "timesteps": .integers
        case "timestep", "hardestCandidate", "stream", "dimension", "step": .integer
        case "seed", "row": .unsigned64
        case "status": .name(statuses)
        case "counter", "key": .words32
        case "pool", "w1", "w2", "positives", "users", "targetNoise": .realMatrix
        case "firstMoment", "secondMoment": tauParameters
        case "x0", "epsilon", "user", "positive", "syntheticNegative", "xt", "b1", "b2": .reals
        default: .real
        }
    }

    /// The kind of output field `field` (the same name means the same kind in every operation).
    static func output(_ field: String) -> FieldKind {
        switch field {
        case "status": .name(statuses)
        case "negativeGenerator": .name(["denoised", "forward", "fallback"])
        case "timestep", "hardestCandidate": .integer
        case "words": .words32
        case "poolGradient", "w1", "w2": .realMatrix
        case "firstMoment", "secondMoment": tauParameters
        case "beta", "alphaBar", "sqrtAlphaBar", "sqrtOneMinusAlphaBar", "xt", "syntheticNegative", "epsilon",
             "userGradient", "positiveGradient", "encoding", "b1", "b2", "epsilonHat", "reconstruction":
            .reals
        default: .real
        }
    }

    /// The schedule kinds of S1 and their parameters: required (what a reader cannot default)
    /// and optional (`OperationInput.scheduleKind`'s defaults). Fixtures written by the generator
    /// carry every parameter.
    static let scheduleParameters: [(kind: String, required: [String], optional: [String])] = [
        ("linear", ["steps", "start", "end"], []),
        ("ddpm-linear", ["steps"], []),
        ("scaled-linear", ["steps", "start", "end"], []),
        ("cosine", ["steps"], ["s", "maxBeta"]),
        ("linear-variance", ["steps", "scale", "min", "max"], ["maxBeta"]),
        ("custom", ["betas"], ["steps"]),
    ]
}
