import ADARCore
import ADARReference

/// S9's τ operations of the port protocol (docs/PORTING.md §2): `pe`,
/// `tauInit`, `tauForward`, `denoise`. The decoders are shared with the
/// optimised port, so both refuse the same inputs with the same error.
extension ReferenceEvaluator {
    // MARK: - Decoding

    /// A timestep of `PE(t)`: any `t ≥ 0` (PE depends on `t` and `d` only, S9).
    public static func encodingTimestep(_ input: OperationInput) throws(EvaluationError) -> Int {
        let t = try input.integer("timestep")
        guard t >= 0 else { throw .refused(.invalidConfiguration(field: "timestep", reason: "t = \(t) must be ≥ 0 (S1: 0 is the clean sample)")) }
        return t
    }

    /// The `dimension` of `pe` and `tauInit`: `d ≥ 1`; for `tauInit` also
    /// `d ≤ 37 837`, so that S9's counter word `⌊k/4⌋`, `k < 12d²`, fits in 32 bits.
    public static func tauDimension(_ input: OperationInput, initialisation: Bool) throws(EvaluationError) -> Int {
        let d = try input.integer("dimension")
        guard d >= 1 else { throw .refused(.shapeMismatch(field: "dimension", expected: 1, actual: d)) }
        if initialisation, d > ReferenceADAR.tauMaxDimension {
            throw .refused(.invalidConfiguration(
                field: "dimension",
                reason: "d = \(d): S9's initialisation counter ⌊k/4⌋ for k < 12d² needs d ≤ \(ReferenceADAR.tauMaxDimension)"))
        }
        try refusing { () throws(ADARError) in
            try ADARLimits.check("dimension", d, atMost: ADARLimits.maxDimension)
            // τ's W₁ alone holds 12d² values: refused before anything is allocated.
            if initialisation { try ADARLimits.checkArrayCount("12·d²", 12 * d, d) }
        }
        return d
    }

    /// τ's parameters for dimension `d`: `w1` `[4d][3d]`, `b1` `[4d]`, `w2` `[d][4d]`, `b2` `[d]`, all finite.
    public static func tauParameters(_ input: OperationInput, dimension d: Int) throws(EvaluationError) -> TauParameters {
        func matrix(_ name: String, rows: Int, columns: Int) throws(EvaluationError) -> [Double] {
            let (count, values) = try input.matrix(name, columns: columns)
            guard count == rows else { throw .refused(.shapeMismatch(field: name, expected: rows, actual: count)) }
            try requireFinite(values, field: name)
            return values
        }
        func vector(_ name: String, count: Int) throws(EvaluationError) -> [Double] {
            let values = try input.reals(name)
            guard values.count == count else { throw .refused(.shapeMismatch(field: name, expected: count, actual: values.count)) }
            try requireFinite(values, field: name)
            return values
        }
        let w1 = try matrix("w1", rows: 4 * d, columns: 3 * d), b1 = try vector("b1", count: 4 * d)
        let w2 = try matrix("w2", rows: d, columns: 4 * d), b2 = try vector("b2", count: d)
        return TauParameters(dimension: d, w1: w1, b1: b1, w2: w2, b2: b2)
    }

    /// A finite vector of `d` values (`d` from the first such field when nil).
    static func tauVector(_ input: OperationInput, _ name: String, count d: Int?) throws(EvaluationError) -> [Double] {
        let values = try input.reals(name)
        if let d, values.count != d { throw .refused(.shapeMismatch(field: name, expected: d, actual: values.count)) }
        if d == nil {
            guard !values.isEmpty else { throw .refused(.shapeMismatch(field: name, expected: 1, actual: 0)) }
            try refusing { () throws(ADARError) in try ADARLimits.check(name, values.count, atMost: ADARLimits.maxDimension) }
        }
        try requireFinite(values, field: name)
        return values
    }

    /// The inputs of `tauForward`, validated.
    public static func tauForwardInputs(_ input: OperationInput) throws(EvaluationError)
        -> (parameters: TauParameters, xt: [Double], t: Int, user: [Double]) {
        let xt = try tauVector(input, "xt", count: nil)
        let user = try tauVector(input, "user", count: xt.count)
        let t = try encodingTimestep(input)
        let parameters = try tauParameters(input, dimension: xt.count)
        return (parameters, xt, t, user)
    }

    /// The inputs of `denoise`, validated: `t` in `0…T` of the schedule.
    public static func denoiseInputs(_ input: OperationInput) throws(EvaluationError)
        -> (table: NoiseSchedule, sigma: Double, parameters: TauParameters, x0: [Double], epsilon: [Double], t: Int, user: [Double]) {
        let table = try input.schedule()
        let sigmaInput = try input.real("sigma")
        let sigma = try refusing { () throws(ADARError) in try ADARConfiguration(sigma: sigmaInput).sigma }
        let x0 = try tauVector(input, "x0", count: nil)
        let epsilon = try tauVector(input, "epsilon", count: x0.count), user = try tauVector(input, "user", count: x0.count)
        let t = try input.integer("timestep")
        guard (0...table.steps).contains(t) else {
            throw .refused(.indexOutOfRange(row: 0, field: "timestep", index: t, count: table.steps + 1))
        }
        let parameters = try tauParameters(input, dimension: x0.count)
        return (table, sigma, parameters, x0, epsilon, t, user)
    }

