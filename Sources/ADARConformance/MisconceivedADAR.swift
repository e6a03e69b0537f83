import Foundation
import ADARCore
import ADARReference
import ADARProtocol

/// The spec re-derived in binary64 with one misconception built in: the
/// expected output a port with that bug would produce (docs/PORTING.md §4).
/// Correct parts reuse the reference's building blocks; only the
/// misconceived step is written out here.
struct MisconceivedADAR {
    let misconception: Misconception

    init(_ misconception: Misconception) { self.misconception = misconception }

    private func has(_ m: Misconception) -> Bool { misconception == m }

    func answer(operation: FixtureOperation, input: OperationInput) throws(EvaluationError) -> JSONValue? {
        switch operation {
        case .schedule: return try schedule(input)
        case .forward: return try forward(input)
        case .transition: return try transition(input)
        case .synthesize: return try synthesize(input)
        case .loss: return try loss(input)
        case .normals: return try normals(input)
        case .pe: return try positionalEncoding(input)
        case .tauForward: return try tauForward(input)
        case .denoise: return try denoise(input)
        case .tauStep: return try tauStep(input)
        case .synthesizeDenoised: return try synthesizeDenoised(input)
        case .philox, .tauInit: return nil
        }
    }

    // MARK: S1 tables as the port sees them

    /// The four tables indexed by the port's t, and the range of t the port
    /// searches for t* (1…T, or 0…T − 1 when its timesteps are 0-based).
    struct Table {
        var beta: [Double], alphaBar: [Double]
        var sqrtAlphaBar: [Double], sqrtOneMinusAlphaBar: [Double]
        var searchRange: ClosedRange<Int>

        /// `t` outside the table reads as NaN (an index the port does not have).
        func at(_ values: [Double], _ t: Int) -> Double { values.indices.contains(t) ? values[t] : .nan }
    }

    func table(_ input: OperationInput) throws(EvaluationError) -> Table? {
        let reference = try input.schedule()
        let (kind, steps) = try input.scheduleKind()
        var betas = Array(reference.beta.dropFirst())
        switch misconception {
        case .linearRescaled:
            // Each direction: `linear` given the 1000/T scaling, `ddpm-linear` without it.
            let scale = 1000 / Double(steps)
            switch kind {
            case let .linear(start, end): betas = (1...steps).map { linspace(start * scale, end * scale, steps: steps, at: $0) }
            case .ddpmLinear: betas = (1...steps).map { linspace(1e-4, 0.02, steps: steps, at: $0) }
            default: return nil
            }
            // Scaled by 1000/T, a short `linear` schedule has β ≥ 1: a port that checks S1's range refuses it.
            if let t = betas.firstIndex(where: { !($0 > 0 && $0 < 1) }) {
                throw .refused(.invalidSchedule(parameter: "beta[\(t + 1)]", reason: "β_\(t + 1) = \(betas[t]) is outside (0, 1)"))
            }
        case .cosineUnclipped:
            guard case let .cosine(s, _) = kind else { return nil }
            let f = { (tau: Double) -> Double in let c = cos((tau + s) / (1 + s) * Double.pi / 2); return c * c }
            betas = (1...steps).map { 1 - f(Double($0) / Double(steps)) / f(Double($0 - 1) / Double(steps)) }
        default: break
        }
        var alphaBar = [1.0]
        if has(.alphaBarBinary32) {
            var product: Float = 1
            for beta in betas { product *= 1 - Float(beta); alphaBar.append(Double(product)) }
        } else {
            for beta in betas { alphaBar.append(alphaBar.last! * (1 - beta)) }
        }
        var beta = [0] + betas
        switch misconception {
        case .alphaBarShiftedOneStep: alphaBar = [1] + alphaBar.dropLast()
        case .betaForAlphaBar: alphaBar = [1] + betas
        case .alphaForAlphaBar: alphaBar = [1] + betas.map { 1 - $0 }
        case .zeroBasedTimesteps:
            beta.removeFirst()
            alphaBar.removeFirst()
        default: break
        }
        let searchRange = has(.zeroBasedTimesteps) ? 0...(steps - 1) : 1...steps
        return Table(
            beta: beta, alphaBar: alphaBar, sqrtAlphaBar: alphaBar.map { $0.squareRoot() },
            sqrtOneMinusAlphaBar: alphaBar.map { (1 - $0).squareRoot() }, searchRange: searchRange)
    }

