import Foundation

func renderTable(_ results: [WorkloadResult], runs: Int, threads: Int) -> String {
    var lines = ["adar-bench: median of \(runs) runs after a warm-up; \(threads) threads for 'all'; ratios from medians of this run", ""]
    let header = ["workload", "variant", "median ms", "min ms", "max ms", "M rows/s", "ns/row", "G normals/s"]
    let widths = [40, 14, 10, 10, 10, 9, 10, 11]
    func row(_ cells: [String]) -> String {
        zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " ")
    }
    lines.append(row(header))
    for result in results {
        let (b, d, _) = result.workload.shape
        for variant in result.variants {
            let t = variant.timing
            lines.append(row([
                result.workload.name, variant.name,
                String(format: "%.3f", t.median * 1e3), String(format: "%.3f", t.min * 1e3), String(format: "%.3f", t.max * 1e3),
                String(format: "%.3f", Double(b) / t.median / 1e6), String(format: "%.1f", t.median / Double(b) * 1e9),
                String(format: "%.3f", Double(b * d) / t.median / 1e9),
            ]))
        }
        for (label, value) in ratios(result) {
            lines.append("    \(label): \(String(format: "%.2f", value))")
        }
    }
    return lines.joined(separator: "\n")
}

/// optimised/reference speed-ups and optimised/bound efficiency (speeds, so
/// larger is better; computed from medians of this run).
func ratios(_ result: WorkloadResult) -> [(String, Double)] {
    guard let reference = result.median("reference"), let one = result.median("optimised-1"),
          let all = result.median("optimised-all"), let bound = result.median("bound-all") else { return [] }
    return [
        ("speed-up optimised-1 / reference", reference / one),
        ("speed-up optimised-all / reference", reference / all),
        ("optimised-all / noise-fill bound (share of bound speed)", bound / all),
    ]
}

func renderJSON(_ results: [WorkloadResult], runs: Int, threads: Int) -> String {
    let workloads = results.map { result -> String in
        let (b, d, m) = result.workload.shape
        let variants = result.variants.map { v in
            let t = v.timing
            let seconds = t.seconds.map { "\($0)" }.joined(separator: ",")
            return "{\"variant\":\"\(v.name)\",\"medianSeconds\":\(t.median),\"minSeconds\":\(t.min),\"maxSeconds\":\(t.max),"
                + "\"rowsPerSecond\":\(Double(b) / t.median),\"nsPerRow\":\(t.median / Double(b) * 1e9),"
                + "\"normalsPerSecond\":\(Double(b * d) / t.median),\"seconds\":[\(seconds)]}"
        }.joined(separator: ",")
        let ratioText = ratios(result).map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",")
        return "{\"workload\":\"\(result.workload.name)\",\"rows\":\(b),\"dimension\":\(d),\"pool\":\(m),"
            + "\"variants\":[\(variants)],\"ratios\":{\(ratioText)}}"
    }.joined(separator: ",")
    return "{\"runs\":\(runs),\"threads\":\(threads),\"workloads\":[\(workloads)]}"
}
