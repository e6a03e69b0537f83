import ADARCore
import ADAREvaluation
import Foundation
import Testing

/// Early stopping on validation NDCG@20 and the sealed test split (docs/PROTOCOL.md).
@Suite("Early stopping and the sealed test split")
struct EarlyStoppingTests {
    /// 0.3 at `peak`, falling quadratically on both sides.
    static func peaked(at peak: Int, _ epoch: Int) -> Double {
        let distance = Double(epoch - peak)
        return 0.3 - 0.001 * distance * distance
    }

    static func settings(every k: Int, patience: Int, max: Int) -> EarlyStoppingSettings {
        try! EarlyStoppingSettings(evaluateEvery: k, patience: patience, maxEpochs: max)
    }

    /// Feeds `curve(epoch)` at every due evaluation until the run stops; the
    /// decisions in order, with their epochs.
    static func run(_ settings: EarlyStoppingSettings, _ curve: (Int) -> Double) throws -> (EarlyStopping, [(Int, Decision)]) {
        var stopping = EarlyStopping(settings)
        var decisions = [(Int, Decision)]()
        while let epoch = stopping.nextEvaluationEpoch {
            decisions.append((epoch, try stopping.record(epoch: epoch, validation: curve(epoch))))
        }
        return (stopping, decisions)
    }

    // MARK: Synthetic curves with a known best epoch

    @Test("Rising then falling: the peak is chosen and the run stops P evaluations later")
    func risingThenFalling() throws {
        // Peak at epoch 25, a multiple of k = 5; P = 2 → evaluations 30 and 35 do not improve, stop at 35.
        let (stopping, decisions) = try Self.run(Self.settings(every: 5, patience: 2, max: 200)) { epoch in
            0.4 - 1e-4 * Double((epoch - 25) * (epoch - 25))
        }
        #expect(decisions.map(\.0) == [5, 10, 15, 20, 25, 30, 35])
        #expect(decisions.map(\.1.isNewBest) == [true, true, true, true, true, false, false])
        #expect(decisions.map(\.1.shouldStop) == [false, false, false, false, false, false, true])
        #expect(stopping.stopReason == .patienceExhausted)
        #expect(stopping.bestEpoch == 25)
        #expect(stopping.bestValue == 0.4)
        #expect(try stopping.chosenModel().bestEpoch == 25)
        #expect(try stopping.chosenModel().stoppedAfterEpoch == 35)
    }

    @Test("A plateau: ties are not improvements, so the earliest epoch of the best value wins")
    func plateauKeepsTheEarliestBest() throws {
        // k = 1, P = 3: 0.1, 0.2, 0.2, 0.2, 0.2 … — epoch 2 is best; 3, 4, 5 tie; stop at 5.
        // A rule counting ties (≥) would move the best to the latest tie and never stop.
        let (stopping, decisions) = try Self.run(Self.settings(every: 1, patience: 3, max: 50)) { $0 == 1 ? 0.1 : 0.2 }
        #expect(decisions.map(\.0) == [1, 2, 3, 4, 5])
        #expect(decisions.map(\.1.isNewBest) == [true, true, false, false, false])
        #expect(stopping.bestEpoch == 2)
        #expect(stopping.stopReason == .patienceExhausted)
    }

    @Test("An improvement after a plateau resets the patience count")
    func improvementResetsPatience() throws {
        let values: [Int: Double] = [1: 0.1, 2: 0.2, 3: 0.2, 4: 0.19, 5: 0.25, 6: 0.25, 7: 0.1, 8: 0.2, 9: 0.3]
        let (stopping, decisions) = try Self.run(Self.settings(every: 1, patience: 3, max: 9)) { values[$0]! }
        // 3, 4 do not improve (count 2 < 3); 5 improves; 6, 7, 8 do not → stop at 8.
        #expect(decisions.map(\.0) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(stopping.bestEpoch == 5)
        #expect(stopping.bestValue == 0.25)
        #expect(stopping.stopReason == .patienceExhausted)
    }

    @Test("Best at the very last allowed epoch: the cap stops the run and that epoch is chosen")
    func bestAtTheLastEpoch() throws {
        let (stopping, decisions) = try Self.run(Self.settings(every: 5, patience: 2, max: 20)) { Double($0) / 100 }
        #expect(decisions.map(\.0) == [5, 10, 15, 20])
        #expect(decisions.last!.1.isNewBest && decisions.last!.1.stopReason == .maxEpochsReached)
        #expect(stopping.bestEpoch == 20)
        #expect(try stopping.chosenModel().stopReason == .maxEpochsReached)
    }