    func schedule(_ input: OperationInput) throws(EvaluationError) -> JSONValue? {
        guard let table = try table(input), let items = try input.field("timesteps").arrayValue else { return nil }
        let steps = items.compactMap(\.intValue)
        return .object([
            ("beta", .reals(steps.map { table.at(table.beta, $0) })),
            ("alphaBar", .reals(steps.map { table.at(table.alphaBar, $0) })),
            ("sqrtAlphaBar", .reals(steps.map { table.at(table.sqrtAlphaBar, $0) })),
            ("sqrtOneMinusAlphaBar", .reals(steps.map { table.at(table.sqrtOneMinusAlphaBar, $0) })),
        ])
    }

    // MARK: S2

    func forward(_ input: OperationInput) throws(EvaluationError) -> JSONValue? {
        guard let table = try table(input) else { return nil }
        let t = try input.integer("timestep"), sigma = has(.sigmaMissing) ? 1 : try input.real("sigma")
        return .object([("xt", .reals(forwardSample(try input.reals("x0"), try input.reals("epsilon"), timestep: t, table: table, sigma: sigma)))])
    }

    // MARK: S4, S5

    struct Point {
        var status: RowStatus, timestep: Int, aStar: Double, retention: Double
    }

    func transitionPoint(s0: Double, sNeg: Double, n: Double, rho: Double, table: Table) -> Point {
        // statusPrecedence: nonPositiveScore tested before alreadyNegative.
        let status: RowStatus? = if has(.statusPrecedence) {
            n == 0 ? .degenerateUser : s0 <= 0 ? .nonPositiveScore : s0 <= sNeg ? .alreadyNegative : nil
        } else {
            ReferenceADAR.fallbackStatus(positiveScore: s0, referenceNegativeScore: sNeg, noiseScale: n)
        }
        if let status { return Point(status: status, timestep: 0, aStar: .nan, retention: .nan) }
        let aStar = amplitude(s0: s0, sNeg: sNeg, n: n, rho: rho)
        let target = has(.amplitudeForAlphaBarStar) ? aStar : aStar.map { $0 * $0 }
        let crossing = target.flatMap { search(table, alphaBarStar: $0) }
        let t = crossing ?? table.searchRange.upperBound
        let margin = (table.sqrtAlphaBar[t] * s0 - sNeg) / (table.sqrtOneMinusAlphaBar[t] * n)
        return Point(
            status: crossing == nil ? .saturated : .transition, timestep: t,
            aStar: aStar ?? .nan, retention: StandardNormal.cdf(margin))
    }

