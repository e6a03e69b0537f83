import ADARCore
import ADARReference

/// The operations of docs/PORTING.md §2, one fixture file each (invalid inputs aside).
public enum FixtureOperation: String, CaseIterable, Sendable {
    case schedule, forward, transition, synthesize, philox, normals, loss
    /// S9's τ: `PE(t)`, the initial parameters, the forward pass, and one row's denoised reconstruction.
    case pe, tauInit, tauForward, denoise
    /// S3–S6 with S9's `denoised` generator: `synthesize` plus τ's weights and `r_max`.
    case synthesizeDenoised
    /// S9's training step (2): one Adam step of τ on given rows, weights and Adam state.
    case tauStep

    /// Input fields every test of this operation carries (PORTING.md §2).
    public var inputFields: [String] {
        switch self {
        case .schedule: ["schedule", "timesteps"]
        case .forward: ["schedule", "timestep", "sigma", "x0", "epsilon"]
        case .transition: ["schedule", "s0", "sNeg", "userNorm", "sigma", "rho"]
        case .synthesize: ["schedule", "configuration", "user", "positive", "pool", "epsilon"]
        case .philox: ["counter", "key"]
        case .normals: ["seed", "stream", "row", "dimension"]
        case .loss:
            ["schedule", "configuration", "user", "positive", "pool", "status", "timestep", "hardestCandidate", "syntheticNegative"]
        case .pe: ["timestep", "dimension"]
        case .tauInit: ["seed", "dimension"]
        case .tauForward: ["w1", "b1", "w2", "b2", "xt", "timestep", "user"]
        case .denoise: ["schedule", "sigma", "w1", "b1", "w2", "b2", "x0", "epsilon", "timestep", "user"]
        case .synthesizeDenoised: ["schedule", "configuration", "user", "positive", "pool", "epsilon", "w1", "b1", "w2", "b2", "rMax"]
        case .tauStep:
            ["schedule", "sigma", "w1", "b1", "w2", "b2", "firstMoment", "secondMoment", "step", "learningRate",
             "positives", "users", "targetNoise", "timesteps"]
        }
    }

    /// Output fields of a valid answer (PORTING.md §2).
    public var outputFields: [String] {
        switch self {
        case .schedule: ["beta", "alphaBar", "sqrtAlphaBar", "sqrtOneMinusAlphaBar"]
        case .forward: ["xt"]
        case .transition: ["status", "timestep", "aStar", "retention"]
        case .synthesize:
            ["status", "timestep", "aStar", "retention", "positiveScore", "referenceNegativeScore", "syntheticScore",
             "hardestCandidate", "syntheticNegative"]
        case .philox: ["words"]
        case .normals: ["epsilon"]
        case .loss: ["loss", "userGradient", "positiveGradient", "poolGradient"]
        case .pe: ["encoding"]
        case .tauInit: ["w1", "b1", "w2", "b2"]
        case .tauForward: ["epsilonHat"]
        case .denoise: ["epsilonHat", "reconstruction", "ratio"]
        case .synthesizeDenoised:
            ["status", "timestep", "aStar", "retention", "positiveScore", "referenceNegativeScore", "syntheticScore",
             "hardestCandidate", "syntheticNegative", "negativeGenerator"]
        case .tauStep: ["loss", "w1", "b1", "w2", "b2", "firstMoment", "secondMoment"]
        }
    }
}

/// Why an implementation did not answer a request: the input was refused
/// with an `ADARError` (an `invalid` case), or the request itself is malformed
/// (answered as kind `invalidInput`, docs/PORTING.md §3).
public enum EvaluationError: Error, Equatable, CustomStringConvertible {
    case refused(ADARError)
    case malformed(field: String, reason: String)

    public var description: String {
        switch self {
        case let .refused(error): "refused: \(error)"
        case let .malformed(field, reason): "malformed input field \(field): \(reason)"
        }
    }

