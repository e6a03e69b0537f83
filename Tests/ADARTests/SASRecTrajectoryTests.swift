import Foundation
import Testing
import ADARCore
import ADARData
import ADARLayers
import ADARTraining

/// What a one-batch same-weights check cannot see (issue 11 §3): the state SASRec's training carries from step to
/// step. `SASRecTrainer`'s steps must equal S10's forward, BCE and backward with a fresh gradient per step followed
/// by Adam with SASRec.pytorch's betas (0.9, 0.98); `adar sasrec-gradient`'s "training" answer hands those steps to
/// Bench/pytorch/sasrec_same_weights.py, which repeats them in PyTorch.
@Suite("SASRec trajectory: the trainer's Adam steps, and sasrec-gradient's training answer")
struct SASRecTrajectoryTests {
    static let model = try! SASRecConfiguration(items: 30, dimension: 8, length: 6, blocks: 2, heads: 1, dropout: 0.2)
    static let data = SequenceData.synthetic(users: 9, items: 30, length: 9, seed: 5)

    /// The parameters after each of the first `steps` steps of epochs 1, 2, … (batches of 4 of 9 users), recomposed
    /// from the layers with a fresh zero gradient per step and `Adam(β₁, β₂)`.
    static func recomposed(steps: Int, beta2: Double) throws -> [[Float]] {
        let trainer = try SASRecTrainer(data: data, configuration: SASRecTrainingConfiguration(model: model, batchSize: 4), seed: 7)
        var encoder = SASRecEncoder<Float>(configuration: model, seed: 7)
        var adam = try Adam<Float>(count: encoder.layout.count, learningRate: 1e-3, beta1: 0.9, beta2: beta2)
        let workspace = SASRecWorkspace<Float>(configuration: model, sequences: 4)
        var after: [[Float]] = []
        try eachStep(of: trainer, count: steps) { users, epoch, rowOffset in
            let (ids, positives) = trainer.trainingRows(users)
            let negatives = trainer.drawCandidates(users: users, positives: positives, epoch: epoch, rowOffset: rowOffset, threads: 1)
            let dropout = try Dropout(seed: 7, epoch: epoch, rate: model.dropout, rowOffset: rowOffset)
            var gradient = [Float](repeating: 0, count: encoder.layout.count)
            try encoder.forward(ids, sequences: users.count, dropout: dropout, workspace: workspace, threads: 1)
            _ = try SequenceBCELoss.lossAndGradient(encoder: encoder, workspace: workspace, sequences: users.count,
                                                    positives: positives, negatives: negatives, gradient: &gradient)
            try encoder.backward(ids, sequences: users.count, dropout: dropout, workspace: workspace, gradient: &gradient, threads: 1)
            try adam.step(&encoder.parameters, gradient: gradient, threads: 1)
            after.append(encoder.parameters)
        }
        return after
    }

    /// The first `count` batches (of 4) of epochs 1, 2, … in the trainer's order: users, epoch, the batch's first row.
    static func eachStep(of trainer: SASRecTrainer, count: Int, _ body: ([Int], Int, UInt64) throws -> Void) throws {
        var done = 0, epoch = 0
        while done < count {
            epoch += 1
            let order = trainer.epochOrder(epoch)
            for first in stride(from: 0, to: order.count, by: 4) where done < count {
                try body(Array(order[first ..< min(first + 4, order.count)]), epoch, UInt64(first * model.length))
                done += 1
            }
        }
    }

    /// The trainer's own parameters after each of its first `steps` steps.
    static func trained(steps: Int) throws -> [[Float]] {
        let trainer = try SASRecTrainer(data: data, configuration: SASRecTrainingConfiguration(model: model, batchSize: 4), seed: 7)
        var after: [[Float]] = []
        try eachStep(of: trainer, count: steps) { users, epoch, rowOffset in
            _ = try trainer.trainBatch(users, epoch: epoch, rowOffset: rowOffset, threads: 2)
            after.append(trainer.encoder.parameters)
        }
        return after
    }

