import Foundation
import Testing
import ADARCore
import ADARData
import ADARTraining
import ADAR
import ADAREvaluation
import ADARExperiment
import ADARStore

/// Issue 10: τ and the `denoised` generator (spec S9) wired into training.
@Suite("Training with τ: the denoised generator, warm-up, statistics, determinism")
struct TauTrainingTests {
    static func synthetic() throws -> ImplicitFeedback {
        try .synthetic(users: 120, items: 200, interactionsPerUser: 20, dimension: 8, seed: 5)
    }

    /// FNV-1a over the bit patterns of the parameters and of each epoch's mean loss.
    static func fingerprint(_ parameters: [Float], _ losses: [Double]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ word: UInt64) {
            for byte in 0..<8 { hash = (hash ^ ((word >> (8 * UInt64(byte))) & 0xff)) &* 0x100_0000_01b3 }
        }
        for p in parameters { mix(UInt64(p.bitPattern)) }
        for loss in losses { mix(loss.bitPattern) }
        return hash
    }

    /// Two epochs of every sampler (MF; LightGCN with ADAR under `through` + `hardest`).
    static func forwardFingerprints() throws -> [String: UInt64] {
        let data = try synthetic()
        var result: [String: UInt64] = [:]
        let through = try ADARConfiguration(sigma: 0.1, fallback: .hardest, gradientFlow: .through)
        let cases: [(String, Backbone, SamplerKind, ADARConfiguration?)] =
            SamplerKind.allCases.map { ("mf-\($0.rawValue)", .mf, $0, nil) } + [("lightgcn-adar-through", .lightgcn, .adar, through)]
        for (name, backbone, sampler, adar) in cases {
            let configuration = try TrainingConfiguration(
                backbone: backbone, sampler: sampler, poolSize: 4, adar: adar, dimension: 8, batchSize: 300, epochs: 2)
            let trainer = try Trainer(data: data, configuration: configuration, seed: 42)
            let losses = try (1...2).map { try trainer.trainEpoch($0, threads: 2).meanLoss }
            result[name] = fingerprint(trainer.parameters, losses)
        }
        return result
    }

    /// The fingerprints of `forwardFingerprints` computed by commit b073abe, before the
    /// generator existed (x86_64 Linux, Swift 6): the default generator must not move a bit.
    static let pinnedForwardFingerprints: [String: UInt64] = [
        "lightgcn-adar-through": 0x32eb_c0e2_4ba3_43c6, "mf-adar": 0x65a0_2f17_5652_3c3a, "mf-ahns": 0xfffe_cc6b_f64c_b459,
        "mf-dns": 0xe623_9a28_af87_49b8, "mf-mixgcf": 0xfa8b_d57f_1500_48f3, "mf-uniform": 0xccb9_7147_d621_57cd,
    ]

    @Test("the default generator (forward) leaves every sampler's training bit-identical to before the generator existed")
    func forwardIsBitIdentical() throws {
        let fingerprints = try Self.forwardFingerprints()
        for (name, pinned) in Self.pinnedForwardFingerprints.sorted(by: { $0.key < $1.key }) {
            #expect(fingerprints[name] == pinned, "\(name): \(fingerprints[name].map { String($0, radix: 16) } ?? "missing")")
        }
        // The check can fail: one ulp in one parameter moves the fingerprint.
        let data = try Self.synthetic()
        let trainer = try Trainer(data: data, configuration: try TrainingConfiguration(sampler: .uniform, dimension: 8, batchSize: 300), seed: 42)
        var moved = trainer.parameters
        moved[0] = moved[0].nextUp
        #expect(Self.fingerprint(moved, []) != Self.fingerprint(trainer.parameters, []))
    }

    static func denoised(
        backbone: Backbone = .mf, warmup: Int = 1, tauLearningRate: Double? = nil, rMax: Double = 10, batchSize: Int = 1000,
        flow: GradientFlow = .detach
    ) throws -> TrainingConfiguration {
        try TrainingConfiguration(
            backbone: backbone, sampler: .adar, poolSize: 4, adar: try ADARConfiguration(sigma: 0.1, gradientFlow: flow),
            generator: .denoised(DenoisedGenerator(tauLearningRate: tauLearningRate, tauWarmup: warmup, rMax: rMax)),
            dimension: 8, batchSize: batchSize, epochs: 3)
    }

    static func forward(backbone: Backbone = .mf, batchSize: Int = 1000) throws -> TrainingConfiguration {
        try TrainingConfiguration(backbone: backbone, sampler: .adar, poolSize: 4, dimension: 8, batchSize: batchSize, epochs: 3)
    }

    @Test("under denoised τ takes one Adam step per batch and its parameters change each epoch; under forward there is no τ")
    func tauStepsPerBatch() throws {
        let data = try Self.synthetic()   // 120 users × 20 interactions, of which the training split holds 1 840 rows
        let trainer = try Trainer(data: data, configuration: try Self.denoised(batchSize: 700), seed: 3)
        let tau = try #require(trainer.tau)
        let initial = try TauNetwork32(dimension: 8, steps: 1000, seed: 3).parameters
        #expect(tau.network.parameters == initial, "S9's initialisation, keyed by the run's seed")
        #expect(tau.learningRate == Float(trainer.configuration.adam.learningRate), "lr_τ defaults to the recommender's")
        let batches = (data.trainInteractions + 699) / 700
        let first = try trainer.trainEpoch(1, threads: 2)
        #expect(tau.stepCount == batches, "one step per batch")
        let afterFirst = tau.network.parameters
        #expect(afterFirst != initial)
        let second = try trainer.trainEpoch(2, threads: 2)
        #expect(tau.stepCount == 2 * batches, "the step count is kept across epochs")
        #expect(tau.network.parameters != afterFirst)
        for statistics in [first, second] {
            let t = try #require(statistics.adar?.tau)
            #expect(t.meanLoss.isFinite && t.meanLoss > 0 && t.steps == tau.stepCount - (statistics.epoch == 1 ? batches : 0))
        }
        #expect(first.adar?.tau?.synthesisedDenoised == false && first.adar?.tau?.denoisedRows == 0, "epoch 1 is the warm-up")
        #expect(second.adar?.tau?.synthesisedDenoised == true && (second.adar?.tau?.denoisedRows ?? 0) > 0)
        #expect(second.adar?.tau?.meanDenoisedDistance.isFinite == true)

        let forward = try Trainer(data: data, configuration: try Self.forward(batchSize: 700), seed: 3)
        #expect(forward.tau == nil)
        let statistics = try forward.trainEpoch(1, threads: 2)
        #expect(statistics.adar != nil && statistics.adar?.tau == nil, "calibration under forward, no τ statistics")
        let uniform = try Trainer(data: data, configuration: try TrainingConfiguration(sampler: .uniform, dimension: 8), seed: 3)
        #expect(try uniform.trainEpoch(1, threads: 1).adar == nil)
    }

    @Test("the warm-up epochs synthesise with forward: epoch 1 equals a forward run's, epoch 2 does not; warm-up 0 differs at once")
    func warmupUsesForward() throws {
        let data = try Self.synthetic()
        for backbone in [Backbone.mf, .lightgcn] {
            let forward = try Trainer(data: data, configuration: try Self.forward(backbone: backbone, batchSize: 700), seed: 9)
            let denoised = try Trainer(data: data, configuration: try Self.denoised(backbone: backbone, batchSize: 700), seed: 9)
            let immediate = try Trainer(data: data, configuration: try Self.denoised(backbone: backbone, warmup: 0, batchSize: 700), seed: 9)
            let f1 = try forward.trainEpoch(1, threads: 2), d1 = try denoised.trainEpoch(1, threads: 2)
            let i1 = try immediate.trainEpoch(1, threads: 2)
            #expect(denoised.parameters == forward.parameters, "\(backbone): epoch 1 is forward's")
            #expect(d1.meanLoss == f1.meanLoss && d1.statusCounts == f1.statusCounts)
            #expect(d1.adar?.calibration == f1.adar?.calibration && d1.adar?.meanTimestep == f1.adar?.meanTimestep)
            #expect(immediate.parameters != forward.parameters, "\(backbone): warm-up 0 synthesises denoised in epoch 1")
            #expect((i1.adar?.tau?.denoisedRows ?? 0) > 0)
            _ = try forward.trainEpoch(2, threads: 2)
            _ = try denoised.trainEpoch(2, threads: 2)
            #expect(denoised.parameters != forward.parameters, "\(backbone): epoch 2 is denoised")
        }
    }

    /// The batch's rows in the trainer's epoch order: the epoch's first batch of `trainEpoch`
    /// when one batch holds every row (as `Trainer` draws it: shuffle of every pair keyed by row `.max`).
    static func wholeEpochBatch(_ data: ImplicitFeedback, seed: UInt64, epoch: Int) -> (users: [Int32], items: [Int32]) {
        let pairs = data.train.enumerated().flatMap { user, items in items.map { (Int32(user), $0) } }
        var order = Array(pairs.indices)
        var shuffler = UniformNegatives.generator(seed: seed, epoch: epoch, row: .max)
        order.shuffle(using: &shuffler)
        return (order.map { pairs[$0].0 }, order.map { pairs[$0].1 })
    }

    @Test("S9's order: the batch's negatives come from τ's parameters after the batch's step, not before")
    func synthesisUsesTheSteppedTau() throws {
        let data = try Self.synthetic()
        let configuration = try Self.denoised(warmup: 0, tauLearningRate: 0.01, batchSize: 65_536)
        let trained = try Trainer(data: data, configuration: configuration, seed: 4)
        let statistics = try trained.trainEpoch(1, threads: 2)
        let epochDistance = try #require(statistics.adar?.tau?.meanDenoisedDistance)

        // The same batch by hand on an untrained twin: τ's step on the scored embeddings, then synthesis.
        let twin = try Trainer(data: data, configuration: configuration, seed: 4)
        let (users, items) = Self.wholeEpochBatch(data, seed: 4, epoch: 1)
        let candidates = twin.drawCandidates(users: users, epoch: 1, rowOffset: 0, threads: 2)
        let final = twin.finalEmbeddings(threads: 2), itemNodes = items.map { $0 + Int32(data.userCount) }
        let input = try IndexedRows32(dimension: 8, poolSize: 4, userTable: final, itemTable: final, users: users,
                                      positives: itemNodes, pool: candidates.map { $0 + Int32(data.userCount) })
        let synthesizer = ADARSynthesizer(schedule: configuration.schedule, configuration: configuration.adar)
        let before = try #require(twin.tau).network
        try #require(twin.tau).step(input, synthesizer: synthesizer, seed: 4, epoch: 1, rowOffset: 0, threads: 2)
        func distance(_ network: TauNetwork32) throws -> Double {
            let batch = try twin.lossAndGradient(users: users, items: items, candidates: candidates, noiseStream: 1,
                                                 generator: .denoised(network, rMax: 10), threads: 2)
            let synthesis = try #require(batch.synthesis)
            return synthesis.denoisedDistanceSum / Double(synthesis.denoisedRows)
        }
        #expect(try distance(try #require(twin.tau).network) == epochDistance, "after the step")
        #expect(try distance(before) != epochDistance, "before the step would differ")
    }

    @Test("r_max sends rows to forward and counts them; r_max = 0 denoises none")
    func rMaxGuard() throws {
        let data = try Self.synthetic()
        for (rMax, expectDenoised) in [(10.0, true), (0.0, false)] {
            let trainer = try Trainer(data: data, configuration: try Self.denoised(warmup: 0, rMax: rMax), seed: 2)
            let tau = try #require(try trainer.trainEpoch(1, threads: 2).adar?.tau)
            #expect((tau.denoisedRows > 0) == expectDenoised, "r_max \(rMax): \(tau)")
            if !expectDenoised { #expect(tau.rMaxForwardRows > 0 && tau.meanDenoisedDistance.isNaN) }
        }
    }

    @Test("forward's calibration: Z is a plausible N(0, 1) draw and the share of Y = 1 is close to the mean π")
    func forwardCalibrationInTraining() throws {
        let data = try Self.synthetic()
        let trainer = try Trainer(data: data, configuration: try Self.forward(), seed: 6)
        for epoch in 1...3 {
            let c = try #require(try trainer.trainEpoch(epoch, threads: 2).adar?.calibration)
            #expect(c.rows == (c.statusCounts[.transition] ?? 0) + (c.statusCounts[.saturated] ?? 0), "fallback rows are excluded")
            #expect(c.statusCounts.values.reduce(0, +) == data.trainInteractions, "every row's status is recorded")
            #expect(c.rows > 300 && c.z.isFinite && abs(c.z) < 4.5, "epoch \(epoch): Z = \(c.z) over \(c.rows) rows, \(c.statusCounts)")
            #expect(abs(c.share - c.meanRetention) < 0.1, "epoch \(epoch): share \(c.share), mean π \(c.meanRetention)")
        }
    }

    @Test("configuration: denoised needs the adar sampler; τ's settings are range-checked by field")
    func configurationValidation() throws {
        let refused: [(SamplerKind, DenoisedGenerator, Int, String)] = [
            (.uniform, DenoisedGenerator(), 5, "generator"), (.dns, DenoisedGenerator(), 5, "generator"),
            (.adar, DenoisedGenerator(tauLearningRate: 0), 5, "tauLearningRate"),
            (.adar, DenoisedGenerator(tauLearningRate: -1e-3), 5, "tauLearningRate"),
            (.adar, DenoisedGenerator(tauLearningRate: .nan), 5, "tauLearningRate"),
            (.adar, DenoisedGenerator(tauLearningRate: .infinity), 5, "tauLearningRate"),
            (.adar, DenoisedGenerator(tauWarmup: -1), 5, "tauWarmup"),
            (.adar, DenoisedGenerator(tauWarmup: 1 << 31), 5, "tauWarmup"),
            (.adar, DenoisedGenerator(rMax: -0.5), 5, "rMax"), (.adar, DenoisedGenerator(rMax: .nan), 5, "rMax"),
            (.adar, DenoisedGenerator(rMax: .infinity), 5, "rMax"), (.adar, DenoisedGenerator(), 1 << 31, "epochs"),
        ]
        for (sampler, settings, epochs, field) in refused {
            let error = #expect(throws: TrainingError.self) {
                try TrainingConfiguration(sampler: sampler, generator: .denoised(settings), epochs: epochs)
            }
            guard case let .invalidConfiguration(reported, _)? = error else { Issue.record("\(settings): \(String(describing: error))"); continue }
            #expect(reported == field, "\(settings)")
        }
        // The edges are accepted.
        let edge = try TrainingConfiguration(sampler: .adar, generator: .denoised(DenoisedGenerator(tauLearningRate: 0.5, tauWarmup: 0, rMax: 0)))
        #expect(edge.tauLearningRate == 0.5)
        #expect(try TrainingConfiguration(sampler: .adar).generator == .forward && (try TrainingConfiguration(sampler: .adar)).tauLearningRate == nil)
        let following = try TrainingConfiguration(sampler: .adar, generator: .denoised(DenoisedGenerator()), adam: AdamParameters(learningRate: 0.02))
        #expect(following.tauLearningRate == 0.02)
    }

    // MARK: Grid file, configuration mapping, store

    /// The minimal grid document with ADAR's grid extended by `extra` (JSON members).
    static func gridDocument(adarExtra extra: String) -> String {
        let find = #""gradientFlow": ["detach"]}"#
        precondition(GridTests.minimalDocument.components(separatedBy: find).count == 2)
        return GridTests.minimalDocument.replacingOccurrences(of: find, with: #""gradientFlow": ["detach"]"# + extra + "}")
    }

    @Test("the grid loader accepts ADAR's generator keys and refuses out-of-range values and τ keys without generator denoised")
    func gridKeys() throws {
        let file = try GridFile.parse(Self.gridDocument(adarExtra: #", "generator": ["denoised"], "tauLearningRate": [0.01], "tauWarmup": [0, 2], "rMax": [5]"#),
                                      source: "t")
        let p = try file.evaluationProtocol(named: "p"), adar = try #require(p.row(named: "adar"))
        #expect(p.tuningPlan(for: adar).gridSize == 8)
        let point = p.grid(for: adar).configurations[0]
        #expect(point["generator"] == .string("denoised") && point["tauWarmup"] == .number(0) && point["rMax"] == .number(5))

        let refused: [(String, String, String)] = [
            (#", "generator": ["backward"]"#, "adar.generator[0]", #"not one of "forward", "denoised""#),
            (#", "generator": ["denoised"], "tauWarmup": [-1]"#, "adar.tauWarmup[0]", "-1 is out of range: must be ≥ 0"),
            (#", "generator": ["denoised"], "tauWarmup": [1.5]"#, "adar.tauWarmup[0]", "must be an integer"),
            (#", "generator": ["denoised"], "tauWarmup": [2147483648]"#, "adar.tauWarmup[0]", "must be at most 2147483647"),
            (#", "generator": ["denoised"], "rMax": [-1]"#, "adar.rMax[0]", "must be ≥ 0"),
            (#", "generator": ["denoised"], "tauLearningRate": [0]"#, "adar.tauLearningRate[0]", "must be > 0"),
            (#", "tauWarmup": [1]"#, "adar.tauWarmup", "applies only with the denoised generator"),
            (#", "generator": ["forward", "denoised"], "rMax": [3]"#, "adar.rMax", "applies only with the denoised generator"),
            (#", "generator": ["forward"], "tauLearningRate": [0.1]"#, "adar.tauLearningRate", "applies only with the denoised generator"),
        ]
        for (extra, path, reason) in refused {
            let error = #expect(throws: GridFileError.self) { try GridFile.parse(Self.gridDocument(adarExtra: extra), source: "g") }
            #expect(error?.path == "$.protocols.p.grids." + path, "\(extra): \(String(describing: error))")
            #expect(error?.reason.contains(reason) == true, "\(extra): \(String(describing: error))")
        }
        // The generator is ADAR's: another sampler's grid refuses it.
        let dns = GridTests.minimalDocument.replacingOccurrences(of: #""dns": {"pool": [4]}"#, with: #""dns": {"pool": [4], "generator": ["denoised"]}"#)
        let error = #expect(throws: GridFileError.self) { try GridFile.parse(dns, source: "g") }
        #expect(error?.path == "$.protocols.p.grids.dns.generator")
    }

    @Test("ConfigurationMapping: generator and τ's keys set the trainer's generator; bad values and τ keys under forward are refused by key")
    func mappingKeys() throws {
        let mapped = try ConfigurationMapping.trainingConfiguration(
            try RunConfiguration(["generator": "denoised", "rMax": 4]), backbone: .mf, sampler: .adar, maxEpochs: 5)
        #expect(mapped.generator == .denoised(DenoisedGenerator(tauLearningRate: nil, tauWarmup: 1, rMax: 4)))
        #expect(mapped.tauLearningRate == mapped.adam.learningRate)
        #expect(try ConfigurationMapping.trainingConfiguration(try RunConfiguration(["generator": "forward"]), backbone: .mf,
                                                               sampler: .adar, maxEpochs: 5).generator == .forward)
        let refused: [([String: ConfigurationValue], SamplerKind, String)] = [
            (["tauWarmup": 2], .adar, "tauWarmup"), (["generator": "forward", "rMax": 2], .adar, "rMax"),
            (["tauLearningRate": 0.1], .adar, "tauLearningRate"), (["generator": "backward"], .adar, "generator"),
            (["generator": "denoised", "tauWarmup": 1.5], .adar, "tauWarmup"), (["generator": "denoised", "rMax": -1], .adar, "rMax"),
            (["generator": "denoised", "tauLearningRate": 0], .adar, "tauLearningRate"), (["generator": "denoised"], .uniform, "generator"),
            (["generator": "denoised", "tauWarmup": -1], .adar, "tauWarmup"),
        ]
        for (values, sampler, key) in refused {
            let error = #expect(throws: ConfigurationError.self) {
                try ConfigurationMapping.trainingConfiguration(try RunConfiguration(values), backbone: .mf, sampler: sampler, maxEpochs: 5)
            }
            #expect(error?.key == key, "\(values): \(String(describing: error))")
        }
    }

    @Test("a tuning sweep with the denoised generator records calibration and τ's statistics as finite extras of every evaluation")
    func storeExtras() throws {
        for (generator, expectTau) in [(#", "generator": ["denoised"], "tauWarmup": [1]"#, true), ("", false)] {
            let store = try RunStore.inMemory()
            let find = #""gradientFlow": ["detach"]}"#
            let grid = ProtocolRunTests.tinyGrid.replacingOccurrences(of: "LR", with: "0.01")
                .replacingOccurrences(of: find, with: #""gradientFlow": ["detach"]"# + generator + "}")
            let tiny = try GridFile.parse(grid, source: "tiny.json").evaluationProtocol(named: "tiny")
            let sweep = ProtocolSweep(
                store: store, evaluationProtocol: tiny, dataset: "synthetic", backbone: .mf,
                rows: [try #require(tiny.row(named: "adar"))], hasFixedSplit: false, threads: 2, codeVersion: "test",
                loadData: { try ImplicitFeedback.synthetic(users: 40, items: 80, interactionsPerUser: 20, seed: $0) }, log: { _ in })
            try sweep.tune()
            let runs = try store.finishedRuns(phase: .tune)
            #expect(!runs.isEmpty)
            for run in runs {
                let evaluations = try store.evaluations(run.id)
                #expect(!evaluations.isEmpty)
                for evaluation in evaluations {
                    let extra = evaluation.extra
                    for key in ["calibration.z", "calibration.share", "calibration.meanRetention", "calibration.chiSquare",
                                "calibration.rows", "adar.meanTimestep"] {
                        #expect(extra[key]?.isFinite == true, "\(key) in \(extra)")
                    }
                    #expect((0...1).contains(extra["calibration.share"] ?? -1))
                    for key in ["tau.loss", "denoised.meanDistance", "denoised.rows", "denoised.rMaxForwardRows"] {
                        #expect((extra[key]?.isFinite == true) == expectTau, "\(key) in \(extra)")
                    }
                    if expectTau { #expect((extra["tau.loss"] ?? 0) > 0 && (extra["denoised.rows"] ?? 0) > 0) }
                }
            }
        }
    }

    // MARK: Command line

    static let small = ["train", "--dataset", "synthetic", "--synthetic-users", "60", "--synthetic-items", "120", "--dim", "8",
                        "--threads", "2"]

    @Test("adar train refuses bad or contradictory generator options with status 64, naming the option", arguments: [
        (["--generator", "denoised"], "--generator: denoised is ADAR's generator (S9); the sampler is uniform"),
        (["--sampler", "adar", "--generator", "denoised", "--tau-lr", "0"], "--tau-lr: 0.0 must be finite and > 0"),
        (["--sampler", "adar", "--generator", "denoised", "--tau-lr", "inf"], "--tau-lr: inf must be finite and > 0"),
        (["--sampler", "adar", "--generator", "denoised", "--tau-warmup", "-1"], "--tau-warmup: -1 must be between 0 and 2147483647"),
        (["--sampler", "adar", "--generator", "denoised", "--r-max", "-2"], "--r-max: -2.0 must be finite and ≥ 0"),
        (["--sampler", "adar", "--generator", "denoised", "--r-max", "nan"], "--r-max: nan must be finite and ≥ 0"),
        (["--sampler", "adar", "--tau-lr", "0.01"], "--tau-lr applies only with --generator denoised"),
        (["--sampler", "adar", "--generator", "forward", "--r-max", "3"], "--r-max applies only with --generator denoised"),
        (["--sampler", "adar", "--tau-warmup", "2"], "--tau-warmup applies only with --generator denoised"),
        (["--sampler", "adar", "--generator", "backward"], "'backward'"),
    ])
    func commandLineRefusals(_ arguments: [String], _ message: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tau-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ADARExecutable.run(Self.small + arguments, in: folder)
        #expect(result.status == 64 && !result.endedBySignal, "\(arguments): \(result.status) \(result.standardError)")
        #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty, "nothing written")
    }

    @Test("adar train --generator denoised prints τ's loss and Z per evaluation and records S9's statistics per epoch")
    func commandLineDenoisedRun() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tau-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ADARExecutable.run(
            Self.small + ["--sampler", "adar", "--generator", "denoised", "--tau-lr", "0.002", "--tau-warmup", "1", "--r-max", "8",
                          "--epochs", "2", "--eval-every", "1", "--json"], in: folder)
        #expect(result.status == 0 && !result.endedBySignal, "\(result.standardError)")
        let progress = result.standardError.split(separator: "\n").filter { $0.hasPrefix("train: epoch") }
        #expect(progress.count == 2 && progress.allSatisfy { $0.contains("τ loss") && $0.contains("  Z ") }, "\(result.standardError)")
        #expect(result.standardError.contains("generator denoised (τ lr 0.002, warm-up 1 epoch(s), r_max 8.0)"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let run = try #require(json["run"] as? [String: Any])
        let adarConfig = try #require((run["config"] as? [String: Any])?["adar"] as? [String: Any])
        let generator = try #require(adarConfig["generator"] as? [String: Any])
        #expect(generator["name"] as? String == "denoised" && generator["tauLearningRate"] as? Double == 0.002)
        #expect(generator["tauWarmup"] as? Int == 1 && generator["rMax"] as? Double == 8)
        let epochs = try #require(run["epochs"] as? [[String: Any]]).filter { ($0["epoch"] as? Int ?? 0) >= 1 }
        #expect(epochs.count == 2)
        for epoch in epochs {
            let adar = try #require(epoch["adar"] as? [String: Any])
            let calibration = try #require(adar["calibration"] as? [String: Any])
            #expect(calibration["z"] is Double && calibration["share"] is Double)
            let tau = try #require(adar["tau"] as? [String: Any])
            #expect((tau["loss"] as? Double ?? 0) > 0)
            #expect(tau["synthesisedDenoised"] as? Bool == ((epoch["epoch"] as? Int) == 2))
        }
        let help = try ADARExecutable.run(["train", "--help"])
        #expect(help.status == 0 && ["--generator", "--tau-lr", "--tau-warmup", "--r-max", "S9"].allSatisfy { help.standardOutput.contains($0) })
    }
}