    /// The `kind` of the error answer: the `ADARError` case name, or `invalidInput`.
    public var kind: String {
        switch self {
        case let .refused(error): error.kind
        case .malformed: "invalidInput"
        }
    }

    public var field: String {
        switch self {
        case let .refused(error): error.field
        case let .malformed(field, _): field
        }
    }

    public var message: String {
        switch self {
        case let .refused(error): error.description
        case let .malformed(_, reason): reason
        }
    }

    /// The `error` object of a protocol response (docs/PORTING.md §3).
    public var json: JSONValue {
        .object([("kind", .string(kind)), ("field", .string(field)), ("message", .string(message))])
    }
}

extension ADARError {
    /// The case name, as the `kind` of an error answer (PORTING.md §3).
    public var kind: String {
        switch self {
        case .nonFinite: "nonFinite"
        case .overflow: "overflow"
        case .shapeMismatch: "shapeMismatch"
        case .invalidSchedule: "invalidSchedule"
        case .invalidConfiguration: "invalidConfiguration"
        case .indexOutOfRange: "indexOutOfRange"
        case .emptyPool: "emptyPool"
        case .limitExceeded: "limitExceeded"
        }
    }

    /// The offending field or schedule parameter.
    public var field: String {
        switch self {
        case let .nonFinite(_, field, _), let .overflow(_, field), let .shapeMismatch(field, _, _),
             let .invalidConfiguration(field, _), let .indexOutOfRange(_, field, _, _), let .limitExceeded(field, _, _):
            field
        case let .invalidSchedule(parameter, _): parameter
        case .emptyPool: "pool"
        }
    }

    /// The kinds a fixture may expect. `limitExceeded` is not one: limits are
    /// adar's (`ADARLimits`), not the spec's, and fixtures stay far inside them.
    public static let kinds = ["nonFinite", "overflow", "shapeMismatch", "invalidSchedule", "invalidConfiguration",
                               "indexOutOfRange", "emptyPool"]
}

/// Turns a typed-throws ADAR call into a refusal.
public func refusing<T>(_ body: () throws(ADARError) -> T) throws(EvaluationError) -> T {
    do { return try body() } catch { throw .refused(error) }
}

/// Refuses non-finite values of `field` as S5 does (row 0: a request is one row).
public func requireFinite(_ values: [Double], field: String) throws(EvaluationError) {
    if let k = values.firstIndex(where: { !$0.isFinite }) { throw .refused(.nonFinite(row: 0, field: field, component: k)) }
}

/// Answers one request of the port protocol with the binary64 reference
/// (`ReferenceADAR`): the source of every expected value in fixtures/ and what
/// `adar port-server --implementation reference` answers. Its input decoders
/// and output encoders are shared by the other in-process ports.
public enum ReferenceEvaluator {
    public static func evaluate(_ operation: FixtureOperation, input value: JSONValue) throws(EvaluationError) -> JSONValue {
        let input = OperationInput(value)
        switch operation {
        case .schedule: return try schedule(input)
        case .forward: return try forward(input)
        case .transition: return try transition(input)
        case .synthesize: return try synthesize(input)
        case .philox: return try philox(input)
        case .normals:
            let (noise, row, d) = try noiseCoordinates(input)
            return .object([("epsilon", .reals(noise.row(row, dimension: d)))])
        case .loss: return try loss(input)
        case .pe: return try positionalEncoding(input)
        case .tauInit: return try tauInit(input)
        case .tauForward: return try tauForward(input)
        case .denoise: return try denoise(input)
        case .synthesizeDenoised: return try synthesizeDenoised(input)
        case .tauStep: return try tauStep(input)
        }
    }

