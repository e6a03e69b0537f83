import ADARCore
import Foundation
import ADARData
import ADARTraining

/// A hand-written SVG: Recall@20 and NDCG@20 against epoch, one colour per
/// sampler; thin lines per seed, a thick line for the mean over seeds.
enum DemoPlot {
    static let colours: [SamplerKind: String] = [.uniform: "#555555", .dns: "#1f77b4", .ahns: "#2ca02c", .adar: "#d62728", .mixgcf: "#9467bd"]

    static func svg(_ runs: [DemoRun], samplers: [SamplerKind], epochs: Int) -> String {
        let panelWidth = 420.0, panelHeight = 300.0, margin = (left: 60.0, right: 20.0, top: 40.0, bottom: 50.0)
        let width = 2 * (margin.left + panelWidth + margin.right), height = margin.top + panelHeight + margin.bottom + 30
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>

            """
        let metrics: [(String, (RankingMetrics) -> Double)] = [("Recall@20", { $0.recall(at: 20) }), ("NDCG@20", { $0.ndcg(at: 20) })]
        for (panel, (name, metric)) in metrics.enumerated() {
            let x0 = Double(panel) * (margin.left + panelWidth + margin.right) + margin.left, y0 = margin.top
            let curves = runs.map { run in
                (run.sampler, run.history.compactMap { report in report.metrics.map { (Double(report.epoch), metric($0)) } })
            }
            let top = niceCeiling(curves.flatMap { $0.1.map(\.1) }.max() ?? 1)
            func point(_ epoch: Double, _ value: Double) -> String {
                String(format: "%.1f,%.1f", x0 + epoch / Double(epochs) * panelWidth, y0 + panelHeight * (1 - value / top))
            }
            svg += "<text x=\"\(x0 + panelWidth / 2)\" y=\"\(y0 - 14)\" text-anchor=\"middle\" font-size=\"14\">\(name) (test) against epoch</text>\n"
            svg += "<rect x=\"\(x0)\" y=\"\(y0)\" width=\"\(panelWidth)\" height=\"\(panelHeight)\" fill=\"none\" stroke=\"#000\"/>\n"
            for step in 0...5 {
                let value = top * Double(step) / 5, y = y0 + panelHeight * (1 - Double(step) / 5)
                svg += "<line x1=\"\(x0 - 4)\" y1=\"\(y)\" x2=\"\(x0 + panelWidth)\" y2=\"\(y)\" stroke=\"#ddd\"/>"
                svg += "<text x=\"\(x0 - 8)\" y=\"\(y + 4)\" text-anchor=\"end\">\(String(format: "%.2f", value))</text>\n"
                let epoch = Double(epochs) * Double(step) / 5, x = x0 + panelWidth * Double(step) / 5
                svg += "<line x1=\"\(x)\" y1=\"\(y0 + panelHeight)\" x2=\"\(x)\" y2=\"\(y0 + panelHeight + 4)\" stroke=\"#000\"/>"
                svg += "<text x=\"\(x)\" y=\"\(y0 + panelHeight + 18)\" text-anchor=\"middle\">\(Int(epoch.rounded()))</text>\n"
            }
            svg += "<text x=\"\(x0 + panelWidth / 2)\" y=\"\(y0 + panelHeight + 38)\" text-anchor=\"middle\">epoch</text>\n"
            for kind in samplers {
                let colour = colours[kind] ?? "#000"
                let mine = curves.filter { $0.0 == kind }.map(\.1)
                for curve in mine {
                    svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-opacity=\"0.3\" stroke-width=\"1\" points=\"\(curve.map { point($0.0, $0.1) }.joined(separator: " "))\"/>\n"
                }
                guard let first = mine.first else { continue }
                let mean = first.indices.map { k in (first[k].0, mine.reduce(0) { $0 + $1[k].1 } / Double(mine.count)) }
                svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2.5\" points=\"\(mean.map { point($0.0, $0.1) }.joined(separator: " "))\"/>\n"
            }
        }
        // Legend, centred below the panels.
        let legendY = margin.top + panelHeight + margin.bottom + 14
        for (k, kind) in samplers.enumerated() {
            let x = width / 2 - Double(samplers.count) * 55 + Double(k) * 110
            svg += "<line x1=\"\(x)\" y1=\"\(legendY - 4)\" x2=\"\(x + 24)\" y2=\"\(legendY - 4)\" stroke=\"\(colours[kind] ?? "#000")\" stroke-width=\"2.5\"/>"
            svg += "<text x=\"\(x + 30)\" y=\"\(legendY)\">\(kind.rawValue)</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ `value`.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let power = pow(10, floor(log10(value)))
        return [1, 2, 2.5, 5, 10].map { $0 * power }.first { $0 >= value } ?? 10 * power
    }
}
