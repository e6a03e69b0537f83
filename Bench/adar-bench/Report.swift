import Foundation

func renderTable(_ results: [WorkloadResult], runs: Int, threads: Int, notice: String?) -> String {
    var lines = ["adar-bench: median of \(runs) runs after a warm-up; \(threads) threads for 'all'; ratios from medians of this run"]
    lines += peerDescription(results, threads: threads)
    if let notice { lines.append(notice) }
    lines.append("")
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
        lines.append("    " + workloadFacts(result))
        for (label, value) in ratios(result) {
            lines.append("    \(label): \(String(format: "%.2f", value))")
        }
    }
    lines += ["", "README table (ns per row, medians of this run):", ""] + renderMarkdown(results, threads: threads)
    return lines.joined(separator: "\n")
}

/// What the PyTorch columns are, from the first workload the peer measured.
func peerDescription(_ results: [WorkloadResult], threads: Int) -> [String] {
    var lines = ["'noise-bound': the B×d S8 normals alone; 'gather-bound': the row's table reads alone (user, positive, "
        + "M pool vectors, one stored row; the fastest of prefetching 1, 2 or 4 rows ahead); a row's floor is the larger of the two"]
    if let cache = lastLevelCache() {
        lines.append("tables of at most the \(cache.name) (\(megabytes(cache.bytes))) are 'cache-resident', larger ones 'big-table'")
    }
    for result in results {
        if case let .measured(json) = result.pytorch {
            lines.append("'pytorch-1', 'pytorch-all': torch \(json["torch"] ?? "?") (CPU) running examples/ports/pytorch/adar_torch.py "
                + "with noise=\"randn\" (torch.randn, not S8's Philox), float32, torch.set_num_threads 1 and \(threads), "
                + "OMP_WAIT_POLICY=\(json["ompWaitPolicy"] ?? "?"), "
                + "gathering from the same tables by the same index streams (Bench/pytorch/adar_synthesis.py)")
            break
        }
    }
    return lines
}

/// The workload's tables against the last-level cache, and the rows that took S6's noised path.
func workloadFacts(_ result: WorkloadResult) -> String {
    let (b, _, _) = result.workload.shape
    var text = "tables \(megabytes(result.workload.tableBytes)) (\(tableClass(result.workload))); "
        + "gather bound at \(result.gatherAhead) row\(result.gatherAhead == 1 ? "" : "s") ahead; \(result.noisedRows) of \(b) rows noised (S6)"
    if case let .measured(json) = result.pytorch, let rows = json["noisedRows"] as? Int { text += ", PyTorch \(rows)" }
    return text
}

func tableClass(_ workload: Workload) -> String {
    guard let cache = lastLevelCache() else { return "cache size unknown" }
    return workload.tableBytes <= cache.bytes ? "cache-resident" : "big-table"
}

func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }

