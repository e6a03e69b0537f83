import ADARCore
import ADARReference

/// The binary64 reference (`ReferenceADAR`) answering the protocol.
public struct ReferencePort: ConformancePort {
    public init() {}

    public var name: String { "swift-adar reference (binary64)" }
    public var precision: Precision { .binary64 }
    public var operations: [String] { conformanceOperations }

    public func answer(operation: String, input value: JSONValue) throws(PortRefusal) -> JSONValue {
        let input = OperationInput(value: value)
        switch operation {
        case "schedule": return try Self.schedule(input)
        case "forward": return try Self.forward(input)
        case "transition": return try Self.transition(input)
        case "synthesize": return try Self.synthesize(input)
        case "philox": return try ExactOperations.philox(input)
        case "normals":
            let (noise, row, d) = try ExactOperations.noiseCoordinates(input)
            return .object([("epsilon", .reals(noise.row(row, dimension: d)))])
        case "loss": return try Self.loss(input)
        default: throw .invalid("op", "unknown operation \(operation)")
        }
    }

    /// S1: the four tables at the requested timesteps.
    static func schedule(_ input: OperationInput) throws(PortRefusal) -> JSONValue {
        let table = try input.schedule()
        guard let items = try input.field("timesteps").arrayItems else { throw .invalid("timesteps", "timesteps must be an array") }
        var steps = [Int]()
        for item in items {
            guard let t = item.int, (0...table.steps).contains(t) else {
                throw .invalid("timesteps", "every timestep must be an integer in 0…\(table.steps)")
            }
            steps.append(t)
        }
        return .object([
            ("beta", .reals(steps.map { table.beta[$0] })),
            ("alphaBar", .reals(steps.map { table.alphaBar[$0] })),
            ("sqrtAlphaBar", .reals(steps.map { table.sqrtAlphaBar[$0] })),
            ("sqrtOneMinusAlphaBar", .reals(steps.map { table.sqrtOneMinusAlphaBar[$0] })),
        ])
    }

    /// The inputs shared by `forward` in both precisions, validated.
    static func forwardInputs(_ input: OperationInput) throws(PortRefusal)
        -> (table: NoiseSchedule, t: Int, sigma: Double, x0: [Double], epsilon: [Double]) {
        let table = try input.schedule()
        let t = try input.timestep("timestep", in: table)
        let sigmaInput = try input.real("sigma")
        let sigma = try refusing { () throws(ADARError) in try ADARConfiguration(sigma: sigmaInput).sigma }
        let x0 = try input.reals("x0"), epsilon = try input.reals("epsilon")
        guard epsilon.count == x0.count else {
            throw PortRefusal(ADARError.shapeMismatch(field: "epsilon", expected: x0.count, actual: epsilon.count))
        }
        try requireFinite(x0, field: "x0")
        try requireFinite(epsilon, field: "epsilon")
        return (table, t, sigma, x0, epsilon)
    }

    /// S2: `x_t`.
    static func forward(_ input: OperationInput) throws(PortRefusal) -> JSONValue {
        let (table, t, sigma, x0, epsilon) = try forwardInputs(input)
        let xt = ReferenceADAR.forwardSample(x0: x0[...], epsilon: epsilon, timestep: t, schedule: table, sigma: sigma)
        return .object([("xt", .reals(xt))])
    }

    /// The inputs of `transition`, validated as S5 requires: the schedule,
    /// ρ and σ, finite scores and norm, and `n = σ·‖e_u‖`.
    static func transitionInputs(_ input: OperationInput) throws(PortRefusal)
        -> (table: NoiseSchedule, config: ADARConfiguration, s0: Double, sNeg: Double, norm: Double) {
        let table = try input.schedule()
        let rho = try input.real("rho"), sigma = try input.real("sigma")
        let config = try refusing { () throws(ADARError) in try ADARConfiguration(rho: rho, sigma: sigma) }
        let s0 = try input.real("s0"), sNeg = try input.real("sNeg"), norm = try input.real("userNorm")
        for (field, value) in [("s0", s0), ("sNeg", sNeg), ("userNorm", norm)] where !value.isFinite {
            throw PortRefusal(ADARError.nonFinite(row: 0, field: field, component: 0))
        }
        guard norm >= 0 else { throw .invalid("userNorm", "userNorm = \(norm) is a norm and must be ≥ 0") }
        guard (config.sigma * norm).isFinite else { throw PortRefusal(ADARError.overflow(row: 0, field: "noiseScale")) }
        return (table, config, s0, sNeg, norm)
    }