    /// The schedule object of a kind, parameters in the PORTING.md §2 order.
    public static func encodeSchedule(_ kind: ScheduleKind, steps: Int) -> JSONValue {
        var fields: [(String, JSONValue)] = [("kind", .string(kind.name)), ("steps", .integer(steps))]
        switch kind {
        case let .linear(start, end), let .scaledLinear(start, end):
            fields += [("start", .real(start)), ("end", .real(end))]
        case .ddpmLinear: break
        case let .cosine(s, maxBeta): fields += [("s", .real(s)), ("maxBeta", .real(maxBeta))]
        case let .linearVariance(scale, lo, hi, maxBeta):
            fields += [("scale", .real(scale)), ("min", .real(lo)), ("max", .real(hi)), ("maxBeta", .real(maxBeta))]
        case let .custom(betas): fields.append(("betas", .reals(betas)))
        }
        return .object(fields)
    }

    // MARK: - S1

    /// The inputs of `schedule`, validated: the schedule and the requested timesteps.
    public static func scheduleInputs(_ input: OperationInput) throws(EvaluationError) -> (table: NoiseSchedule, steps: [Int]) {
        let table = try input.schedule()
        guard let items = try input.field("timesteps").arrayValue else {
            throw .malformed(field: "timesteps", reason: "timesteps must be an array")
        }
        var steps = [Int]()
        for item in items {
            guard let t = item.intValue, (0...table.steps).contains(t) else {
                throw .malformed(field: "timesteps", reason: "every timestep must be an integer in 0…\(table.steps)")
            }
            steps.append(t)
        }
        return (table, steps)
    }

