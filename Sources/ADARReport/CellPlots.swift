import Foundation

/// Hand-written SVGs of a cell, in the style of `adar demo`'s plot: one colour per sampler,
/// labelled axes, a legend below the panels.
public enum CellPlots {
    static let knownColours = ["uniform": "#555555", "dns": "#1f77b4", "ahns": "#2ca02c", "adar": "#d62728", "mixgcf": "#9467bd"]
    static let spareColours = ["#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]

    static func colours(_ samplers: [String]) -> [String: String] {
        var colours: [String: String] = [:]
        var spare = 0
        for sampler in samplers {
            if let known = knownColours[sampler] {
                colours[sampler] = known
            } else {
                colours[sampler] = spareColours[spare % spareColours.count]
                spare += 1
            }
        }
        return colours
    }

    static let panel = (width: 440.0, height: 300.0)
    static let margin = (left: 70.0, right: 20.0, top: 50.0, bottom: 55.0)

    /// (a) Validation primary metric (NDCG@20; SASRec NDCG@10) against epoch for each sampler's final run at the cell's first
    /// (split seed, model seed), the chosen epoch circled.
    public static func validationCurves(_ report: CellReport) -> String {
        let samplers = report.curves.map(\.sampler)
        let colours = colours(report.rows.map(\.sampler))
        let width = margin.left + panel.width + margin.right + 150
        let height = margin.top + panel.height + margin.bottom
        var svg = header(width: width, height: height)
        let x0 = margin.left, y0 = margin.top
        let pairText = report.curvePair.map { " (\($0))" } ?? ""
        let metric = report.metrics.primary.title
        svg += text(x0 + panel.width / 2, 20, "\(report.cell): validation \(metric) by epoch", size: 14, anchor: "middle")
        svg += text(x0 + panel.width / 2, 38, "final run\(pairText); circle = chosen (best validation) epoch", size: 11, anchor: "middle")
        let values = report.curves.flatMap { $0.points.map(\.value) }
        let epochs = report.curves.flatMap { $0.points.map(\.epoch) }
        let xAxis = Axis(low: 0, high: Double(max(epochs.max() ?? 1, 1)), fromZero: true)
        let yAxis = Axis(low: values.min() ?? 0, high: values.max() ?? 1, fromZero: false)
        svg += frame(x0: x0, y0: y0, xAxis: xAxis, yAxis: yAxis, xLabel: "epoch", yLabel: "validation \(metric)")
        func point(_ epoch: Int, _ value: Double) -> (Double, Double) {
            (x0 + xAxis.fraction(Double(epoch)) * panel.width, y0 + panel.height * (1 - yAxis.fraction(value)))
        }
        for curve in report.curves {
            let colour = colours[curve.sampler] ?? "#000"
            let points = curve.points.map { point($0.epoch, $0.value) }
            svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(points.map { coordinates($0) }.joined(separator: " "))\"/>\n"
            if let chosen = curve.points.first(where: { $0.epoch == curve.bestEpoch }) {
                let (x, y) = point(chosen.epoch, chosen.value)
                svg += "<circle cx=\"\(number(x))\" cy=\"\(number(y))\" r=\"6\" fill=\"white\" stroke=\"\(colour)\" stroke-width=\"2.5\"/>\n"
            }
        }
        svg += legend(samplers, colours: colours, x: x0 + panel.width + 20, y: y0 + 10, chosenMarker: true)
        if samplers.isEmpty {
            svg += text(x0 + panel.width / 2, y0 + panel.height / 2, "no curves", size: 12, anchor: "middle")
        }
        return svg + "</svg>\n"
    }

    /// (b) Test metrics of the Holm family (NDCG@20 and Recall@20; SASRec NDCG@10 and HR@10) per sampler: mean ± std as a bar with caps, each run a dot.
    public static func testMetrics(_ report: CellReport) -> String {
        let samplers = report.rows.map(\.sampler)
        let colours = colours(samplers)
        let width = Double(report.metrics.compared.count) * (margin.left + panel.width + margin.right)
        let height = margin.top + panel.height + margin.bottom
        var svg = header(width: width, height: height)
        for (index, metric) in report.metrics.compared.enumerated() {
            let x0 = Double(index) * (margin.left + panel.width + margin.right) + margin.left, y0 = margin.top
            svg += text(x0 + panel.width / 2, 20, "\(report.cell): test \(metric.title)", size: 14, anchor: "middle")
            svg += text(x0 + panel.width / 2, 38, "mean ± std over the final runs; dots = runs", size: 11, anchor: "middle")
            var extremes: [Double] = []
            for row in report.rows {
                let summary = row.test[metric]!
                extremes += row.runs.map { $0.testMetrics[metric.rawValue]! }
                if let sd = summary.standardDeviation.value { extremes += [summary.mean - sd, summary.mean + sd] }
            }
            let yAxis = Axis(low: extremes.min() ?? 0, high: extremes.max() ?? 1, fromZero: false)
            svg += frame(x0: x0, y0: y0, xAxis: nil, yAxis: yAxis, xLabel: "sampler", yLabel: "test \(metric.title)")
            let slot = panel.width / Double(max(samplers.count, 1))
            func y(_ value: Double) -> Double { y0 + panel.height * (1 - yAxis.fraction(value)) }
            for (k, row) in report.rows.enumerated() {
                let colour = colours[row.sampler] ?? "#000"
                let centre = x0 + slot * (Double(k) + 0.5)
                let summary = row.test[metric]!
                svg += text(centre, y0 + panel.height + 18, row.sampler, size: 12, anchor: "middle")
                if let sd = summary.standardDeviation.value {
                    svg += "<line x1=\"\(number(centre))\" y1=\"\(number(y(summary.mean - sd)))\" x2=\"\(number(centre))\" y2=\"\(number(y(summary.mean + sd)))\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
                    for end in [summary.mean - sd, summary.mean + sd] {
                        svg += "<line x1=\"\(number(centre - 8))\" y1=\"\(number(y(end)))\" x2=\"\(number(centre + 8))\" y2=\"\(number(y(end)))\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
                    }
                }
                svg += "<line x1=\"\(number(centre - 16))\" y1=\"\(number(y(summary.mean)))\" x2=\"\(number(centre + 16))\" y2=\"\(number(y(summary.mean)))\" stroke=\"\(colour)\" stroke-width=\"3.5\"/>\n"
                // Runs side by side to the right of the bar, in pair order.
                for (r, run) in row.runs.enumerated() {
                    let x = centre + 24 + Double(r % 6) * 5
                    svg += "<circle cx=\"\(number(x))\" cy=\"\(number(y(run.testMetrics[metric.rawValue]!)))\" r=\"3\" fill=\"\(colour)\" fill-opacity=\"0.7\"/>\n"
                }
            }
        }
        return svg + "</svg>\n"
    }

    /// (c) S9's calibration of the transition point by epoch for each ADAR row's final run at the
    /// cell's first (split seed, model seed): Z (left, with the ±1.96 band of a N(0, 1) statistic) and
    /// the share of synthetic negatives scoring above `s⁻` (right, solid) against the mean forward
    /// retention π (dashed), the share `forward` predicts. Nil when no ADAR run recorded calibration.
    public static func calibration(_ report: CellReport) -> String? {
        let curves = report.calibrationCurves
        guard !curves.isEmpty else { return nil }
        let samplers = curves.map(\.sampler)
        let colours = colours(report.rows.map(\.sampler))
        let panelWidth = margin.left + panel.width + margin.right
        let width = 2 * panelWidth + 200  // room for legends like "adar-hardest-through"
        let height = margin.top + panel.height + margin.bottom
        var svg = header(width: width, height: height)
        let epochs = curves.flatMap { $0.points.map(\.epoch) }
        let xAxis = Axis(low: 0, high: Double(max(epochs.max() ?? 1, 1)), fromZero: true)
        let pairText = report.curvePair.map { "final run (\($0))" } ?? "final run"
        let zValues = curves.flatMap { $0.points.map(\.z) } + [-1.96, 1.96]
        let panels: [(title: String, yLabel: String, axis: Axis)] = [
            ("\(report.cell): calibration Z by epoch", "Z (S9)", Axis(low: zValues.min()!, high: zValues.max()!, fromZero: false)),
            ("share of negatives above s⁻ (solid) vs mean π (dashed)", "share of Y = 1", Axis(low: 0, high: 1, fromZero: true)),
        ]
        for (index, item) in panels.enumerated() {
            let x0 = Double(index) * panelWidth + margin.left, y0 = margin.top
            svg += text(x0 + panel.width / 2, 20, item.title, size: 14, anchor: "middle")
            svg += text(x0 + panel.width / 2, 38, "\(pairText) of each ADAR row's chosen configuration", size: 11, anchor: "middle")
            svg += frame(x0: x0, y0: y0, xAxis: xAxis, yAxis: item.axis, xLabel: "epoch", yLabel: item.yLabel)
            func point(_ epoch: Int, _ value: Double) -> (Double, Double) {
                (x0 + xAxis.fraction(Double(epoch)) * panel.width, y0 + panel.height * (1 - item.axis.fraction(value)))
            }
            func polyline(_ points: [(Double, Double)], colour: String, dashed: Bool) -> String {
                "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dashed ? " stroke-dasharray=\"6 4\"" : "") "
                    + "points=\"\(points.map { coordinates($0) }.joined(separator: " "))\"/>\n"
            }
            if index == 0 {
                // Where a N(0, 1) statistic lies 95 % of the time: forward's Z should stay inside.
                for bound in [-1.96, 1.96] {
                    svg += polyline([point(0, bound), point(Int(xAxis.high), bound)], colour: "#999999", dashed: true)
                }
            }
            for curve in curves {
                let colour = colours[curve.sampler] ?? "#000"
                if index == 0 {
                    svg += polyline(curve.points.map { point($0.epoch, $0.z) }, colour: colour, dashed: false)
                } else {
                    svg += polyline(curve.points.map { point($0.epoch, $0.share) }, colour: colour, dashed: false)
                    svg += polyline(curve.points.map { point($0.epoch, $0.meanRetention) }, colour: colour, dashed: true)
                }
            }
        }
        svg += legend(samplers, colours: colours, x: 2 * panelWidth + 10, y: margin.top + 10, chosenMarker: false)
        return svg + "</svg>\n"
    }