    @Test("Seven steps over three epochs (a short last batch each): the trainer equals layers + a fresh gradient + Adam(0.9, 0.98)")
    func trainerStepsRecompose() throws {
        let steps = 7
        let expected = try Self.recomposed(steps: steps, beta2: 0.98), actual = try Self.trained(steps: steps)
        func differing(_ a: [Float], _ b: [Float]) -> Int { zip(a, b).count { $0 != $1 } }
        for step in 0..<steps {
            #expect(differing(actual[step], expected[step]) == 0, "step \(step + 1): parameters differ from the recomposition")
        }
        // The comparison sees a wrong optimiser: with Adam's default β₂ most parameters differ after the last step.
        let otherBeta = try Self.recomposed(steps: steps, beta2: 0.999)
        #expect(differing(otherBeta[steps - 1], actual[steps - 1]) > actual[0].count / 2)
    }

    static let trainingRequest = String(SASRecParityCommandTests.request.dropLast())
        + #", "dropout": {"rate": 0.2, "seed": 3, "epoch": 1, "rowOffset": 0}, "training": {"sequences": [[1, 2, 3, 4, 5], [6, 5, 4], [2, 4, 6, 1, 3, 5], [3, 1]], "batchSize": 3, "steps": 3, "learningRate": 0.001}}"#

    @Test("sasrec-gradient's training answer: per step its epoch, rows, negatives outside the user's training items, and moved parameters")
    func trainingAnswer() throws {
        let folder = try SASRecCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.trainingRequest.write(to: folder.appendingPathComponent("request.json"), atomically: true, encoding: .utf8)
        let result = try ADARExecutable.run(["sasrec-gradient", "--input", "request.json"], in: folder)
        #expect(result.status == 0 && !result.endedBySignal, "\(result.standardError)")
        let answer = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as! [String: Any]
        let steps = try #require(answer["training"] as? [[String: Any]])
        let initial = try #require(answer["parameters"] as? [Double])
        // 4 users, all with a training item, in batches of 3: epoch 1 has two steps (3 and 1 users), epoch 2 the third.
        #expect(steps.map { $0["epoch"] as? Int } == [1, 1, 2])
        #expect(steps.map { ($0["users"] as? [Int])?.count } == [3, 1, 3])
        #expect(steps.map { $0["rowOffset"] as? Int } == [0, 12, 0])
        let training: [[Int]] = [[1, 2, 3], [6], [2, 4, 6, 1], [3, 1]]
        for step in steps {
            let users = try #require(step["users"] as? [Int]), positives = try #require(step["positives"] as? [Int])
            let negatives = try #require(step["negatives"] as? [Int])
            for (r, negative) in negatives.enumerated() {
                #expect((positives[r] == 0) == (negative == 0), "a negative exactly on the rows whose target is an item")
                #expect(!training[users[r / 4]].contains(negative), "negative \(negative) is a training item of user \(users[r / 4])")
            }
            let moved = try #require(step["parameters"] as? [Double])
            #expect(moved.count == initial.count && moved != initial)
        }
    }

    @Test("sasrec-gradient refuses a bad training request with status 65 and the reason", arguments: [
        (#"{"sequences": [[1, 2, 3, 4]], "batchSize": 2, "learningRate": 0.001, "steps": 0}"#, "training.steps is 0; ask for at least 1 step"),
        (#"{"sequences": [[1, 2, 40]], "batchSize": 2, "learningRate": 0.001, "steps": 2}"#, "training.sequences[0] holds an item outside 1…6"),
    ])
    func trainingRefusals(_ training: String, _ message: String) throws {
        let folder = try SASRecCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let body = String(SASRecParityCommandTests.request.dropLast()) + #", "training": "# + training + "}"
        try body.write(to: folder.appendingPathComponent("request.json"), atomically: true, encoding: .utf8)
        let result = try ADARExecutable.run(["sasrec-gradient", "--input", "request.json"], in: folder)
        #expect(result.status == 65 && !result.endedBySignal, "\(result.standardError)")
        #expect(result.standardError.contains(message), "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)
    }
}
