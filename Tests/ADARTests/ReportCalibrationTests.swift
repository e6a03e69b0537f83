import Foundation
import Testing
import ADARReport
import ADARStore

/// `adar report`'s "Calibration at the chosen epoch (S9)" table: per ADAR row, S9's statistics and the S5
/// status shares of the validation evaluation at each final run's best epoch, min – max over the runs.
/// The stores are planted by hand; every expected number below is one of the planted values.
@Suite("Report calibration at the chosen epoch")
struct ReportCalibrationTests {
    /// One evaluation's calibration extras, as ProtocolSweep records them.
    struct Planted {
        var z: Double, share: Double, retention: Double, transition: Double, alreadyNegative: Double

        var extra: [String: Double] {
            ["calibration.z": z, "calibration.share": share, "calibration.meanRetention": retention, "calibration.rows": 1000,
             "share.transition": transition, "share.alreadyNegative": alreadyNegative, "share.saturated": 0.01]
        }
    }

    /// One final run: its best epoch and the extras of its evaluations at epochs 5, 10 and 15 (nil = none recorded).
    typealias FinalRun = (bestEpoch: Int, evaluations: [Int: Planted?])

    /// Values that no run's chosen epoch carries: if the summary read them, the table would show them.
    static let decoyA = Planted(z: 3.33, share: 0.777, retention: 0.444, transition: 0.555, alreadyNegative: 0.222)
    static let decoyB = Planted(z: -2.71, share: 0.333, retention: 0.456, transition: 0.567, alreadyNegative: 0.234)

    /// Three ADAR rows and uniform, two final runs each, with chosen epochs 10 and 15 in turn.
    static let planted: [(sampler: String, runs: [FinalRun])] = [
        // A baseline never records calibration; planted here so that leaving it out is checked.
        ("uniform", [
            (10, [5: decoyA, 10: decoyA, 15: decoyA]),
            (10, [5: decoyB, 10: decoyB, 15: decoyB]),
        ]),
        ("adar-forward", [
            (10, [5: decoyA, 10: Planted(z: 0.42, share: 0.503, retention: 0.497, transition: 0.612, alreadyNegative: 0.118), 15: decoyB]),
            (15, [5: decoyB, 10: decoyA, 15: Planted(z: -1.37, share: 0.488, retention: 0.495, transition: 0.640, alreadyNegative: 0.105)]),
        ]),
        ("adar-denoised", [
            (15, [5: decoyA, 10: decoyB, 15: Planted(z: 152.31, share: 0.921, retention: 0.489, transition: 0.700, alreadyNegative: 0.080)]),
            (10, [5: decoyB, 10: Planted(z: 98.6, share: 0.874, retention: 0.492, transition: 0.690, alreadyNegative: 0.090), 15: decoyA]),
        ]),
        // The second run's chosen epoch recorded no calibration (its other epochs did): counted as 1 of 2.
        ("adar-w0", [
            (10, [5: decoyA, 10: Planted(z: 0.05, share: 0.5, retention: 0.5, transition: 0.6, alreadyNegative: 0.1), 15: decoyB]),
            (10, [5: decoyA, 10: nil, 15: decoyB]),
        ]),
    ]

    static let calibrated = Cell(dataset: "ml-100k", backbone: "mf", protocol: "full")
    static let uncalibrated = Cell(dataset: "ml-1m", backbone: "mf", protocol: "full")

    /// `planted` in the cell `calibrated`; with `uncalibratedCell`, also uniform and adar in `uncalibrated`, recording no calibration.
    static func store(uncalibratedCell: Bool = false) throws -> RunStore {
        let store = try RunStore.inMemory()
        var cells = [(calibrated, planted)]
        if uncalibratedCell {
            let plain: [FinalRun] = [(10, [5: nil, 10: nil, 15: nil]), (15, [5: nil, 10: nil, 15: nil])]
            cells.append((uncalibrated, [("uniform", plain), ("adar", plain)]))
        }
        for (cell, rows) in cells {
            for (sampler, runs) in rows {
                for (pair, run) in zip(ReportTests.pairs, runs) {
                    let spec = ReportTests.spec(.final, sampler, ["lr": 0.001], split: pair.split, model: pair.model,
                                                dataset: cell.dataset, backbone: cell.backbone, protocol: cell.protocol)
                    let id = try ReportTests.started(store.begin(spec, codeVersion: "test"))
                    for epoch in [5, 10, 15] {
                        let extra = ["meanLoss": 0.5].merging(run.evaluations[epoch]??.extra ?? [:]) { $1 }
                        try store.recordEvaluation(id, epoch: epoch, split: .validation,
                                                   metrics: ["ndcg@20": 0.3 + Double(epoch) / 1000], extra: extra)
                    }
                    try store.finish(id, bestEpoch: run.bestEpoch, testMetrics: ["ndcg@20": 0.31, "recall@20": 0.2], seconds: 1)
                }
            }
        }
        return store
    }

