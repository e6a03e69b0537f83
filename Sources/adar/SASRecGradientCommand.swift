import Foundation
import ArgumentParser
import ADARCore
import ADARData
import ADARLayers
import ADARTraining

/// Hidden: one SASRec forward, S10's BCE and the backward (dropout off, or given masks) on
/// given (or Swift-initialised) weights and rows — the Swift half of the
/// same-weights check against the PyTorch peer (Bench/pytorch/sasrec_same_weights.py,
/// docs/TRAINING.md "SASRec").
struct SASRecGradientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sasrec-gradient",
        abstract: "SASRec loss and every parameter's gradient on one batch, for the same-weights check (Bench/pytorch/sasrec_same_weights.py).",
        discussion: """
            Reads one JSON request: {"items", "dimension", "length", "blocks", "heads", "ids", "positives", "negatives", \
            "l2" (optional), "dropout" (optional: {"rate", "seed", "epoch", "rowOffset"}, the training masks of `Dropout`; \
            default off), and either "parameters" (the flat array in SASRecLayout's order) or "seed" (Swift's initialisation)}; \
            "ids", "positives" and "negatives" hold one array of `length` item ids per sequence (0 = padding). Optional \
            "evaluation": {"sequences": [[items of each user, oldest first]]} also ranks each user's validation item as \
            `adar train --model sasrec` does (leave-one-out, history excluded) with these weights. Writes one JSON line: \
            {"loss", "rows", "parameters", "hidden", "gradient", "validation" (HR/NDCG@10/20, with "evaluation")}. \
            Optional "training": {"sequences", "batchSize", "steps", "learningRate"} instead runs `SASRecTrainer` (the \
            training of `adar train --model sasrec`, uniform negatives, dropout at the request's rate, seed "seed") from \
            the weights for "steps" Adam steps over epochs 1, 2, … of the users' leave-one-out training sequences and \
            answers "training": per step its "epoch", "rowOffset", "users", "ids", "positives", "negatives", "loss" and the \
            "parameters" after the step. The computation is binary32.
            """,
        shouldDisplay: false
    )

    @Option(help: "The request file (JSON).")
    var input: String

    @Option(help: "A planted bug to apply (a LayerMutation case name), for the check's negative cases.")
    var mutation: String?

    struct Request: Decodable {
        var items, dimension, length, blocks, heads: Int
        var seed: UInt64?
        var parameters: [Float]?
        var ids, positives, negatives: [[Int32]]
        var l2: Double?
        var dropout: DropoutRequest?
        var evaluation: EvaluationRequest?
        var training: TrainingRequest?
    }

    struct TrainingRequest: Decodable {
        var sequences: [[Int32]]
        var batchSize: Int
        var steps: Int
        var learningRate: Double
    }

    struct TrainingStep: Encodable {
        var epoch: Int
        var rowOffset: UInt64
        var users: [Int]
        var ids, positives, negatives: [Int32]
        var loss: Double
        var parameters: [Float]
    }

    struct EvaluationRequest: Decodable {
        var sequences: [[Int32]]
    }

    struct DropoutRequest: Decodable {
        var rate: Double
        var seed: UInt64
        var epoch: Int
        var rowOffset: UInt64
    }

    struct Response: Encodable {
        var loss: Float
        var rows: Int
        var parameters, hidden, gradient: [Float]
        var validation: [String: Double]?
        var training: [TrainingStep]?
    }

    func run() throws {
        let planted = try mutation.map { name throws(CLIError) in
            guard let found = LayerMutation.allCases.first(where: { "\($0)" == name }) else {
                throw CLIError(.usage, "--mutation \(name): not a planted bug; use one of \(LayerMutation.allCases.map { "\($0)" }.joined(separator: ", "))")
            }
            return found
        }
        let request: Request
        do {
            request = try JSONDecoder().decode(Request.self, from: Data(contentsOf: URL(fileURLWithPath: input)))
        } catch let error as DecodingError {
            throw CLIError(.dataError, "\(input): not a sasrec-gradient request: \(error)")
        }
        let r = request
        let model = try SASRecConfiguration(items: r.items, dimension: r.dimension, length: r.length, blocks: r.blocks, heads: r.heads,
                                            dropout: r.dropout?.rate ?? 0)
        let dropout = try r.dropout.map { try Dropout(seed: $0.seed, epoch: $0.epoch, rate: $0.rate, rowOffset: $0.rowOffset) } ?? .none
        let encoder = try r.parameters.map { try SASRecEncoder<Float>(configuration: model, parameters: $0) }
            ?? SASRecEncoder(configuration: model, seed: r.seed ?? 1)
        let sequences = r.ids.count
        for (field, rows) in [("ids", r.ids), ("positives", r.positives), ("negatives", r.negatives)] {
            guard rows.count == sequences else {
                throw CLIError(.dataError, "\(input): \(field) holds \(rows.count) sequences, ids \(sequences); give one array per sequence")
            }
            if let bad = rows.firstIndex(where: { $0.count != r.length }) {
                throw CLIError(.dataError, "\(input): \(field)[\(bad)] holds \(rows[bad].count) ids, not length \(r.length)")
            }
        }
        let workspace = SASRecWorkspace<Float>(configuration: model, sequences: max(sequences, 1))
        let ids = r.ids.flatMap { $0 }
        var gradient = [Float](repeating: 0, count: encoder.layout.count)
        let (loss, rows) = try LayerMutation.$active.withValue(planted) { () throws -> (Float, Int) in
            try encoder.forward(ids, sequences: sequences, dropout: dropout, workspace: workspace, threads: 1)
            let bce = try SequenceBCELoss.lossAndGradient(encoder: encoder, workspace: workspace, sequences: sequences,
                                                          positives: r.positives.flatMap { $0 }, negatives: r.negatives.flatMap { $0 },
                                                          l2: r.l2 ?? 0, gradient: &gradient)
            try encoder.backward(ids, sequences: sequences, dropout: dropout, workspace: workspace, gradient: &gradient, threads: 1)
            return (bce.loss, bce.rows)
        }
        let hidden = Array(UnsafeBufferPointer(start: workspace.hidden, count: sequences * r.length * r.dimension))
        let validation = try r.evaluation.map { evaluation in
            if let user = evaluation.sequences.firstIndex(where: { $0.contains { $0 < 1 || Int($0) > r.items } }) {
                throw CLIError(.dataError, "\(input): evaluation.sequences[\(user)] holds an item outside 1…\(r.items)")
            }
            let data = SequenceData(name: "request", itemCount: r.items, sequences: evaluation.sequences)
            let trainer = try SASRecTrainer(data: data, configuration: SASRecTrainingConfiguration(model: model), seed: 1)
            trainer.encoder = encoder
            let metrics = try trainer.evaluate(.validation, epoch: 0, threads: 1).excludingHistory
            return Dictionary(uniqueKeysWithValues: metrics.cutoffs.flatMap { k in
                [("hr@\(k)", metrics.recall(at: k)), ("ndcg@\(k)", metrics.ndcg(at: k))]
            })
        }
        let training = try r.training.map { t in try trainingSteps(t, model: model, encoder: encoder, seed: r.seed ?? 1) }
        let response = Response(loss: loss, rows: rows, parameters: encoder.parameters, hidden: hidden, gradient: gradient,
                                validation: validation, training: training)
        guard let line = String(data: try JSONEncoder().encode(response), encoding: .utf8) else {
            throw CLIError(.software, "the response is not UTF-8")
        }
        print(line)
    }

    /// `SASRecTrainer`'s first `steps` Adam steps from `encoder`'s weights, each with the rows and negatives it
    /// trained on (drawn as `trainBatch` draws them) and the parameters after it.
    private func trainingSteps(_ t: TrainingRequest, model: SASRecConfiguration, encoder: SASRecEncoder<Float>, seed: UInt64) throws
        -> [TrainingStep]
    {
        if let user = t.sequences.firstIndex(where: { $0.contains { $0 < 1 || Int($0) > model.items } }) {
            throw CLIError(.dataError, "\(input): training.sequences[\(user)] holds an item outside 1…\(model.items)")
        }
        guard t.steps >= 1 else { throw CLIError(.dataError, "\(input): training.steps is \(t.steps); ask for at least 1 step") }
        let data = SequenceData(name: "request", itemCount: model.items, sequences: t.sequences)
        let trainer = try SASRecTrainer(data: data, configuration: SASRecTrainingConfiguration(
            model: model, batchSize: t.batchSize, learningRate: t.learningRate), seed: seed)
        trainer.encoder = encoder
        var steps: [TrainingStep] = []
        var epoch = 0
        while steps.count < t.steps {
            epoch += 1
            let order = trainer.epochOrder(epoch)
            guard !order.isEmpty else { throw CLIError(.dataError, "\(input): training.sequences hold no training item") }
            for first in stride(from: 0, to: order.count, by: t.batchSize) where steps.count < t.steps {
                let users = Array(order[first ..< min(first + t.batchSize, order.count)])
                let rowOffset = UInt64(first * model.length)
                let (ids, positives) = trainer.trainingRows(users)
                let negatives = trainer.drawCandidates(users: users, positives: positives, epoch: epoch, rowOffset: rowOffset, threads: 1)
                let outcome = try trainer.trainBatch(users, epoch: epoch, rowOffset: rowOffset, threads: 1)
                steps.append(TrainingStep(epoch: epoch, rowOffset: rowOffset, users: users, ids: ids, positives: positives,
                                          negatives: negatives, loss: outcome.loss, parameters: trainer.encoder.parameters))
            }
        }
        return steps
    }
}
