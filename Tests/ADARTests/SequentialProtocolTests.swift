import ADARCore
import ADAREvaluation
import ADARExperiment
import ADARReport
import ADARStore
import ADARTraining
import Foundation
import Testing

/// The sequential cells' protocol (issue 11 §4; docs/TRAINING.md "Sequential protocol"): the grid file's
/// `"model": "sasrec"` protocols, `adar tune --model sasrec` into the run store, resuming after a kill,
/// and `adar report`'s sequential table (NDCG@10 primary, HR@10/NDCG@10/HR@20/NDCG@20, Holm, README section).
@Suite("Sequential protocol: SASRec cells through tune and report")
struct SequentialProtocolTests {
    static let gridFile = GridTests.gridFileURL.path
    static let sequentialMetrics: Set = ["hr@10", "ndcg@10", "hr@20", "ndcg@20"]

    /// The smoke protocol of the committed grid file on 60 synthetic users: 7 tuning and 12 final runs of a tiny SASRec.
    static let tuneArguments = ["tune", "--model", "sasrec", "--dataset", "synthetic", "--synthetic-users", "60",
                                "--synthetic-items", "120", "--grids", gridFile, "--protocol", "smoke-sequential",
                                "--store", "runs.sqlite", "--threads", "1"]

    static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adar-seq-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    // MARK: The grid file

    @Test("full-sequential: SASRec's fixed settings, rows uniform/dns/adar-forward/adar-denoised, the budget its description states, evidence by name")
    func committedSequentialProtocols() throws {
        let file = try GridTests.committed()
        let full = try file.evaluationProtocol(named: "full-sequential")
        #expect(full.models == .sequential && full.models.backbones == ["sasrec"] && full.models.selectionMetric == "ndcg@10")
        #expect(ProtocolStanding(protocolName: full.name) == .evidence)
        #expect(ProtocolStanding(protocolName: "smoke-sequential") == .smoke)
        #expect(full.fixed.canonicalText == #"{"batchSize":128,"blocks":2,"dimension":50,"dropout":0.2,"heads":1,"l2":0,"lr":0.001,"policy":"max","pool":16,"schedule":"cosine","scheduleSteps":1000}"#)
        #expect(full.earlyStopping == (try EarlyStoppingSettings(evaluateEvery: 5, patience: 5, maxEpochs: 200)))
        #expect(full.rows.map(\.name) == ["uniform", "dns", "adar-forward", "adar-denoised"])
        // Grid sizes by hand: uniform 1 (no common grid), dns 6 pools, adar-forward 3 ρ · 2 w · 3 σ = 18,
        // adar-denoised 18 · 2 r_max · 2 warm-ups · 2 τ learning rates = 144.
        #expect(full.rows.map { full.grid(for: $0).size } == [1, 6, 18, 144])
        #expect(full.modelSeeds == [1, 2, 3, 4, 5] && full.splitSeeds == [0])
        // The description's run count: 19 tuning runs (1 + 6 + 6 + 6) and 20 final runs (4 rows × 5 seeds).
        let tuning = full.rows.map { full.tuningPlan(for: $0).budgetUsed }
        #expect(tuning == [1, 6, 6, 6])
        #expect(full.description.contains("\(tuning.reduce(0, +)) tuning + \(full.rows.count * full.modelSeeds.count) final runs"))
        // The adar rows' grids and settings are the CF ones (same keys and values, S9's generator included).
        let cf = try file.evaluationProtocol(named: "full")
        for name in ["adar-forward", "adar-denoised"] {
            let sequential = try #require(full.row(named: name)), collaborative = try #require(cf.row(named: name))
            #expect(sequential.axes == collaborative.axes && sequential.settings == collaborative.settings, "\(name)")
        }
        #expect(try #require(full.row(named: "adar-denoised")).settings["generator"] == .string("denoised"))
        let smoke = try file.evaluationProtocol(named: "smoke-sequential")
        #expect(smoke.rows.map(\.name) == full.rows.map(\.name))
        #expect(try #require(smoke.row(named: "adar-denoised")).settings == (try #require(full.row(named: "adar-denoised")).settings))
        for collaborative in file.protocols where collaborative.models == .collaborative {
            #expect(collaborative.models.backbones == ["mf", "lightgcn"] && collaborative.models.selectionMetric == "ndcg@20")
        }
    }