    @Test("The table holds each ADAR row's values at its runs' chosen epochs, min – max; never another epoch's, never a baseline")
    func chosenEpochTable() throws {
        let report = try CellReport(cell: Self.calibrated, store: Self.store())
        #expect(report.chosenEpochCalibration.map(\.sampler) == ["adar-denoised", "adar-forward", "adar-w0"])
        let forward = try #require(report.chosenEpochCalibration.first { $0.sampler == "adar-forward" })
        #expect(forward.finalRuns == 2 && forward.runs.count == 2)
        #expect(forward.range { $0.calibration.z }! == (-1.37, 0.42))
        #expect(forward.range { $0.calibration.share }! == (0.488, 0.503))
        #expect(forward.range { $0.calibration.meanRetention }! == (0.495, 0.497))
        #expect(forward.range(\.transitionShare)! == (0.612, 0.640) && forward.range(\.alreadyNegativeShare)! == (0.105, 0.118))
        let w0 = try #require(report.chosenEpochCalibration.last)
        #expect(w0.finalRuns == 2 && w0.runs.count == 1 && w0.range { $0.calibration.z }! == (0.05, 0.05))

        let markdown = CellMarkdown.render(report)
        let expected = """
            ## Calibration at the chosen epoch (S9)

            | ADAR row | runs | share of Y = 1 | mean π̄ | Z | share transition | share alreadyNegative |
            |---|---:|---:|---:|---:|---:|---:|
            | adar-denoised | 2 | 0.874 – 0.921 | 0.489 – 0.492 | 98.60 – 152.31 | 0.690 – 0.700 | 0.080 – 0.090 |
            | adar-forward | 2 | 0.488 – 0.503 | 0.495 – 0.497 | -1.37 – 0.42 | 0.612 – 0.640 | 0.105 – 0.118 |
            | adar-w0 | 1 of 2 | 0.500 | 0.500 | 0.05 | 0.600 | 0.100 |

            Min – max over the final runs, each at its chosen epoch
            """
        #expect(markdown.contains(expected), "\(markdown)")
        #expect(markdown.contains("under `forward` the two agree and Z ≈ N(0, 1), so a gap means the negatives are not where S4 put them."))
        // The chosen epochs were read, not the last (or first) evaluation: no decoy value reaches the table.
        for decoy in [Self.decoyA, Self.decoyB] {
            for text in [String(format: "%.2f", decoy.z), String(format: "%.3f", decoy.share), String(format: "%.3f", decoy.retention),
                         String(format: "%.3f", decoy.transition), String(format: "%.3f", decoy.alreadyNegative)] {
                #expect(!markdown.contains(text), "\(text) is a value of an epoch that was not chosen")
            }
        }
        // uniform recorded the extras but is no ADAR row: not in the table (it is in the final table above it).
        let section = try #require(markdown.components(separatedBy: "Calibration at the chosen epoch (S9)").last)
        let table = try #require(section.components(separatedBy: "## Settings").first)
        #expect(!table.contains("| uniform |") && markdown.contains("| uniform | 2 |"))
        #expect(!markdown.contains("Not in this table:"), "every ADAR row recorded calibration")
    }

    @Test("A cell without calibration has no table; the README section carries the table of the cell that has it")
    func noCalibrationNoTable() throws {
        let store = try Self.store(uncalibratedCell: true)
        let plain = try CellReport(cell: Self.uncalibrated, store: store)
        #expect(plain.rows.map(\.sampler) == ["uniform", "adar"] && plain.chosenEpochCalibration.isEmpty)
        #expect(!CellMarkdown.render(plain).contains("Calibration at the chosen epoch"))

        let report = try Report(store: store, filter: .init(), commandLine: "adar report")
        let files = report.files(markdownOnly: true)
        let calibratedFile = try #require(files.first { $0.name == "\(Self.calibrated.fileStem).md" })
        let plainFile = try #require(files.first { $0.name == "\(Self.uncalibrated.fileStem).md" })
        #expect(calibratedFile.contents.contains("## Calibration at the chosen epoch (S9)"))
        #expect(!plainFile.contents.contains("Calibration at the chosen epoch"))
        let readme = report.readmeSection(linkPrefix: "results/report/")
        #expect(readme.components(separatedBy: "#### Calibration at the chosen epoch (S9)").count == 2, "once, under the ml-100k cell")
        #expect(readme.contains("| adar-forward | 2 | 0.488 – 0.503 | 0.495 – 0.497 | -1.37 – 0.42 | 0.612 – 0.640 | 0.105 – 0.118 |"))
    }

    @Test("An ADAR row without calibration beside rows with it is named under the table, not silently left out")
    func silentADARRowNamed() throws {
        let store = try Self.store()
        let spec = ReportTests.spec(.final, "adar", ["lr": 0.001], split: 2026, model: 1)
        let id = try ReportTests.started(store.begin(spec, codeVersion: "before the calibration extras"))
        try store.recordEvaluation(id, epoch: 10, split: .validation, metrics: ["ndcg@20": 0.31], extra: ["meanLoss": 0.5])
        try store.finish(id, bestEpoch: 10, testMetrics: ["ndcg@20": 0.31, "recall@20": 0.2], seconds: 1)
        // A row that recorded calibration, but at no chosen epoch: in the table, with no numbers.
        let unchosen = try ReportTests.started(store.begin(ReportTests.spec(.final, "adar-x", ["lr": 0.001], split: 2026, model: 1),
                                                           codeVersion: "test"))
        try store.recordEvaluation(unchosen, epoch: 5, split: .validation, metrics: ["ndcg@20": 0.30], extra: Self.decoyA.extra)
        try store.recordEvaluation(unchosen, epoch: 10, split: .validation, metrics: ["ndcg@20": 0.31], extra: ["meanLoss": 0.5])
        try store.finish(unchosen, bestEpoch: 10, testMetrics: ["ndcg@20": 0.31, "recall@20": 0.2], seconds: 1)
        let report = try CellReport(cell: Self.calibrated, store: store)
        #expect(report.rows.map(\.sampler).contains("adar") && !report.chosenEpochCalibration.map(\.sampler).contains("adar"))
        let markdown = CellMarkdown.render(report)
        #expect(markdown.contains("Not in this table: adar, whose final runs recorded no calibration"))
        #expect(markdown.contains("| adar-x | 0 of 1 | — | — | — | — | — |"))
    }
}