    /// The four tables at the requested timesteps.
    public static func schedule(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, steps) = try scheduleInputs(input)
        return scheduleOutput(
            beta: steps.map { table.beta[$0] }, alphaBar: steps.map { table.alphaBar[$0] },
            sqrtAlphaBar: steps.map { table.sqrtAlphaBar[$0] }, sqrtOneMinusAlphaBar: steps.map { table.sqrtOneMinusAlphaBar[$0] })
    }

    public static func scheduleOutput(
        beta: [Double], alphaBar: [Double], sqrtAlphaBar: [Double], sqrtOneMinusAlphaBar: [Double]
    ) -> JSONValue {
        .object([
            ("beta", .reals(beta)), ("alphaBar", .reals(alphaBar)),
            ("sqrtAlphaBar", .reals(sqrtAlphaBar)), ("sqrtOneMinusAlphaBar", .reals(sqrtOneMinusAlphaBar)),
        ])
    }

    // MARK: - S2

    /// The inputs of `forward`, validated.
    public static func forwardInputs(_ input: OperationInput) throws(EvaluationError)
        -> (table: NoiseSchedule, t: Int, sigma: Double, x0: [Double], epsilon: [Double]) {
        let table = try input.schedule()
        let t = try input.timestep("timestep", in: table)
        let sigmaInput = try input.real("sigma")
        let sigma = try refusing { () throws(ADARError) in try ADARConfiguration(sigma: sigmaInput).sigma }
        let x0 = try input.reals("x0"), epsilon = try input.reals("epsilon")
        try refusing { () throws(ADARError) in try ADARLimits.check("x0", x0.count, atMost: ADARLimits.maxDimension) }
        try requireFinite(x0, field: "x0")
        guard epsilon.count == x0.count else {
            throw .refused(.shapeMismatch(field: "epsilon", expected: x0.count, actual: epsilon.count))
        }
        try requireFinite(epsilon, field: "epsilon")
        return (table, t, sigma, x0, epsilon)
    }

    /// `x_t`.
    static func forward(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, t, sigma, x0, epsilon) = try forwardInputs(input)
        let xt = ReferenceADAR.forwardSample(x0: x0[...], epsilon: epsilon, timestep: t, schedule: table, sigma: sigma)
        return .object([("xt", .reals(xt))])
    }

    // MARK: - S4, S5

    /// The inputs of `transition`, validated as S5 requires: the schedule,
    /// ρ and σ, finite scores and norm, and `n = σ·‖e_u‖`.
    public static func transitionInputs(_ input: OperationInput) throws(EvaluationError)
        -> (table: NoiseSchedule, config: ADARConfiguration, s0: Double, sNeg: Double, norm: Double) {
        let table = try input.schedule()
        let rho = try input.real("rho"), sigma = try input.real("sigma")
        let config = try refusing { () throws(ADARError) in try ADARConfiguration(rho: rho, sigma: sigma) }
        let s0 = try input.real("s0"), sNeg = try input.real("sNeg"), norm = try input.real("userNorm")
        for (field, value) in [("s0", s0), ("sNeg", sNeg), ("userNorm", norm)] where !value.isFinite {
            throw .refused(.nonFinite(row: 0, field: field, component: 0))
        }
        guard norm >= 0 else { throw .malformed(field: "userNorm", reason: "userNorm = \(norm) is a norm and must be ≥ 0") }
        guard (config.sigma * norm).isFinite else { throw .refused(.overflow(row: 0, field: "noiseScale")) }
        return (table, config, s0, sNeg, norm)
    }

    /// Status, timestep, `a*`, `π` at the timestep.
    static func transition(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, config, s0, sNeg, norm) = try transitionInputs(input)
        let point = ReferenceADAR.transitionPoint(
            positiveScore: s0, referenceNegativeScore: sNeg, noiseScale: config.sigma * norm, rho: config.rho, schedule: table)
        return transitionOutput(status: point.status, timestep: point.timestep, aStar: point.aStar, retention: point.retention)
    }

    public static func transitionOutput(status: RowStatus, timestep: Int, aStar: Double, retention: Double) -> JSONValue {
        .object([
            ("status", .string(status.rawValue)), ("timestep", .integer(timestep)),
            ("aStar", .real(aStar)), ("retention", .real(retention)),
        ])
    }

    // MARK: - S3–S6

    /// The one-row batch and configuration of `synthesize`, validated.
    public static func synthesisInputs(_ input: OperationInput) throws(EvaluationError)
        -> (table: NoiseSchedule, config: ADARConfiguration, batch: ADARBatch) {
        let table = try input.schedule()
        let configuration = try input.object("configuration")
        let rho = try configuration.real("rho"), policy = try configuration.policy(), sigma = try configuration.real("sigma")
        let config = try refusing { () throws(ADARError) in try ADARConfiguration(rho: rho, policy: policy, sigma: sigma) }
        let user = try input.reals("user"), positive = try input.reals("positive"), epsilon = try input.reals("epsilon")
        let (poolSize, pool) = try input.matrix("pool", columns: user.count)
        let batch = try refusing { () throws(ADARError) in
            try ADARBatch(
                rows: 1, dimension: user.count, poolSize: poolSize, users: user, positives: positive,
                pool: pool, noise: .explicit(epsilon))
        }
        return (table, config, batch)
    }

    /// One row's outcome.
    static func synthesize(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, config, batch) = try synthesisInputs(input)
        let outcome = try refusing { () throws(ADARError) in
            try ReferenceADAR.synthesize(batch, schedule: table, configuration: config)[0]
        }
        return synthesisOutput(outcome)
    }

    public static func synthesisOutput(_ o: RowOutcome) -> JSONValue {
        .object([
            ("status", .string(o.status.rawValue)), ("timestep", .integer(o.timestep)),
            ("aStar", .real(o.aStar)), ("retention", .real(o.retention)),
            ("positiveScore", .real(o.positiveScore)), ("referenceNegativeScore", .real(o.referenceNegativeScore)),
            ("syntheticScore", .real(o.syntheticScore)), ("hardestCandidate", .integer(o.hardestCandidate)),
            ("syntheticNegative", .reals(o.syntheticNegative)),
        ])
    }

    // MARK: - S7

    /// The inputs of `loss`, validated: a one-row batch, the configuration and the row's outcome.
    public static func lossInputs(_ input: OperationInput) throws(EvaluationError)
        -> (table: NoiseSchedule, config: ADARConfiguration, batch: ADARBatch, outcome: RowOutcome) {
        let table = try input.schedule()
        let configuration = try input.object("configuration")
        let fallback = try configuration.fallback(), weight = try configuration.real("augmentationWeight")
        let flow = try configuration.gradientFlow(), l2 = try configuration.real("l2")
        let config = try refusing { () throws(ADARError) in
            try ADARConfiguration(fallback: fallback, augmentationWeight: weight, gradientFlow: flow, l2: l2)
        }
        let user = try input.reals("user"), positive = try input.reals("positive"), d = user.count
        let (poolSize, pool) = try input.matrix("pool", columns: d)
        let batch = try refusing { () throws(ADARError) in
            try ADARBatch(
                rows: 1, dimension: d, poolSize: poolSize, users: user, positives: positive,
                pool: pool, noise: .explicit([Double](repeating: 0, count: d)))
        }
        let status = try input.status(), t = try input.timestep("timestep", in: table)
        let hardest = try input.integer("hardestCandidate")
        guard (0..<poolSize).contains(hardest) else {
            throw .refused(.indexOutOfRange(row: 0, field: "hardestCandidate", index: hardest, count: poolSize))
        }
        let xNeg = try input.reals("syntheticNegative")
        guard xNeg.count == d else { throw .refused(.shapeMismatch(field: "syntheticNegative", expected: d, actual: xNeg.count)) }
        try requireFinite(xNeg, field: "syntheticNegative")
        let outcome = RowOutcome(
            status: status, timestep: t, aStar: .nan, retention: .nan, positiveScore: .nan,
            referenceNegativeScore: .nan, syntheticScore: .nan, hardestCandidate: hardest, syntheticNegative: xNeg)
        return (table, config, batch, outcome)
    }

    /// The loss and its gradients.
    static func loss(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, config, batch, outcome) = try lossInputs(input)
        let row = ReferenceADAR.loss(batch, row: 0, outcome: outcome, schedule: table, configuration: config)
        return lossOutput(
            loss: row.loss, user: row.userGradient, positive: row.positiveGradient, pool: row.poolGradient, dimension: batch.dimension)
    }

    public static func lossOutput(loss: Double, user: [Double], positive: [Double], pool: [Double], dimension d: Int) -> JSONValue {
        .object([
            ("loss", .real(loss)), ("userGradient", .reals(user)), ("positiveGradient", .reals(positive)),
            ("poolGradient", .array(stride(from: 0, to: pool.count, by: d).map { .reals(pool[$0 ..< $0 + d]) })),
        ])
    }

    // MARK: - S8 (the same in every precision)

    /// One Philox4x32-10 block.
    public static func philox(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let c = try input.unsigned32s("counter", count: 4), k = try input.unsigned32s("key", count: 2)
        let w = Philox4x32.block(counter: SIMD4(c[0], c[1], c[2], c[3]), key: SIMD2(k[0], k[1]))
        return .object([("words", .integers([w.x, w.y, w.z, w.w].map { Int($0) }))])
    }

    /// The S8 stream's coordinates of a `normals` request.
    public static func noiseCoordinates(_ input: OperationInput) throws(EvaluationError)
        -> (noise: GaussianNoise, row: UInt64, dimension: Int) {
        let seed = try input.unsigned64("seed"), row = try input.unsigned64("row")
        let stream = try input.integer("stream"), d = try input.integer("dimension")
        guard let stream32 = UInt32(exactly: stream) else {
            throw .malformed(field: "stream", reason: "stream must be an unsigned 32-bit integer")
        }
        guard d >= 1 else { throw .refused(.shapeMismatch(field: "dimension", expected: 1, actual: d)) }
        try refusing { () throws(ADARError) in try ADARLimits.check("dimension", d, atMost: ADARLimits.maxDimension) }
        return (GaussianNoise(seed: seed, stream: stream32), row, d)
    }
}