/// The largest cache level Linux reports for CPU 0 (sysfs), e.g. ("L3", 32 MiB); nil elsewhere.
func lastLevelCache() -> (name: String, bytes: Int)? {
    let folder = "/sys/devices/system/cpu/cpu0/cache"
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return nil }
    let caches = entries.filter { $0.hasPrefix("index") }.compactMap { entry -> (level: Int, bytes: Int)? in
        func read(_ name: String) -> String? {
            (try? String(contentsOfFile: "\(folder)/\(entry)/\(name)", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let level = read("level").flatMap(Int.init), let size = read("size"), size.hasSuffix("K"),
              let kibibytes = Int(size.dropLast()) else { return nil }
        return (level, kibibytes * 1024)
    }
    return caches.max { $0.level < $1.level }.map { ("L\($0.level)", $0.bytes) }
}

/// Speed ratios of medians of this run (larger is better): optimised against the reference, against each
/// bound and the floor (the larger bound), and PyTorch against optimised at the same thread count.
func ratios(_ result: WorkloadResult) -> [(String, Double)] {
    guard let reference = result.median("reference"), let one = result.median("optimised-1"),
          let all = result.median("optimised-all"), let noise = result.median("noise-bound"),
          let gather = result.median("gather-bound") else { return [] }
    var ratios = [
        ("speed-up optimised-1 / reference", reference / one),
        ("speed-up optimised-all / reference", reference / all),
        ("optimised-all / noise-fill bound (share of bound speed)", noise / all),
        ("optimised-all / gather bound (share of bound speed)", gather / all),
        ("optimised-all / floor = max(noise fill, gather) = \(noise >= gather ? "noise fill" : "gather") (share of floor)", max(noise, gather) / all),
    ]
    if let torch = result.median("pytorch-1") { ratios.append(("× PyTorch, 1 thread (pytorch-1 / optimised-1)", torch / one)) }
    if let torch = result.median("pytorch-all") { ratios.append(("× PyTorch, all threads (pytorch-all / optimised-all)", torch / all)) }
    return ratios
}

/// The README's throughput table: ns per row, ratios of medians, the PyTorch columns only when the peer ran.
func renderMarkdown(_ results: [WorkloadResult], threads: Int) -> [String] {
    let withTorch = results.contains { $0.median("pytorch-all") != nil }
    var header = ["workload", "tables", "reference ns/row", "optimised, 1 thread", "optimised, \(threads) threads",
                  "noise bound", "gather bound", "×reference (\(threads) threads)", "share of floor"]
    if withTorch { header += ["PyTorch, \(threads) threads", "× PyTorch (1 thread)", "× PyTorch (\(threads) threads)"] }
    var lines = ["| " + header.joined(separator: " | ") + " |", "|" + String(repeating: "---|", count: header.count)]
    for result in results {
        let (b, d, m) = result.workload.shape
        let perRow = { (name: String) in result.median(name).map { String(format: "%.0f", $0 / Double(b) * 1e9) } ?? "–" }
        guard let reference = result.median("reference"), let one = result.median("optimised-1"),
              let all = result.median("optimised-all"), let noise = result.median("noise-bound"),
              let gather = result.median("gather-bound") else { continue }
        var cells = ["\(result.workload.kind) (\(b), \(d), \(m))", "\(megabytes(result.workload.tableBytes)), \(tableClass(result.workload))",
                     perRow("reference"), perRow("optimised-1"), perRow("optimised-all"), perRow("noise-bound"), perRow("gather-bound"),
                     String(format: "%.1f×", reference / all),
                     String(format: "%.2f (%@)", max(noise, gather) / all, noise >= gather ? "noise" : "gather")]
        if withTorch {
            let ratio = { (torch: String, swift: Double) in result.median(torch).map { String(format: "%.1f×", $0 / swift) } ?? "–" }
            cells += [perRow("pytorch-all"), ratio("pytorch-1", one), ratio("pytorch-all", all)]
        }
        lines.append("| " + cells.joined(separator: " | ") + " |")
    }
    return lines
}

func renderJSON(_ results: [WorkloadResult], runs: Int, threads: Int, notice: String?) -> String {
    let workloads = results.map { result -> String in
        let (b, d, m) = result.workload.shape
        let variants = result.variants.map { v in
            let t = v.timing
            let seconds = t.seconds.map { "\($0)" }.joined(separator: ",")
            return "{\"variant\":\"\(v.name)\",\"medianSeconds\":\(t.median),\"minSeconds\":\(t.min),\"maxSeconds\":\(t.max),"
                + "\"rowsPerSecond\":\(Double(b) / t.median),\"nsPerRow\":\(t.median / Double(b) * 1e9),"
                + "\"normalsPerSecond\":\(Double(b * d) / t.median),\"seconds\":[\(seconds)]}"
        }.joined(separator: ",")
        let ratioText = ratios(result).map { "\(jsonString($0.0)):\($0.1)" }.joined(separator: ",")
        return "{\"workload\":\"\(result.workload.name)\",\"rows\":\(b),\"dimension\":\(d),\"pool\":\(m),"
            + "\"tableBytes\":\(result.workload.tableBytes),\"noisedRows\":\(result.noisedRows),"
            + "\"variants\":[\(variants)],\"ratios\":{\(ratioText)}}"
    }.joined(separator: ",")
    let noticeText = notice.map { ",\"notice\":\(jsonString($0))" } ?? ""
    return "{\"runs\":\(runs),\"threads\":\(threads)\(noticeText),\"workloads\":[\(workloads)]}"
}

func jsonString(_ text: String) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: text, options: .fragmentsAllowed), as: UTF8.self)
}