    @Test("Best at the first evaluation: the run stops exactly P evaluations after it")
    func bestAtTheFirstEvaluation() throws {
        for patience in 1...6 {
            let (stopping, decisions) = try Self.run(Self.settings(every: 4, patience: patience, max: 400)) { 1 / Double($0) }
            #expect(decisions.count == patience + 1, "P = \(patience)")
            #expect(decisions.dropLast().allSatisfy { !$0.1.shouldStop }, "P = \(patience): stopped early")
            #expect(decisions.last!.0 == 4 * (patience + 1), "P = \(patience)")
            #expect(stopping.bestEpoch == 4)
            #expect(stopping.evaluationsWithoutImprovement == patience)
        }
    }

    @Test("maxEpochs not a multiple of k: the last epoch is evaluated too, and caps the run")
    func maxEpochsCaps() throws {
        let (stopping, decisions) = try Self.run(Self.settings(every: 5, patience: 100, max: 12)) { Double($0) }
        #expect(decisions.map(\.0) == [5, 10, 12])
        #expect(stopping.stopReason == .maxEpochsReached)
        #expect(stopping.nextEvaluationEpoch == nil)
        // Patience reached at the cap is reported as patience (the documented order).
        let (both, _) = try Self.run(Self.settings(every: 5, patience: 1, max: 10)) { 1 / Double($0) }
        #expect(both.lastEvaluatedEpoch == 10)
        #expect(both.stopReason == .patienceExhausted)
    }

    @Test("Agrees with a brute-force reading of the rule on random curves with ties (seeded)")
    func agreesWithBruteForce() throws {
        let seed = ProcessInfo.processInfo.environment["ADAR_SEED"].flatMap(UInt64.init) ?? 909
        var rng = SeededGenerator(seed: seed)
        for trial in 0..<400 {
            let k = Int(rng.next() % 4) + 1, patience = Int(rng.next() % 5) + 1, maxEpochs = Int(rng.next() % 60) + 1
            // Values on a coarse lattice, so ties are common.
            let values = (0...maxEpochs).map { _ in Double(rng.next() % 6) / 10 }
            let (stopping, decisions) = try Self.run(Self.settings(every: k, patience: patience, max: maxEpochs)) { values[$0] }

            // Brute force: evaluation epochs k, 2k, … and maxEpochs; the best of a prefix is its
            // first maximum; stop at the first evaluation P evaluations after its prefix's best.
            let epochs = Array(Set(Array(stride(from: k, through: maxEpochs, by: k)) + [maxEpochs])).sorted()
            var stopIndex = epochs.count - 1
            for i in epochs.indices {
                let prefix = epochs[...i].map { values[$0] }
                if i - prefix.firstIndex(of: prefix.max()!)! == patience { stopIndex = i; break }
            }
            let seen = epochs[...stopIndex].map { values[$0] }
            let replay = "replay: ADAR_SEED=\(seed) swift test --disable-xctest --filter EarlyStoppingTests (trial \(trial))"
            #expect(decisions.map(\.0) == Array(epochs[...stopIndex]), "\(replay)")
            #expect(stopping.bestEpoch == epochs[seen.firstIndex(of: seen.max()!)!], "\(replay)")
        }
    }

    // MARK: Refusals

    @Test("Non-finite validation values are refused, and nothing is recorded")
    func refusesNonFiniteValues() throws {
        for bad in [Double.nan, .infinity, -.infinity] {
            var stopping = EarlyStopping(Self.settings(every: 2, patience: 2, max: 10))
            _ = try stopping.record(epoch: 2, validation: 0.3)
            let error = #expect(throws: EarlyStoppingError.self) { try stopping.record(epoch: 4, validation: bad) }
            // NaN ≠ NaN, so compare the case and the message rather than the values.
            guard case let .nonFiniteValidation(epoch, value) = error else {
                Issue.record("expected nonFiniteValidation, got \(String(describing: error))")
                continue
            }
            #expect(epoch == 4 && value.bitPattern == bad.bitPattern)
            #expect(error!.description.contains("after epoch 4") && error!.description.contains("failed run"))
            #expect(stopping.lastEvaluatedEpoch == 2)
            #expect(stopping.bestValue == 0.3)
            #expect(try stopping.record(epoch: 4, validation: 0.4).isNewBest)
        }
    }