    /// S4, S5: status, timestep, `a*`, `π` at the timestep.
    static func transition(_ input: OperationInput) throws(PortRefusal) -> JSONValue {
        let (table, config, s0, sNeg, norm) = try transitionInputs(input)
        let point = ReferenceADAR.transitionPoint(
            positiveScore: s0, referenceNegativeScore: sNeg, noiseScale: config.sigma * norm, rho: config.rho, schedule: table)
        return transitionOutput(status: point.status, timestep: point.timestep, aStar: point.aStar, retention: point.retention)
    }

    static func transitionOutput(status: RowStatus, timestep: Int, aStar: Double, retention: Double) -> JSONValue {
        .object([
            ("status", .string(status.rawValue)), ("timestep", .number(Double(timestep))),
            ("aStar", .real(aStar)), ("retention", .real(retention)),
        ])
    }

    /// The one-row batch and configuration of `synthesize`, validated.
    static func synthesisInputs(_ input: OperationInput) throws(PortRefusal)
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

    /// S3–S6: one row's outcome.
    static func synthesize(_ input: OperationInput) throws(PortRefusal) -> JSONValue {
        let (table, config, batch) = try synthesisInputs(input)
        let outcome = try refusing { () throws(ADARError) in
            try ReferenceADAR.synthesize(batch, schedule: table, configuration: config)[0]
        }
        return synthesisOutput(outcome)
    }

    static func synthesisOutput(_ o: RowOutcome) -> JSONValue {
        .object([
            ("status", .string(o.status.rawValue)), ("timestep", .number(Double(o.timestep))),
            ("aStar", .real(o.aStar)), ("retention", .real(o.retention)),
            ("positiveScore", .real(o.positiveScore)), ("referenceNegativeScore", .real(o.referenceNegativeScore)),
            ("syntheticScore", .real(o.syntheticScore)), ("hardestCandidate", .number(Double(o.hardestCandidate))),
            ("syntheticNegative", .reals(o.syntheticNegative)),
        ])
    }

    /// The inputs of `loss`, validated: a one-row batch, the configuration and the row's outcome.
    static func lossInputs(_ input: OperationInput) throws(PortRefusal)
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
            throw PortRefusal(ADARError.indexOutOfRange(row: 0, field: "hardestCandidate", index: hardest, count: poolSize))
        }
        let xNeg = try input.reals("syntheticNegative")
        guard xNeg.count == d else { throw PortRefusal(ADARError.shapeMismatch(field: "syntheticNegative", expected: d, actual: xNeg.count)) }
        try requireFinite(xNeg, field: "syntheticNegative")
        let outcome = RowOutcome(
            status: status, timestep: t, aStar: .nan, retention: .nan, positiveScore: .nan,
            referenceNegativeScore: .nan, syntheticScore: .nan, hardestCandidate: hardest, syntheticNegative: xNeg)
        return (table, config, batch, outcome)
    }

    /// S7: the loss and its gradients.
    static func loss(_ input: OperationInput) throws(PortRefusal) -> JSONValue {
        let (table, config, batch, outcome) = try lossInputs(input)
        let row = ReferenceADAR.loss(batch, row: 0, outcome: outcome, schedule: table, configuration: config)
        return lossOutput(loss: row.loss, user: row.userGradient, positive: row.positiveGradient, pool: row.poolGradient, dimension: batch.dimension)
    }

    static func lossOutput(loss: Double, user: [Double], positive: [Double], pool: [Double], dimension d: Int) -> JSONValue {
        .object([
            ("loss", .real(loss)), ("userGradient", .reals(user)), ("positiveGradient", .reals(positive)),
            ("poolGradient", .array(stride(from: 0, to: pool.count, by: d).map { .reals(pool[$0 ..< $0 + d]) })),
        ])
    }
}
