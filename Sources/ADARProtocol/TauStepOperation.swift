import ADARCore
import ADARReference

/// The validated inputs of `tauStep` (docs/PORTING.md §2): S9's training step
/// (2) on `B` given rows — `x_t′ = √ᾱ_t′·x_0 + √(1 − ᾱ_t′)·σ·ε′`, the batch mean
/// of `L_τ`, and one Adam step at step count `step` from the given moments.
public struct TauStepInputs: Sendable {
    public var table: NoiseSchedule
    public var sigma: Double
    public var parameters: TauParameters
    public var firstMoment: TauParameters
    public var secondMoment: TauParameters
    /// The step count after increment: Adam's bias corrections use `βˢ` with this `s ≥ 1`.
    public var step: Int
    public var learningRate: Double
    /// `B × d`, row-major.
    public var positives: [Double], users: [Double], targets: [Double]
    /// `t′` of each row, in `1…T`.
    public var timesteps: [Int]

    public var dimension: Int { parameters.dimension }
    public var rows: Int { timesteps.count }
}

extension ReferenceEvaluator {
    /// The inputs of `tauStep`, validated: `d` from the first row of `positives`,
    /// `B ≥ 1` rows of `positives`, `users`, `targetNoise` (finite), `timesteps` in
    /// `1…T` (S9 draws `t′ = 1 + ⌊w₀·T/2³²⌋`), τ and both moments in τ's shapes
    /// (finite, `v ≥ 0`), `step ≥ 1`, `learningRate` finite and `> 0`.
    public static func tauStepInputs(_ input: OperationInput) throws(EvaluationError) -> TauStepInputs {
        let table = try input.schedule()
        let sigmaInput = try input.real("sigma")
        let sigma = try refusing { () throws(ADARError) in try ADARConfiguration(sigma: sigmaInput).sigma }
        guard let rowValues = try input.field("positives").arrayValue, rowValues.allSatisfy({ $0.arrayValue != nil }) else {
            throw .malformed(field: "positives", reason: "positives must be an array of arrays")
        }
        guard let d = rowValues.first?.arrayValue?.count else { throw .refused(.shapeMismatch(field: "positives", expected: 1, actual: 0)) }
        guard d >= 1 else { throw .refused(.shapeMismatch(field: "positives[0]", expected: 1, actual: 0)) }
        try refusing { () throws(ADARError) in try ADARLimits.check("positives[0]", d, atMost: ADARLimits.maxDimension) }
        func rowMatrix(_ name: String, rows: Int?) throws(EvaluationError) -> [Double] {
            let (count, values) = try input.matrix(name, columns: d)
            if let rows, count != rows { throw .refused(.shapeMismatch(field: name, expected: rows, actual: count)) }
            if let k = values.firstIndex(where: { !$0.isFinite }) { throw .refused(.nonFinite(row: k / d, field: name, component: k % d)) }
            return values
        }
        let positives = try rowMatrix("positives", rows: nil), rows = positives.count / d
        let users = try rowMatrix("users", rows: rows), targets = try rowMatrix("targetNoise", rows: rows)
        guard let items = try input.field("timesteps").arrayValue else { throw .malformed(field: "timesteps", reason: "timesteps must be an array") }
        guard items.count == rows else { throw .refused(.shapeMismatch(field: "timesteps", expected: rows, actual: items.count)) }
        var timesteps = [Int]()
        for (b, item) in items.enumerated() {
            guard let t = item.intValue else { throw .malformed(field: "timesteps", reason: "timesteps must be integers") }
            guard (1...table.steps).contains(t) else {
                throw .refused(.invalidConfiguration(
                    field: "timesteps", reason: "row \(b): t′ = \(t) is outside 1…T = \(table.steps) (S9 draws t′ = 1 + ⌊w₀·T/2³²⌋)"))
            }
            timesteps.append(t)
        }
        let parameters = try tauParameters(input, dimension: d)
        let firstMoment = try moment(input, "firstMoment", dimension: d)
        let secondMoment = try moment(input, "secondMoment", dimension: d)
        for (name, values) in [("w1", secondMoment.w1), ("b1", secondMoment.b1), ("w2", secondMoment.w2), ("b2", secondMoment.b2)] {
            if let k = values.firstIndex(where: { $0 < 0 }) {
                throw .refused(.invalidConfiguration(
                    field: "secondMoment.\(name)", reason: "entry \(k) is \(values[k]) < 0: Adam's v is a running mean of squares"))
            }
        }
        let step = try input.integer("step")
        guard step >= 1 else {
            throw .refused(.invalidConfiguration(field: "step", reason: "s = \(step): the step count after increment is ≥ 1 (the bias corrections divide by 1 − βˢ)"))
        }
        let learningRate = try input.real("learningRate")
        guard learningRate.isFinite, learningRate > 0 else {
            throw .refused(.invalidConfiguration(field: "learningRate", reason: "lr_τ = \(learningRate) must be finite and > 0 (S9)"))
        }
        return TauStepInputs(
            table: table, sigma: sigma, parameters: parameters, firstMoment: firstMoment, secondMoment: secondMoment, step: step,
            learningRate: learningRate, positives: positives, users: users, targets: targets, timesteps: timesteps)
    }

