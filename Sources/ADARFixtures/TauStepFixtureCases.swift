import ADARCore
import ADARReference
import ADARProtocol

/// S9's training step: tau_step.json. One Adam step of τ on `B` given rows
/// (x_0, e_u, ε′, t′), from given moments at a given step count. Two
/// sections: cases whose every step direction binary32 determines, and cases
/// of a τ at its target (`AdamDirectionUndetermined`), whose binary32 group
/// allows `4·lr` (S9/E5).
extension FixtureGenerator {
    /// How a case's targets `ε′` are chosen: random, or so that the residual
    /// `ε̂ − ε′` of the listed components is `−δ` (a τ near its target).
    enum TargetPlan {
        case random
        /// Every component of every row at residual magnitude in `[δ, 2δ)`. (Not at δ ≪ √ε = 10⁻⁴ with
        /// zero moments: there ε inside the root and moments updated after the step both leave θ where it is,
        /// and no hint could tell them apart.)
        case converged(Double)
        /// Component 0 of every row at residual magnitude in `[δ, 2δ)`, the others random.
        case firstConverged(Double)
    }

    struct StepPlan {
        var d: Int, rows: Int, step: Int, learningRate: Double, sigma: Double
        var schedule: (Kind, Int) = cosine1000
        var targets = TargetPlan.random
        /// Components of x_0 and ε′ (and of e_u) set to 0 in every row.
        var zeroNoisy: Int?, zeroUser: Int?
        /// `W₂`, `b₂` and `ε′` scaled by this: a small ε̂ and residual whose binary32 error is as small.
        var outputScale = 1.0
        var flags: [String]
        var comment: String
    }

    static func tauStepFile() -> FixtureFile {
        var random = FixtureRandom(seed: 13)
        let lr3 = f32(1e-3), lr2 = f32(1e-2), lrSmall = 0x1p-14
        let determined: [StepPlan] = [
            StepPlan(d: 1, rows: 1, step: 1, learningRate: lr3, sigma: 1, flags: ["AdamFirstStep", "MomentOrder"], comment: "S9's first step, the smallest τ"),
            StepPlan(d: 2, rows: 3, step: 1, learningRate: lr2, sigma: 0.5, flags: ["AdamFirstStep", "MomentOrder", "BatchMean", "NoiseScale", "NoWeightDecay"],
                     comment: "three rows"),
            StepPlan(d: 3, rows: 2, step: 2, learningRate: lr3, sigma: 1, flags: ["AdamBiasCorrection", "BatchMean", "TauBiases"], comment: "s = 2"),
            StepPlan(d: 2, rows: 4, step: 10, learningRate: lr2, sigma: 2, flags: ["AdamBiasCorrection", "BatchMean", "NoiseScale", "NoWeightDecay"],
                     comment: "s = 10"),
            StepPlan(d: 1, rows: 2, step: 1000, learningRate: lr2, sigma: 1, schedule: (linearDefault, 100),
                     flags: ["AdamBiasCorrection", "StepCount", "NoWeightDecay"], comment: "s = 1000, linear T = 100"),
            StepPlan(d: 2, rows: 2, step: 100_000, learningRate: lr2, sigma: 1, flags: ["StepCount", "NoWeightDecay", "Concatenation"],
                     comment: "s = 10⁵: corrections 1"),
            StepPlan(d: 3, rows: 2, step: 1, learningRate: lr3, sigma: 1, zeroNoisy: 1, zeroUser: 0,
                     flags: ["ZeroGradient", "AdamFirstStep"], comment: "x_t′,1 = 0 and e_u,0 = 0: two columns of W₁ without gradient"),
            StepPlan(d: 2, rows: 2, step: 3, learningRate: lr2, sigma: 1, zeroNoisy: 1, zeroUser: 0,
                     flags: ["ZeroGradient", "AdamBiasCorrection", "NoWeightDecay"], comment: "zero gradients at s = 3: only momentum moves"),
            StepPlan(d: 2, rows: 2, step: 1, learningRate: lr3, sigma: 0.5, targets: .converged(5e-4), outputScale: 1e-3,
                     flags: ["AdamEpsilon", "AdamFirstStep", "BatchMean", "NoiseScale"],
                     comment: "an output layer ×10⁻³, residuals ≈ 5·10⁻⁴: |g| ≲ 10⁻³, v̂ ≲ 10⁻⁶"),
        ]
        let undetermined: [StepPlan] = [
            StepPlan(d: 2, rows: 1, step: 1, learningRate: lrSmall, sigma: 1, targets: .converged(1e-4),
                     flags: ["AdamDirectionUndetermined", "AdamEpsilon", "AdamFirstStep"], comment: "τ near its target: |g| ≲ 10⁻⁴, v̂ ≲ 10⁻⁸"),
            StepPlan(d: 2, rows: 2, step: 1, learningRate: lrSmall, sigma: 1, targets: .firstConverged(2e-7),
                     flags: ["AdamDirectionUndetermined", "AdamFirstStep", "BatchMean"], comment: "ε̂_0 at its target: b₂[0] and W₂ row 0 undetermined"),
        ]
        let cases = determined.map { tauStepCase($0, random: &random) }
        let atTarget = undetermined.map { tauStepCase($0, random: &random) }
        return file("tau_step.json", topic: "tauStep",
                    description: "S9 τ training step (2): the batch mean of L_τ = ‖ε′ − τ(x_t′, PE(t′), e_u)‖²/d over given rows, then one Adam step "
                        + "(β₁ 0.9, β₂ 0.999, ε 1e-8, bias-corrected at step s, no weight decay) from given moments; loss before the step.",
                    sections: [(.tauStep, cases), (.tauStep, atTarget)],
                    tolerances: [1: { .tauStepAtTarget(learningRate: lrSmall, precision: $0) }])
    }