    /// The inputs of `synthesizeDenoised`: `synthesize`'s, then τ for the row's `d` and `r_max ≥ 0`.
    public static func denoisedSynthesisInputs(_ input: OperationInput) throws(EvaluationError)
        -> (table: NoiseSchedule, config: ADARConfiguration, batch: ADARBatch, parameters: TauParameters, rMax: Double) {
        let (table, config, batch) = try synthesisInputs(input)
        let parameters = try tauParameters(input, dimension: batch.dimension)
        let rMax = try input.real("rMax")
        guard rMax.isFinite, rMax >= 0 else {
            throw .refused(.invalidConfiguration(field: "rMax", reason: "r_max = \(rMax) must be finite and ≥ 0 (S9; default 10)"))
        }
        return (table, config, batch, parameters, rMax)
    }

    /// Which generator made the row's `x⁻`: `denoised`, `forward` (the `r_max` guard) or `fallback` (S5).
    public static func negativeGenerator(status: RowStatus, guarded: Bool) -> String {
        status.isFallback ? "fallback" : guarded ? "forward" : "denoised"
    }

    // MARK: - Encoding

    /// `w1`, `b1`, `w2`, `b2` as the output fields of `tauInit` (and the input fields of the others).
    public static func tauParameterFields(_ p: TauParameters) -> [(String, JSONValue)] {
        let d = p.dimension
        func rows(_ values: [Double], _ columns: Int) -> JSONValue {
            .array(stride(from: 0, to: values.count, by: columns).map { .reals(values[$0 ..< $0 + columns]) })
        }
        return [("w1", rows(p.w1, 3 * d)), ("b1", .reals(p.b1)), ("w2", rows(p.w2, 4 * d)), ("b2", .reals(p.b2))]
    }

    public static func denoiseOutput(epsilonHat: [Double], reconstruction: [Double], ratio: Double) -> JSONValue {
        .object([("epsilonHat", .reals(epsilonHat)), ("reconstruction", .reals(reconstruction)), ("ratio", .real(ratio))])
    }

    // MARK: - Operations

    /// `PE(t)`, `d` values (S9).
    static func positionalEncoding(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let t = try encodingTimestep(input), d = try tauDimension(input, initialisation: false)
        return .object([("encoding", .reals(ReferenceADAR.positionalEncoding(timestep: t, dimension: d)))])
    }

    /// S9's initial parameters for `seed`.
    static func tauInit(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let seed = try input.unsigned64("seed"), d = try tauDimension(input, initialisation: true)
        return .object(tauParameterFields(ReferenceADAR.tauInitialParameters(seed: seed, dimension: d)))
    }

    /// `ε̂ = τ_θ(x_t, PE(t), e_u)`.
    static func tauForward(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (parameters, xt, t, user) = try tauForwardInputs(input)
        return .object([("epsilonHat", .reals(ReferenceADAR.predictNoise(parameters, noisy: xt, timestep: t, user: user)))])
    }

    /// `synthesize` with the `denoised` generator (S9): `x⁻ = x̂_0` on transition and saturated
    /// rows with `r_t ≤ r_max`, `x_t` on rows the guard sends to `forward`, the fallback otherwise.
    static func synthesizeDenoised(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, config, batch, parameters, rMax) = try denoisedSynthesisInputs(input)
        let result = try refusing { () throws(ADARError) in
            try ReferenceADAR.synthesize(batch, schedule: table, configuration: config, generator: .denoised(parameters, maxRatio: rMax))
        }
        let outcome = result.outcomes[0]
        return denoisedSynthesisOutput(outcome, generator: negativeGenerator(status: outcome.status, guarded: result.forwardByRatioGuard == [0]))
    }

    public static func denoisedSynthesisOutput(_ outcome: RowOutcome, generator: String) -> JSONValue {
        guard case let .object(fields) = synthesisOutput(outcome) else { preconditionFailure() }
        return .object(fields + [("negativeGenerator", .string(generator))])
    }

    /// One row of S9's `denoised` generator at a given `t`, without the `r_max`
    /// guard: `x_t`, `ε̂ = τ_θ(x_t, PE(t), e_u)`, `r_t`, `x̂_0 = x_0 + σ·r_t·(ε − ε̂)`.
    static func denoise(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, sigma, parameters, x0, epsilon, t, user) = try denoiseInputs(input)
        let xt = ReferenceADAR.forwardSample(x0: x0[...], epsilon: epsilon, timestep: t, schedule: table, sigma: sigma)
        let epsilonHat = ReferenceADAR.predictNoise(parameters, noisy: xt, timestep: t, user: user)
        let ratio = ReferenceADAR.denoisingRatios(table)[t]
        let reconstruction = ReferenceADAR.denoisedSample(
            x0: x0[...], epsilon: epsilon, predictedNoise: epsilonHat, ratio: ratio, sigma: sigma)
        return denoiseOutput(epsilonHat: epsilonHat, reconstruction: reconstruction, ratio: ratio)
    }
}