    @Test("limited-sequential (ML-1M, for cost): full-sequential's settings, rows and grids with budget 2, patience 3, 3 seeds, limited by name")
    func committedLimitedSequentialProtocol() throws {
        let file = try GridTests.committed()
        let full = try file.evaluationProtocol(named: "full-sequential")
        let limited = try file.evaluationProtocol(named: "limited-sequential")
        #expect(ProtocolStanding(protocolName: limited.name) == .limited)
        #expect(limited.models == .sequential && limited.fixed == full.fixed)
        #expect(limited.budget == 2 && limited.modelSeeds == [1, 2, 3] && limited.splitSeeds == [0])
        #expect(limited.earlyStopping == (try EarlyStoppingSettings(evaluateEvery: 5, patience: 3, maxEpochs: 200)))
        #expect(limited.rows.map(\.name) == full.rows.map(\.name))
        for row in limited.rows {
            let fullRow = try #require(full.row(named: row.name))
            #expect(row.axes == fullRow.axes && row.settings == fullRow.settings, "\(row.name)")
        }
        // By hand: uniform 1, dns 2 of 6, adar-forward 2 of 18, adar-denoised 2 of 144; 4 rows × 3 seeds final.
        let tuning = limited.rows.map { limited.tuningPlan(for: $0).budgetUsed }
        #expect(tuning == [1, 2, 2, 2])
        #expect(limited.description.contains("\(tuning.reduce(0, +)) tuning + \(limited.rows.count * limited.modelSeeds.count) final runs"))
    }

    static let sequentialGrid = """
        {"version": 1, "protocols": {"seq": {
          "description": "d", "model": "sasrec", "budget": 2, "selectionSeed": 1,
          "earlyStopping": {"evaluateEvery": 1, "patience": 1, "maxEpochs": 2},
          "finalRuns": {"modelSeeds": [1], "splitSeeds": [0]},
          "fixed": {"dimension": 8, "blocks": 1, "heads": 1, "dropout": 0.2, "batchSize": 32, "lr": 0.01, "l2": 0, "pool": 4,
                    "policy": "max", "schedule": "cosine", "scheduleSteps": 100},
          "grids": {"common": {}, "uniform": {}, "dns": {"pool": [2, 4]}, "adar-forward": {"sampler": "adar", "rho": [0.5]}}}}}
        """