    static func tauStepCase(_ plan: StepPlan, random: inout FixtureRandom) -> Case {
        let d = plan.d, table = try! NoiseSchedule(plan.schedule.0, steps: plan.schedule.1)
        var p = tauWeights(seed: UInt64(400 + plan.rows * 10 + d), dimension: d, scale: 1, bias: 0.25, random: &random)
        p.w2 = p.w2.map { f32($0 * plan.outputScale) }
        p.b2 = p.b2.map { f32($0 * plan.outputScale) }
        var positives = [Double](), users = [Double](), targets = [Double](), timesteps = [Int]()
        for _ in 0..<plan.rows {
            var x0 = random.vector(d), user = random.vector(d), target = random.vector(d, scale: 1.5 * plan.outputScale)
            let t = 1 + Int(random.next() % UInt64(table.steps))
            if let k = plan.zeroNoisy { x0[k] = 0; target[k] = 0 }
            if let k = plan.zeroUser { user[k] = 0 }
            switch plan.targets {
            case .random: break
            case let .converged(delta): target = nearTarget(p, x0: x0, user: user, t: t, table: table, sigma: plan.sigma, start: target,
                                                           components: Array(0..<d), delta: delta, random: &random)
            case let .firstConverged(delta): target = nearTarget(p, x0: x0, user: user, t: t, table: table, sigma: plan.sigma, start: target,
                                                                components: [0], delta: delta, random: &random)
            }
            positives += x0; users += user; targets += target; timesteps.append(t)
        }
        // s > 1: moments of the size a history of such gradients leaves (|m| ≲ |g| plus a floor, v ≥ m²).
        var firstMoment = TauParameters.zeros(dimension: d), secondMoment = TauParameters.zeros(dimension: d)
        if plan.step > 1 {
            let g = ReferenceADAR.tauBatchLoss(p, users: users, positives: positives, targets: targets, timesteps: timesteps,
                                               schedule: table, sigma: plan.sigma).gradient.flattened
            let m = g.map { f32($0 * random.float(-1, 1) + random.float(-1e-2, 1e-2)) }
            let v = zip(g, m).map { f32($0 * $0 * random.float(0.2, 2) + $1 * $1 * random.float(1, 2)) }
            firstMoment = TauParameters(dimension: d, flattened: m)
            secondMoment = TauParameters(dimension: d, flattened: v)
        }
        func rows(_ values: [Double]) -> JSONValue { .array(stride(from: 0, to: values.count, by: d).map { .reals(values[$0 ..< $0 + d]) }) }
        let input = JSONValue.object(
            [("schedule", schedule(plan.schedule.0, plan.schedule.1)), ("sigma", .real(plan.sigma))]
                + ReferenceEvaluator.tauParameterFields(p)
                + [("firstMoment", .object(ReferenceEvaluator.tauParameterFields(firstMoment))),
                   ("secondMoment", .object(ReferenceEvaluator.tauParameterFields(secondMoment))),
                   ("step", .integer(plan.step)), ("learningRate", .real(plan.learningRate)),
                   ("positives", rows(positives)), ("users", rows(users)), ("targetNoise", rows(targets)), ("timesteps", .integers(timesteps))])
        return Case(
            comment: "d = \(d), B = \(plan.rows), s = \(plan.step), lr = \(Float(plan.learningRate)), σ = \(plan.sigma): \(plan.comment)",
            flags: plan.flags + (d % 4 != 0 ? ["OddDimension"] : []), input: input)
    }