    // MARK: Pieces

    /// A linear axis over [low, high] widened to round ticks (five or so).
    struct Axis {
        let low: Double, high: Double, step: Double

        init(low: Double, high: Double, fromZero: Bool) {
            var low = fromZero ? 0 : low, high = high
            if high <= low { low -= 0.5 * max(abs(low), 1e-3); high += 0.5 * max(abs(high), 1e-3) }
            // A margin, so that no point sits on the frame.
            let pad = 0.04 * (high - low)
            if !fromZero { low -= pad }
            high += pad
            let raw = (high - low) / 5
            let power = pow(10, floor(log10(raw)))
            let step = [1, 2, 2.5, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
            self.step = step
            self.low = floor(low / step) * step
            self.high = max(ceil(high / step) * step, self.low + step)
        }

        func fraction(_ value: Double) -> Double { (value - low) / (high - low) }

        var ticks: [Double] {
            let count = Int(((high - low) / step).rounded())
            return (0...count).map { low + Double($0) * step }
        }

        /// Enough decimals to tell the ticks apart.
        func label(_ value: Double) -> String {
            let decimals = max(0, Int(-floor(log10(step) + 1e-9)) + (step / pow(10, floor(log10(step))) == 2.5 ? 1 : 0))
            return String(format: "%.\(decimals)f", value)
        }
    }