    @Test("Out-of-schedule epochs and records after the stop are refused")
    func refusesMisuse() throws {
        var stopping = EarlyStopping(Self.settings(every: 5, patience: 1, max: 100))
        #expect(throws: EarlyStoppingError.unexpectedEpoch(epoch: 4, expected: 5)) { try stopping.record(epoch: 4, validation: 0.1) }
        #expect(throws: EarlyStoppingError.unexpectedEpoch(epoch: 10, expected: 5)) { try stopping.record(epoch: 10, validation: 0.1) }
        _ = try stopping.record(epoch: 5, validation: 0.2)
        #expect(try stopping.record(epoch: 10, validation: 0.1).stopReason == .patienceExhausted)
        #expect(throws: EarlyStoppingError.alreadyStopped(epoch: 15, reason: .patienceExhausted)) {
            try stopping.record(epoch: 15, validation: 0.9)
        }
        #expect(stopping.bestEpoch == 5)
    }

    @Test("Settings below 1 are refused, naming the field")
    func refusesBadSettings() {
        #expect(throws: EarlyStoppingError.invalidSettings(field: "evaluateEvery", reason: "0 must be at least 1")) {
            try EarlyStoppingSettings(evaluateEvery: 0, patience: 1, maxEpochs: 1)
        }
        #expect(throws: EarlyStoppingError.invalidSettings(field: "patience", reason: "0 must be at least 1")) {
            try EarlyStoppingSettings(evaluateEvery: 1, patience: 0, maxEpochs: 1)
        }
        #expect(throws: EarlyStoppingError.invalidSettings(field: "maxEpochs", reason: "-3 must be at least 1")) {
            try EarlyStoppingSettings(evaluateEvery: 1, patience: 1, maxEpochs: -3)
        }
    }

    // MARK: The chosen model and the sealed test split

    @Test("A ChosenModel exists only once the run has stopped")
    func chosenModelOnlyAfterStopping() throws {
        var stopping = EarlyStopping(Self.settings(every: 1, patience: 2, max: 10))
        #expect(throws: EarlyStoppingError.notStopped(lastEvaluatedEpoch: 0)) { try stopping.chosenModel() }
        for (epoch, value) in [(1, 0.1), (2, 0.3), (3, 0.2)] {
            #expect(!(try stopping.record(epoch: epoch, validation: value).shouldStop))
            #expect(throws: EarlyStoppingError.notStopped(lastEvaluatedEpoch: epoch)) { try stopping.chosenModel() }
        }
        #expect(try stopping.record(epoch: 4, validation: 0.25).shouldStop)
        let chosen = try stopping.chosenModel()
        #expect(chosen.bestEpoch == 2 && chosen.bestValidation == 0.3 && chosen.stoppedAfterEpoch == 4)
    }

    @Test("During a tuning loop the sealed test split is never read")
    func tuningLoopNeverReadsTheTestSplit() throws {
        let sealed = SealedTestSplit(targets: [[3, 7], [], [1]])
        var bestPerConfiguration = [Double]()
        for configuration in 0..<3 {
            let (stopping, _) = try Self.run(Self.settings(every: 2, patience: 2, max: 30)) { epoch in
                #expect(sealed.accessCount == 0, "configuration \(configuration), epoch \(epoch)")
                return Self.peaked(at: 6 + 2 * configuration, epoch)
            }
            bestPerConfiguration.append(stopping.bestValue!)
        }
        #expect(bestPerConfiguration == [0.3, 0.3, 0.3])
        #expect(sealed.accessCount == 0)
    }

    @Test("A loop that unseals whenever it holds a proof unseals only when a run has stopped")
    func greedyLoopUnsealsOnlyAfterStopping() throws {
        let targets: [[Int32]] = [[3, 7], [], [1]]
        let sealed = SealedTestSplit(targets: targets)
        var unsealedAfter = [Int]()
        for configuration in 0..<3 {
            var stopping = EarlyStopping(Self.settings(every: 2, patience: 2, max: 30))
            while let epoch = stopping.nextEvaluationEpoch {
                _ = try stopping.record(epoch: epoch, validation: Self.peaked(at: 6 + 2 * configuration, epoch))
                if let proof = try? stopping.chosenModel() {
                    #expect(stopping.hasStopped)
                    #expect(sealed.unseal(for: proof) == targets)
                    unsealedAfter.append(epoch)
                }
            }
        }
        // Peaks at epochs 6, 8, 10; with k = 2 and P = 2 the runs stop at 10, 12, 14.
        #expect(unsealedAfter == [10, 12, 14])
        #expect(sealed.accessCount == 3)
        #expect(sealed.userCount == 3)
    }
}