    /// Targets `ε′` (binary32) whose listed components sit at residual `ε̂ − ε′ = ∓δ·(1 … 2)` with
    /// `ε̂ = τ(x_t′(ε′), PE(t′), e_u)`: the fixed point of `ε′ ← ε̂(ε′) + δ` (x_t′ depends on ε′; the map
    /// contracts for these weights), then rounded once. Rounding moves each residual by at most half an
    /// ulp of `ε′` (≈ 6·10⁻⁸), a fraction of δ.
    static func nearTarget(
        _ p: TauParameters, x0: [Double], user: [Double], t: Int, table: NoiseSchedule, sigma: Double, start: [Double],
        components: [Int], delta: Double, random: inout FixtureRandom
    ) -> [Double] {
        let offsets = components.map { _ in (random.uniform() < 0.5 ? -1 : 1) * delta * (1 + random.uniform()) }
        var target = start
        for _ in 0..<200 {
            let xt = ReferenceADAR.forwardSample(x0: x0[...], epsilon: target, timestep: t, schedule: table, sigma: sigma)
            let predicted = ReferenceADAR.predictNoise(p, noisy: xt, timestep: t, user: user)
            for (k, offset) in zip(components, offsets) { target[k] = predicted[k] + offset }
        }
        let rounded = target.map(f32)
        let xt = ReferenceADAR.forwardSample(x0: x0[...], epsilon: rounded, timestep: t, schedule: table, sigma: sigma)
        let residual = zip(ReferenceADAR.predictNoise(p, noisy: xt, timestep: t, user: user), rounded).map { $0 - $1 }
        for (k, offset) in zip(components, offsets) {
            precondition(abs(residual[k] + offset) <= 0.5 * abs(offset), "tau_step.json: the fixed point for ε′ did not converge (component \(k))")
        }
        return rounded
    }

    /// `tauStep` inputs the reference refuses (d = 2, B = 2, τ `tau`): Adam's state, shapes, t′, NaN.
    static func tauStepInvalidCases(_ tau: [(String, JSONValue)]) -> [InvalidCase] {
        let zeros = JSONValue.object(ReferenceEvaluator.tauParameterFields(.zeros(dimension: 2)))
        let base: [(String, JSONValue)] = [("schedule", ReferenceEvaluator.encodeSchedule(.defaultCosine, steps: 10)), ("sigma", .real(1))] + tau + [
            ("firstMoment", zeros), ("secondMoment", zeros), ("step", .integer(1)), ("learningRate", .real(0x1p-10)),
            ("positives", .array([.reals([0.5, -0.25]), .reals([1, 0.5])])), ("users", .array([.reals([1, 0.5]), .reals([-0.5, 0.25])])),
            ("targetNoise", .array([.reals([1, -1]), .reals([0.5, 2])])), ("timesteps", .integers([3, 10])),
        ]
        func step(_ name: String, _ value: JSONValue, _ comment: String, _ flag: String, _ kind: String, _ field: String) -> InvalidCase {
            InvalidCase(operation: .tauStep, comment: comment, flag: flag,
                        input: .object(base.map { $0.0 == name ? ($0.0, value) : $0 }), kind: kind, field: field)
        }
        var negative = ReferenceEvaluator.tauParameterFields(.zeros(dimension: 2))
        negative[3].1 = .reals([0, -1e-6])
        var shortRows = ReferenceEvaluator.tauParameterFields(.zeros(dimension: 2))
        shortRows[0].1 = .array(Array(shortRows[0].1.arrayValue!.dropLast()))
        return [
            step("learningRate", .real(-0x1p-10), "lr_τ < 0", "InvalidAdamState", "invalidConfiguration", "learningRate"),
            step("learningRate", .real(0), "lr_τ = 0", "InvalidAdamState", "invalidConfiguration", "learningRate"),
            step("step", .integer(0), "s = 0: the bias corrections divide by 1 − β⁰ = 0", "InvalidAdamState", "invalidConfiguration", "step"),
            step("secondMoment", .object(negative), "v < 0", "InvalidAdamState", "invalidConfiguration", "secondMoment.b2"),
            step("firstMoment", .object(shortRows), "m's W₁ with 4d − 1 rows", "ShapeMismatch", "shapeMismatch", "firstMoment.w1"),
            step("users", .array([.reals([1, 0.5])]), "B − 1 rows of e_u", "ShapeMismatch", "shapeMismatch", "users"),
            step("timesteps", .integers([3]), "B − 1 timesteps", "ShapeMismatch", "shapeMismatch", "timesteps"),
            step("timesteps", .integers([0, 10]), "t′ = 0: S9 draws t′ in 1…T", "TimestepOutOfRange", "invalidConfiguration", "timesteps"),
            step("timesteps", .integers([3, 11]), "t′ = T + 1", "TimestepOutOfRange", "invalidConfiguration", "timesteps"),
            step("targetNoise", .array([.reals([1, -1]), .array([.real(0.5), .null])]), "ε′ of row 1 holds a NaN (null)",
                 "NonFiniteInput", "nonFinite", "targetNoise"),
            step("positives", .array([]), "B = 0 rows", "ShapeMismatch", "shapeMismatch", "positives"),
        ]
    }
}