    static func header(width: Double, height: Double) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>

        """
    }

    static func frame(x0: Double, y0: Double, xAxis: Axis?, yAxis: Axis, xLabel: String, yLabel: String) -> String {
        var svg = "<rect x=\"\(number(x0))\" y=\"\(number(y0))\" width=\"\(number(panel.width))\" height=\"\(number(panel.height))\" fill=\"none\" stroke=\"#000\"/>\n"
        for tick in yAxis.ticks {
            let y = y0 + panel.height * (1 - yAxis.fraction(tick))
            svg += "<line x1=\"\(number(x0 - 4))\" y1=\"\(number(y))\" x2=\"\(number(x0 + panel.width))\" y2=\"\(number(y))\" stroke=\"#ddd\"/>"
            svg += text(x0 - 8, y + 4, yAxis.label(tick), size: 12, anchor: "end")
        }
        if let xAxis {
            for tick in xAxis.ticks {
                let x = x0 + panel.width * xAxis.fraction(tick)
                svg += "<line x1=\"\(number(x))\" y1=\"\(number(y0 + panel.height))\" x2=\"\(number(x))\" y2=\"\(number(y0 + panel.height + 4))\" stroke=\"#000\"/>"
                svg += text(x, y0 + panel.height + 18, xAxis.label(tick), size: 12, anchor: "middle")
            }
        }
        svg += text(x0 + panel.width / 2, y0 + panel.height + 40, xLabel, size: 12, anchor: "middle")
        let yMid = y0 + panel.height / 2
        svg += "<text x=\"\(number(x0 - 55))\" y=\"\(number(yMid))\" text-anchor=\"middle\" transform=\"rotate(-90 \(number(x0 - 55)) \(number(yMid)))\">\(escape(yLabel))</text>\n"
        return svg
    }

    static func legend(_ samplers: [String], colours: [String: String], x: Double, y: Double, chosenMarker: Bool) -> String {
        var svg = ""
        for (k, sampler) in samplers.enumerated() {
            let yk = y + Double(k) * 20
            svg += "<line x1=\"\(number(x))\" y1=\"\(number(yk - 4))\" x2=\"\(number(x + 24))\" y2=\"\(number(yk - 4))\" stroke=\"\(colours[sampler] ?? "#000")\" stroke-width=\"2.5\"/>"
            svg += text(x + 30, yk, sampler, size: 12, anchor: "start")
        }
        if chosenMarker {
            let yk = y + Double(samplers.count) * 20 + 6
            svg += "<circle cx=\"\(number(x + 12))\" cy=\"\(number(yk - 4))\" r=\"6\" fill=\"white\" stroke=\"#000\" stroke-width=\"2\"/>"
            svg += text(x + 30, yk, "chosen epoch", size: 12, anchor: "start")
        }
        return svg
    }

    static func text(_ x: Double, _ y: Double, _ content: String, size: Int, anchor: String) -> String {
        "<text x=\"\(number(x))\" y=\"\(number(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\">\(escape(content))</text>\n"
    }

    static func coordinates(_ point: (Double, Double)) -> String { "\(number(point.0)),\(number(point.1))" }

    /// One decimal: enough for pixels, and the same text on every platform.
    static func number(_ x: Double) -> String { String(format: "%.1f", x) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