    /// S4.f's binary search as the reference runs it, over the port's range
    /// of t: on a misconceived table that is not decreasing (β for ᾱ) it finds
    /// what a port following the spec's search finds, not the first crossing.
    func search(_ table: Table, alphaBarStar: Double) -> Int? {
        var low = table.searchRange.lowerBound, high = table.searchRange.upperBound
        guard decides(table.alphaBar[high], alphaBarStar) else { return nil }
        while low < high {
            let mid = (low + high) / 2
            if decides(table.alphaBar[mid], alphaBarStar) { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// S4.f's `ᾱ_t ≤ ᾱ*`, or `<` under `strictTieComparison`.
    func decides(_ alphaBar: Double, _ alphaBarStar: Double) -> Bool {
        has(.strictTieComparison) ? alphaBar < alphaBarStar : alphaBar <= alphaBarStar
    }

    /// S4.d's root, or under `wrongRoot` the other root of the same
    /// quadratic; both formed without cancellation (the larger-magnitude one
    /// directly, the other from the product of roots, S4.e).
    func amplitude(s0: Double, sNeg: Double, n: Double, rho: Double) -> Double? {
        guard has(.wrongRoot) else {
            return ReferenceADAR.transitionAmplitude(positiveScore: s0, referenceNegativeScore: sNeg, noiseScale: n, rho: rho)
        }
        let z = StandardNormal.quantile(rho)
        if z == 0 { return sNeg >= 0 ? sNeg / s0 : nil }
        let zn = abs(z) * n
        let radicand = (s0 - sNeg) * (s0 + sNeg) + zn * zn
        guard radicand >= 0 else { return nil }
        let leading = s0 * sNeg, spread = zn * radicand.squareRoot()
        let denominator = s0 * s0 + zn * zn, product = (sNeg - zn) * (sNeg + zn)
        // q is the root numerator without cancellation; the other numerator is product/q.
        let q = leading >= 0 ? leading + spread : leading - spread
        let plus = leading >= 0 ? q / denominator : product / q
        let minus = leading >= 0 ? product / q : q / denominator
        // S4.d keeps (s_0·s⁻ + z·n·R)/(…): `plus` when z > 0; this takes the other.
        let root = z > 0 ? minus : plus
        return root >= 0 ? root : nil
    }

    func transition(_ input: OperationInput) throws(EvaluationError) -> JSONValue? {
        guard let table = try table(input) else { return nil }
        let sigma = has(.sigmaMissing) ? 1 : try input.real("sigma")
        let point = transitionPoint(
            s0: try input.real("s0"), sNeg: try input.real("sNeg"), n: sigma * (try input.real("userNorm")),
            rho: try input.real("rho"), table: table)
        return ReferenceEvaluator.transitionOutput(
            status: point.status, timestep: point.timestep, aStar: point.aStar, retention: point.retention)
    }

    // MARK: S3–S6

    /// One row of S3–S6 as the port computes it, with what S9's generator needs besides.
    struct Row {
        var outcome: RowOutcome, table: Table, sigma: Double, user: [Double], positive: [Double], epsilon: [Double]
    }

    func synthesisRow(_ input: OperationInput) throws(EvaluationError) -> Row? {
        guard let table = try table(input) else { return nil }
        let configuration = try input.object("configuration")
        var policy = try configuration.policy()
        if has(.policySwapped) { policy = policy == .mean ? .max : policy == .max ? .mean : .first }
        let sigma = has(.sigmaMissing) ? 1 : try configuration.real("sigma")
        let user = try input.reals("user"), x0 = try input.reals("positive"), epsilon = try input.reals("epsilon")
        let (poolSize, pool) = try input.matrix("pool", columns: user.count)
        let d = user.count
        let scores = (0..<poolSize).map { ReferenceADAR.dot(user[...], pool[$0 * d ..< ($0 + 1) * d]) }
        let s0 = ReferenceADAR.dot(user, x0)
        let sNeg = has(.meanIncludesPositive) && policy == .mean
            ? (scores.reduce(0, +) + s0) / Double(poolSize + 1)
            : ReferenceADAR.referenceNegativeScore(poolScores: scores, policy: policy)
        let hardest = ReferenceADAR.hardestCandidate(poolScores: scores)
        let point = transitionPoint(
            s0: s0, sNeg: sNeg, n: sigma * ReferenceADAR.dot(user, user).squareRoot(),
            rho: try configuration.real("rho"), table: table)
        let xNeg = point.status.isFallback
            ? Array(pool[hardest * d ..< (hardest + 1) * d])
            : forwardSample(x0, epsilon, timestep: point.timestep, table: table, sigma: sigma)
        let outcome = RowOutcome(
            status: point.status, timestep: point.timestep, aStar: point.aStar, retention: point.retention,
            positiveScore: s0, referenceNegativeScore: sNeg, syntheticScore: ReferenceADAR.dot(user, xNeg),
            hardestCandidate: hardest, syntheticNegative: xNeg)
        return Row(outcome: outcome, table: table, sigma: sigma, user: user, positive: x0, epsilon: epsilon)
    }

    /// `x_t = √ᾱ_t·x_0 + √(1 − ᾱ_t)·σ·ε` from the port's tables (NaN where the port has no entry).
    func forwardSample(_ x0: [Double], _ epsilon: [Double], timestep t: Int, table: Table, sigma: Double) -> [Double] {
        let signal = table.at(table.sqrtAlphaBar, t), noise = table.at(table.sqrtOneMinusAlphaBar, t)
        return zip(x0, epsilon).map { signal * $0 + noise * (sigma * $1) }
    }

    func synthesize(_ input: OperationInput) throws(EvaluationError) -> JSONValue? {
        try synthesisRow(input).map { ReferenceEvaluator.synthesisOutput($0.outcome) }
    }

    /// `synthesize` with S9's denoised generator: x̂_0 where the port's r_t ≤ r_max, x_t beyond, fallbacks unchanged.
    func synthesizeDenoised(_ input: OperationInput) throws(EvaluationError) -> JSONValue? {
        guard var row = try synthesisRow(input) else { return nil }
        let (_, _, _, parameters, rMax) = try ReferenceEvaluator.denoisedSynthesisInputs(input)
        let t = row.outcome.timestep
        var generator = "fallback"
        if !row.outcome.status.isFallback {
            let (ratio, reconstruction) = denoised(
                parameters, table: row.table, timestep: t, sigma: row.sigma, x0: row.positive, epsilon: row.epsilon, user: row.user)
            if ratio > rMax {
                generator = "forward"
            } else {
                generator = "denoised"
                row.outcome.syntheticNegative = reconstruction
                row.outcome.syntheticScore = ReferenceADAR.dot(row.user, reconstruction)
            }
        }
        return ReferenceEvaluator.denoisedSynthesisOutput(row.outcome, generator: generator)
    }

    // MARK: S7

    func loss(_ input: OperationInput) throws(EvaluationError) -> JSONValue? {
        guard let table = try table(input) else { return nil }
        let (_, reference, batch, outcome) = try ReferenceEvaluator.lossInputs(input)
        var config = reference
        if has(.gradientFlowSwapped) { config.gradientFlow = config.gradientFlow == .detach ? .through : .detach }
        if has(.fallbackSwapped) { config.fallback = config.fallback == .skip ? .hardest : .skip }
        let softplus = has(.naiveSoftplus) ? { (x: Double) in log(1 + exp(x)) } : ReferenceADAR.softplus
        // ∂softplus(−m)/∂m is −σ(−m); under marginGradientSign the port uses +σ(−m) (its λ terms stay right).
        let logistic = has(.marginGradientSign) ? { (x: Double) in -ReferenceADAR.logistic(x) } : ReferenceADAR.logistic

        let d = batch.dimension
        let user = Array(batch.user(0)), positive = Array(batch.positive(0)), negative = Array(batch.candidate(0, 0))
        let s0 = ReferenceADAR.dot(user, positive), sNeg = ReferenceADAR.dot(user, negative)
        var loss = softplus(-(s0 - sNeg))
        let realWeight = logistic(-(s0 - sNeg))
        var gUser = (0..<d).map { -realWeight * (positive[$0] - negative[$0]) }
        var gPositive = user.map { -realWeight * $0 }
        var gPool = [Double](repeating: 0, count: batch.poolSize * d)
        for k in 0..<d { gPool[k] = realWeight * user[k] }
        if (!outcome.status.isFallback || config.fallback == .hardest) && config.augmentationWeight > 0 {
            let xNeg = outcome.syntheticNegative
            let margin = s0 - ReferenceADAR.dot(user, xNeg)
            loss += config.augmentationWeight * softplus(-margin)
            let weight = config.augmentationWeight * logistic(-margin)
            for k in 0..<d {
                gUser[k] -= weight * (positive[k] - xNeg[k])
                gPositive[k] -= weight * user[k]
            }
            if config.gradientFlow == .through {
                if outcome.status.isFallback {
                    for k in 0..<d { gPool[outcome.hardestCandidate * d + k] += weight * user[k] }
                } else {
                    let signal = table.at(table.sqrtAlphaBar, outcome.timestep)
                    for k in 0..<d { gPositive[k] += weight * signal * user[k] }
                }
            }
        }
        let lambda = config.l2
        loss += lambda / 2 * (ReferenceADAR.dot(user, user) + ReferenceADAR.dot(positive, positive) + ReferenceADAR.dot(negative, negative))
        for k in 0..<d {
            gUser[k] += lambda * user[k]
            gPositive[k] += lambda * positive[k]
            gPool[k] += lambda * negative[k]
        }
        return ReferenceEvaluator.lossOutput(loss: loss, user: gUser, positive: gPositive, pool: gPool, dimension: d)
    }

    // MARK: S8

    func normals(_ input: OperationInput) throws(EvaluationError) -> JSONValue? {
        let (noise, row, d) = try ReferenceEvaluator.noiseCoordinates(input)
        var key = noise.key
        if has(.keyHalvesSwapped) { key = SIMD2(key.y, key.x) }
        let unit = { (w: UInt32) -> Double in
            self.has(.unitIntervalWithoutHalf) ? Double(w) * 0x1p-32 : GaussianNoise.unitInterval(w)
        }
        var epsilon = [Double]()
        for q in 0 ..< (d + 3) / 4 {
            var counter = noise.counter(row: row, block: UInt32(q))
            if has(.counterRowHalvesSwapped) { counter = SIMD4(counter.x, counter.z, counter.y, counter.w) }
            if has(.counterWordsReversed) { counter = SIMD4(counter.w, counter.z, counter.y, counter.x) }
            let w = Philox4x32.block(counter: counter, key: key)
            for (w0, w1) in [(w.x, w.y), (w.z, w.w)] {
                let (radial, angular) = has(.boxMullerUniformsSwapped) ? (w1, w0) : (w0, w1)
                let r = (-2 * log(unit(radial))).squareRoot(), theta = 2 * Double.pi * unit(angular)
                let (first, second) = has(.boxMullerLanesSwapped) ? (r * sin(theta), r * cos(theta)) : (r * cos(theta), r * sin(theta))
                epsilon += [first, second]
            }
        }
        return .object([("epsilon", .reals(epsilon.prefix(d)))])
    }

    // MARK: S9 τ

    /// `PE(t)` with this misconception's exponent or sin/cos order.
    func encoding(timestep t: Int, dimension d: Int) -> [Double] {
        (0..<d).map { k in
            let fraction = has(.peIntegerDivision) ? Double((k - k % 2) / d)
                : has(.peExponentK) ? Double(k) / Double(d) : Double(k - k % 2) / Double(d)
            let angle = Double(t) * exp(-fraction * log(10_000.0))
            return (k % 2 == 0) != has(.peSinCosSwapped) ? sin(angle) : cos(angle)
        }
    }

    func predictNoise(_ p: TauParameters, noisy xt: [Double], timestep t: Int, user: [Double]) -> [Double] {
        ReferenceADAR.tauForward(p, input: tauInput(noisy: xt, timestep: t, user: user)).output
    }

    /// τ's input as the port assembles it: its PE, in its concatenation order.
    func tauInput(noisy xt: [Double], timestep t: Int, user: [Double]) -> [Double] {
        let pe = encoding(timestep: t, dimension: xt.count)
        return has(.concatenationSwapped) ? user + pe + xt : xt + pe + user
    }

    func positionalEncoding(_ input: OperationInput) throws(EvaluationError) -> JSONValue? {
        let t = try ReferenceEvaluator.encodingTimestep(input), d = try ReferenceEvaluator.tauDimension(input, initialisation: false)
        return .object([("encoding", .reals(encoding(timestep: t, dimension: d)))])
    }

    func tauForward(_ input: OperationInput) throws(EvaluationError) -> JSONValue? {
        let (parameters, xt, t, user) = try ReferenceEvaluator.tauForwardInputs(input)
        return .object([("epsilonHat", .reals(predictNoise(parameters, noisy: xt, timestep: t, user: user)))])
    }

    func denoise(_ input: OperationInput) throws(EvaluationError) -> JSONValue? {
        let (_, givenSigma, parameters, x0, epsilon, t, user) = try ReferenceEvaluator.denoiseInputs(input)
        guard let table = try table(input) else { return nil }
        let sigma = has(.sigmaMissing) ? 1 : givenSigma
        let xt = forwardSample(x0, epsilon, timestep: t, table: table, sigma: sigma)
        let (ratio, reconstruction) = denoised(parameters, table: table, timestep: t, sigma: sigma, x0: x0, epsilon: epsilon, user: user)
        return ReferenceEvaluator.denoiseOutput(epsilonHat: predictNoise(parameters, noisy: xt, timestep: t, user: user),
                                                reconstruction: reconstruction, ratio: ratio)
    }

    /// S9's `r_t` and `x̂_0 = x_0 + σ·r_t·(ε − ε̂)` with the port's tables, τ and reconstruction.
    func denoised(
        _ parameters: TauParameters, table: Table, timestep t: Int, sigma: Double, x0: [Double], epsilon: [Double], user: [Double]
    ) -> (ratio: Double, reconstruction: [Double]) {
        let xt = forwardSample(x0, epsilon, timestep: t, table: table, sigma: sigma)
        let epsilonHat = predictNoise(parameters, noisy: xt, timestep: t, user: user)
        let alphaBar = table.at(table.alphaBar, t)
        let ratio = has(.ratioAlphaBar) ? (1 - alphaBar).squareRoot() / alphaBar : ((1 - alphaBar) / alphaBar).squareRoot()
        let reconstruction = ReferenceADAR.denoisedSample(
            x0: x0[...], epsilon: epsilon, predictedNoise: epsilonHat, ratio: ratio, sigma: has(.reconstructionSigmaMissing) ? 1 : sigma)
        return (ratio, reconstruction)
    }

    /// S9's training step with this misconception: the batch loss and gradient from the port's
    /// tables, σ, PE and concatenation (as `denoise` builds x_t and τ's input), Adam written out.
    func tauStep(_ input: OperationInput) throws(EvaluationError) -> JSONValue? {
        let s = try ReferenceEvaluator.tauStepInputs(input)
        guard let table = try table(input) else { return nil }
        let d = s.dimension, sigma = has(.sigmaMissing) ? 1 : s.sigma
        let batch = ReferenceADAR.tauBatchMean(rows: s.timesteps.count, dimension: d) { i in
            let slice = i * d ..< (i + 1) * d
            let target = Array(s.targets[slice]), user = Array(s.users[slice]), t = s.timesteps[i]
            let xt = forwardSample(Array(s.positives[slice]), target, timestep: t, table: table, sigma: sigma)
            return ReferenceADAR.tauLoss(s.parameters, input: tauInput(noisy: xt, timestep: t, user: user), target: target)
        }
        let (beta1, beta2, epsilon) = (TauTrainer.beta1, TauTrainer.beta2, TauTrainer.adamEpsilon)
        let step = Double(s.step)
        let correction1 = has(.adamBiasCorrectionMissing) ? 1 : 1 - pow(beta1, step)
        let correction2 = has(.adamBiasCorrectionMissing) ? 1 : 1 - pow(beta2, step)
        var theta = s.parameters.flattened, m = s.firstMoment.flattened, v = s.secondMoment.flattened
        for (k, g) in batch.gradient.flattened.enumerated() {
            let (previousM, previousV) = (m[k], v[k])
            m[k] = beta1 * m[k] + (1 - beta1) * g
            v[k] = beta2 * v[k] + (1 - beta2) * g * g
            let (stepM, stepV) = has(.adamMomentsAfterStep) ? (previousM, previousV) : (m[k], v[k])
            let root = has(.adamEpsilonInsideRoot) ? (stepV / correction2 + epsilon).squareRoot() : (stepV / correction2).squareRoot() + epsilon
            if has(.adamWeightDecay) { theta[k] -= s.learningRate * 0.01 * theta[k] }
            theta[k] -= s.learningRate * (stepM / correction1) / root
        }
        return ReferenceEvaluator.tauStepOutput(
            loss: batch.loss, parameters: TauParameters(dimension: d, flattened: theta),
            firstMoment: TauParameters(dimension: d, flattened: m), secondMoment: TauParameters(dimension: d, flattened: v))
    }
}