    /// (what to replace in `sequentialGrid`, with what, the error's JSON path, a phrase of its reason)
    static let refusals: [(String, String, String, String)] = [
        (#""rho": [0.5]}"#, #""rho": [0.5], "tauWarmup": [1]}"#, "$.protocols.seq.grids.adar-forward.tauWarmup",
         #"row "adar-forward": applies only with the denoised generator: declare "generator": "denoised""#),
        (#""adar-forward": {"sampler": "adar", "rho": [0.5]}"#,
         #""adar-denoised": {"sampler": "adar", "settings": {"generator": "denoised", "initialScale": 0.1}, "rho": [0.5]}"#,
         "$.protocols.seq.grids.adar-denoised.settings.initialScale",
         #"row "adar-denoised": "initialScale" is a CF-only setting in a sequential protocol"#),
        (#""uniform": {}"#, #""uniform": {}, "ahns": {"p": [-2]}"#, "$.protocols.seq.grids.ahns",
         #"row "ahns": the ahns sampler does not train SASRec; a sequential protocol's rows use uniform, dns, adar"#),
        (#""blocks": 1,"#, #""blocks": 1, "layers": 3,"#, "$.protocols.seq.fixed.layers",
         #""layers" is a CF-only setting (LightGCN's propagation layers"#),
        (#""heads": 1,"#, "", "$.protocols.seq.fixed", #"missing key "heads""#),
        (#""dropout": 0.2"#, #""dropout": 1"#, "$.protocols.seq.fixed.dropout", "1.0 is out of range: must be in [0, 1)"),
        (#""model": "sasrec""#, #""model": "mf""#, "$.protocols.seq.model", #"must be "sasrec" (the only sequential model)"#),
    ]

    @Test("a sequential protocol refuses CF-only settings, rows of other samplers and bad SASRec settings, naming the row and field",
          arguments: refusals.indices)
    func refusesCollaborativeSettings(_ index: Int) throws {
        let (find, replacement, path, reason) = Self.refusals[index]
        #expect(Self.sequentialGrid.contains(find))
        _ = try GridFile.parse(Self.sequentialGrid, source: "seq.json")
        let error = #expect(throws: GridFileError.self) {
            try GridFile.parse(Self.sequentialGrid.replacingOccurrences(of: find, with: replacement), source: "seq.json")
        }
        #expect(error?.path == path, "\(String(describing: error))")
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
    }

    @Test("a sequential protocol accepts an adar-denoised row with τ's keys (S9, S10)")
    func acceptsDenoisedRow() throws {
        let grid = Self.sequentialGrid.replacingOccurrences(
            of: #""adar-forward": {"sampler": "adar", "rho": [0.5]}"#,
            with: #""adar-denoised": {"sampler": "adar", "settings": {"generator": "denoised"}, "rho": [0.5], "rMax": [1, 10], "tauWarmup": [0], "tauLearningRate": [0.01]}"#)
        let row = try #require(try GridFile.parse(grid, source: "seq.json").evaluationProtocol(named: "seq").row(named: "adar-denoised"))
        #expect(row.sampler == .adar && row.settings["generator"] == .string("denoised"))
        #expect(row.axes.map(\.key).sorted() == ["rMax", "rho", "tauLearningRate", "tauWarmup"])
    }

    @Test("a CF protocol refuses SASRec's settings")
    func collaborativeRefusesSequentialSettings() throws {
        let grid = ProtocolRunTests.tinyGrid.replacingOccurrences(of: "LR", with: "0.01")
            .replacingOccurrences(of: #""layers": 2,"#, with: #""layers": 2, "blocks": 2,"#)
        let error = #expect(throws: GridFileError.self) { try GridFile.parse(grid, source: "tiny.json") }
        #expect(error?.path == "$.protocols.tiny.fixed.blocks" && error?.reason.hasPrefix(#"unknown key "blocks""#) == true,
                "\(String(describing: error))")
    }

    @Test("a run configuration maps onto SASRec's settings; an unknown or CF key, or a value SASRec refuses, names its key")
    func configurationMapping() throws {
        let values: [String: ConfigurationValue] = [
            "dimension": 12, "maxLength": 7, "blocks": 3, "heads": 2, "dropout": 0.3, "batchSize": 64, "lr": 0.002, "l2": 0.01,
            "pool": 5, "rho": 0.3, "weight": 0.5, "syntheticWeight": 0.25, "sigma": 0.2, "fallback": "hardest", "gradientFlow": "through", "policy": "mean",
            "generator": "denoised", "tauLearningRate": 0.02, "tauWarmup": 3, "rMax": 2.5,
            "schedule": "cosine", "scheduleSteps": 50,
        ]
        #expect(Set(values.keys) == Set(ConfigurationMapping.sequentialFields.keys), "every key is exercised")
        let c = try ConfigurationMapping.sasrecConfiguration(try RunConfiguration(values), sampler: .adar, items: 30)
        #expect(c.model.items == 30 && c.model.dimension == 12 && c.model.length == 7 && c.model.blocks == 3 && c.model.heads == 2)
        #expect(c.model.dropout == 0.3 && c.batchSize == 64 && c.learningRate == 0.002 && c.l2 == 0.01 && c.poolSize == 5)
        #expect(c.adar.rho == 0.3 && c.adar.augmentationWeight == 0.5 && c.adar.syntheticWeight == 0.25 && c.adar.sigma == 0.2 && c.adar.fallback == .hardest)
        #expect(c.adar.gradientFlow == .through && c.adar.policy == .mean && c.schedule.steps == 50 && c.sampler == .adar)
        #expect(c.generator == .denoised(DenoisedGenerator(tauLearningRate: 0.02, tauWarmup: 3, rMax: 2.5)) && c.tauLearningRate == 0.02)
        #expect(try ConfigurationMapping.sasrecConfiguration(try RunConfiguration(["generator": "forward"]), sampler: .adar, items: 30).generator == .forward)
        let refused: [([String: ConfigurationValue], String)] = [
            (["layers": 3], "layers"), (["initialScale": 0.1], "initialScale"), (["tauWarmup": 1], "tauWarmup"),
            (["generator": "denoised"], "generator"), (["heads": 3], "heads"), (["dropout": 1], "dropout"),
            (["maxLength": 0], "maxLength"), (["lr": 0], "lr"), (["pool": 0], "pool"), (["batchSize": 1.5], "batchSize"),
        ]
        for (bad, key) in refused {
            let error = #expect(throws: ConfigurationError.self) {
                try ConfigurationMapping.sasrecConfiguration(try RunConfiguration(bad), sampler: .dns, items: 30)
            }
            #expect(error?.key == key, "\(bad): \(String(describing: error))")
        }
    }

    // MARK: The sweep

    @Test("a SASRec sweep never unseals the test split while tuning, and each final run unseals it once")
    func sweepSealsTheTestSplit() throws {
        let smoke = try GridTests.committed().evaluationProtocol(named: "smoke-sequential")
        let store = try RunStore.inMemory()
        let model = SequentialSweepModel(maxLength: 10) { .synthetic(users: 30, items: 100, length: 30, seed: 3) }
        let sweep = ProtocolSweep(store: store, evaluationProtocol: smoke, dataset: "synthetic", model: model,
                                  rows: [try #require(smoke.row(named: "uniform"))], threads: 2, codeVersion: "test", log: { _ in })
        try sweep.tune()
        #expect(sweep.testSplit(splitSeed: 0)?.accessCount == 0)
        try sweep.runFinal(try sweep.select())
        #expect(sweep.testSplit(splitSeed: 0)?.accessCount == smoke.modelSeeds.count)
        #expect(try store.finishedRuns().allSatisfy { $0.spec.backbone == "sasrec" && $0.spec.configuration["maxLength"] == .number(10) })
    }

    // MARK: tune and report, end to end

    @Test("adar tune --model sasrec then adar report: the store holds sasrec runs with HR/NDCG@10/@20, chosen on validation NDCG@10; the report's table, Holm family, plots and README section")
    func tuneAndReport() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tune = try ADARExecutable.run(Self.tuneArguments, in: folder)
        #expect(tune.status == 0 && !tune.endedBySignal, "\(tune.status): \(tune.standardError)")
        #expect(tune.standardOutput.contains("chosen on validation NDCG@10 (protocol smoke-sequential, synthetic × sasrec"))

        let store = try RunStore(path: folder.appendingPathComponent("runs.sqlite").path, access: .readOnly)
        let tunes = try store.finishedRuns(phase: .tune), finals = try store.finishedRuns(phase: .final)
        #expect(tunes.count == 7 && finals.count == 12, "1 + 2 + 2 + 2 tuning runs; 4 rows × 3 model seeds")
        for run in tunes + finals {
            #expect(run.spec.backbone == "sasrec" && run.spec.dataset == "synthetic" && run.spec.splitSeed == 0)
            #expect(run.spec.configuration["maxLength"] == .number(20) && run.spec.configuration["blocks"] == .number(1))
            #expect(Set(run.bestValidationMetrics.keys) == Self.sequentialMetrics)
            for evaluation in try store.evaluations(run.id) {
                #expect(evaluation.split == .validation && Set(evaluation.metrics.keys) == Self.sequentialMetrics)
                #expect(evaluation.extra["historyIncluded.ndcg@10"] != nil && evaluation.extra["meanLoss"] != nil)
            }
        }
        // τ's statistics (S9) are stored for the adar-denoised row's evaluations only.
        for run in tunes where run.spec.sampler.hasPrefix("adar") {
            let denoised = run.spec.sampler == "adar-denoised"
            #expect(run.spec.configuration["generator"] == (denoised ? .string("denoised") : nil), "\(run.spec)")
            for evaluation in try store.evaluations(run.id) {
                #expect((evaluation.extra["tau.loss"] != nil) == denoised, "\(run.spec)")
            }
        }
        #expect(tunes.allSatisfy { $0.testMetrics.isEmpty && $0.spec.modelSeed == 1 })
        #expect(finals.allSatisfy { Set($0.testMetrics.keys) == Self.sequentialMetrics && $0.summary["testHistoryIncluded.ndcg@10"] != nil })
        #expect(Set(finals.map(\.spec.modelSeed)) == [1, 2, 3])
        // Each row's final runs use its tuning run with the best validation NDCG@10 (first in grid order on ties).
        for row in ["uniform", "dns", "adar-forward", "adar-denoised"] {
            let tuned = tunes.filter { $0.spec.sampler == row }
            let best = try #require(tuned.max { $0.bestValidationMetrics["ndcg@10"]! < $1.bestValidationMetrics["ndcg@10"]! })
            let chosen = Set(finals.filter { $0.spec.sampler == row }.map(\.spec.configuration))
            #expect(chosen == [best.spec.configuration], "\(row)")
        }

        let readme = folder.appendingPathComponent("README.md")
        try "# Results\n\n\(MarkedSection.begin)\nold\n\(MarkedSection.end)\n".write(to: readme, atomically: true, encoding: .utf8)
        let report = try ADARExecutable.run(["report", "--store", "runs.sqlite", "--output", "report", "--readme", "README.md"], in: folder)
        #expect(report.status == 0 && !report.endedBySignal, "\(report.status): \(report.standardError)")
        #expect(report.standardOutput.contains("synthetic · sasrec · protocol smoke-sequential: 4 samplers, m = 10 comparisons"))
        let section = try String(contentsOf: readme, encoding: .utf8)
        #expect(section.hasPrefix("# Results\n\n\(MarkedSection.begin)\nGenerated by `adar report --store runs.sqlite --output report --readme README.md`"))
        #expect(!section.contains("\nold\n") && section.hasSuffix("\(MarkedSection.end)\n"))
        #expect(section.contains("| sampler | runs | HR@10 | NDCG@10 | HR@20 | NDCG@20 | NDCG@10 vs uniform | NDCG@10 vs "))
        #expect(section.contains("**Not the `full` protocol**") && section.contains("(NDCG@10 and HR@10; each sampler vs uniform"))
        // Each row's mean ± sample sd of test NDCG@10, computed here from the store's runs.
        for row in ["uniform", "dns", "adar-forward", "adar-denoised"] {
            let values = finals.filter { $0.spec.sampler == row }.map { $0.testMetrics["ndcg@10"]! }
            let mean = values.reduce(0, +) / Double(values.count)
            let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
            #expect(section.contains(String(format: "%.4f ± %.4f", mean, sd)), "\(row): \(mean) ± \(sd)")
        }
        for metric in ["NDCG@10", "HR@10"] {
            #expect(section.contains("| dns | uniform | \(metric) | 3 |") && section.contains("| adar-forward | uniform | \(metric) | 3 |"))
            #expect(section.contains("| adar-denoised | uniform | \(metric) | 3 |"))
        }
        let validationPlot = try String(contentsOf: folder.appendingPathComponent("report/synthetic-sasrec-smoke-sequential-validation-ndcg.svg"),
                                        encoding: .utf8)
        #expect(validationPlot.contains("validation NDCG@10 by epoch") && validationPlot.contains("<polyline"))
        let testPlot = try String(contentsOf: folder.appendingPathComponent("report/synthetic-sasrec-smoke-sequential-test.svg"), encoding: .utf8)
        #expect(testPlot.contains("test NDCG@10") && testPlot.contains("test HR@10") && !testPlot.contains("Recall@20"))
    }

    @Test("SIGKILLed mid-sweep, adar tune --model sasrec resumes: finished runs skipped, the half-finished one redone, the store as an uninterrupted sweep's")
    func killAndResume() throws {
        let killed = try Self.folder(), uninterrupted = try Self.folder()
        defer {
            try? FileManager.default.removeItem(at: killed)
            try? FileManager.default.removeItem(at: uninterrupted)
        }
        try TuneCommandTests.killMidRun(Self.tuneArguments, in: killed)
        let finishedBefore = try TuneCommandTests.store(in: killed).finishedRuns()
        let resumed = try ADARExecutable.run(Self.tuneArguments, in: killed)
        #expect(resumed.status == 0 && !resumed.endedBySignal, "\(resumed.status): \(resumed.standardError)")
        let lines = resumed.standardError.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("skipping finished run") }.count == finishedBefore.count, "\(resumed.standardError)")
        #expect(lines.filter { $0.hasPrefix("redoing half-finished run") }.count == 1, "\(resumed.standardError)")
        let after = try TuneCommandTests.store(in: killed)
        #expect(try after.statusCounts() == [.running: 0, .finished: 19, .failed: 0])
        for run in finishedBefore { #expect(try after.finishedRuns().contains(run), "\(run.spec) was redone or changed") }
        let straight = try ADARExecutable.run(Self.tuneArguments, in: uninterrupted)
        #expect(straight.status == 0 && !straight.endedBySignal, "\(straight.standardError)")
        #expect(try ProtocolRunTests.results(after) == ProtocolRunTests.results(TuneCommandTests.store(in: uninterrupted)))
    }

    @Test("adar tune refuses a model the protocol does not train, and a sequential grid file with a CF-only row setting, writing nothing")
    func tuneRefusals() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bad = Self.sequentialGrid.replacingOccurrences(of: #""adar-forward": {"sampler": "adar", "rho": [0.5]}"#,
                                                           with: #""adar-forward": {"sampler": "adar", "rho": [0.5], "gradientFlow": ["detach"], "rMax": [1]}"#)
        try bad.write(to: folder.appendingPathComponent("bad.json"), atomically: true, encoding: .utf8)
        func replacing(_ option: String, with value: String, in arguments: [String] = SequentialProtocolTests.tuneArguments) -> [String] {
            var arguments = arguments
            arguments[arguments.firstIndex(of: option)! + 1] = value
            return arguments
        }
        let cases: [([String], Int32, String)] = [
            (replacing("--protocol", with: "full"), 64,
             "adar tune: error: --protocol full trains mf, lightgcn, not --model sasrec; the protocols of \(Self.gridFile) for sasrec: full-sequential, limited-sequential, smoke-sequential"),
            (replacing("--model", with: "mf"), 64, "--protocol smoke-sequential trains sasrec, not --model mf; the protocols of"),
            (replacing("--grids", with: "bad.json"), 65,
             #"bad.json: $.protocols.seq.grids.adar-forward.rMax: row "adar-forward": applies only with the denoised generator"#),
            (replacing("--synthetic-items", with: "50"), 64, "--synthetic-items: 50 must be at least 90 for SASRec's synthetic walks of 30 items"),
            (replacing("--samplers", with: "ahns", in: Self.tuneArguments + ["--samplers", "x"]), 64,
             #"--samplers: "ahns" is not a row of protocol smoke-sequential"#),
        ]
        for (arguments, status, message) in cases {
            let result = try ADARExecutable.run(arguments, in: folder)
            #expect(result.status == status && !result.endedBySignal, "\(arguments): \(result.status) \(result.standardError)")
            #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("runs.sqlite").path))
    }
}