    /// An Adam moment: an object `{w1, b1, w2, b2}` in τ's shapes; errors name `<name>.<field>`.
    static func moment(_ input: OperationInput, _ name: String, dimension d: Int) throws(EvaluationError) -> TauParameters {
        let object = try input.object(name)
        do {
            return try tauParameters(object, dimension: d)
        } catch let .malformed(field, reason) {
            throw .malformed(field: "\(name).\(field)", reason: reason)
        } catch let .refused(error) {
            throw .refused(error.naming("\(name).\(error.field)"))
        }
    }

    /// `loss` (the batch's `L_τ` before the step), τ and both moments after it.
    public static func tauStepOutput(loss: Double, parameters: TauParameters, firstMoment: TauParameters, secondMoment: TauParameters) -> JSONValue {
        .object([("loss", .real(loss))] + tauParameterFields(parameters) + [
            ("firstMoment", .object(tauParameterFields(firstMoment))), ("secondMoment", .object(tauParameterFields(secondMoment))),
        ])
    }

    /// S9 step (2): the batch mean of `L_τ` (rows in order) and one Adam step of it.
    static func tauStep(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let s = try tauStepInputs(input)
        let batch = ReferenceADAR.tauBatchLoss(
            s.parameters, users: s.users, positives: s.positives, targets: s.targets, timesteps: s.timesteps, schedule: s.table, sigma: s.sigma)
        guard batch.loss.isFinite, batch.gradient.flattened.allSatisfy(\.isFinite) else { throw .refused(.overflow(row: 0, field: "tauGradient")) }
        var trainer = TauTrainer(
            seed: 0, learningRate: s.learningRate, parameters: s.parameters, firstMoment: s.firstMoment, secondMoment: s.secondMoment,
            steps: s.step - 1)
        ReferenceADAR.adamStep(&trainer, gradient: batch.gradient)
        return tauStepOutput(loss: batch.loss, parameters: trainer.parameters, firstMoment: trainer.firstMoment, secondMoment: trainer.secondMoment)
    }
}

extension ADARError {
    /// The same error naming `field` instead.
    func naming(_ field: String) -> ADARError {
        switch self {
        case let .nonFinite(row, _, component): .nonFinite(row: row, field: field, component: component)
        case let .overflow(row, _): .overflow(row: row, field: field)
        case let .shapeMismatch(_, expected, actual): .shapeMismatch(field: field, expected: expected, actual: actual)
        case let .invalidSchedule(_, reason): .invalidSchedule(parameter: field, reason: reason)
        case let .invalidConfiguration(_, reason): .invalidConfiguration(field: field, reason: reason)
        case let .indexOutOfRange(row, _, index, count): .indexOutOfRange(row: row, field: field, index: index, count: count)
        case .emptyPool: self
        case let .limitExceeded(_, limit, actual): .limitExceeded(field: field, limit: limit, actual: actual)
        }
    }
}
