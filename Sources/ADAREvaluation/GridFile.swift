import ADARCore
import ADARProtocol
import Foundation

/// A grid: for each hyper-parameter, the values to try (in the file's order).
/// Axes are kept in sorted key order, which fixes the enumeration order.
public struct ParameterGrid: Equatable, Sendable {
    public let axes: [Axis]

    public struct Axis: Equatable, Sendable {
        public let key: String
        public let values: [ConfigurationValue]
    }

    init(axes: [Axis]) { self.axes = axes.sorted { $0.key < $1.key } }

    /// The number of points: the product of the axis lengths (1 for no axes).
    public var size: Int { axes.reduce(1) { $0 * $1.values.count } }

    /// Every point, in grid order: the cartesian product over the axes in
    /// sorted key order, the first key varying slowest and each axis's values
    /// in the file's order.
    public var configurations: [RunConfiguration] {
        axes.reduce([[String: ConfigurationValue]()]) { points, axis in
            points.flatMap { point in axis.values.map { point.merging([axis.key: $0]) { $1 } } }
        // The loader admits only finite numbers and non-empty keys.
        }.map(RunConfiguration.init(validated:))
    }
}

/// How many configurations one row is tuned with, and which.
public struct TuningPlan: Equatable, Sendable {
    /// The row's name (`TuningRow.name`).
    public let row: String
    /// Points in the row's grid (common × its own).
    public let gridSize: Int
    /// The protocol's budget N.
    public let budget: Int
    /// The `min(N, gridSize)` configurations to tune, in grid order.
    public let configurations: [RunConfiguration]

    public var budgetUsed: Int { configurations.count }

    /// One line for a report, e.g. `dns: 12 of a 12-point grid (budget N = 12)`.
    public var summary: String {
        let line = "\(row): \(budgetUsed) of a \(gridSize)-point grid (budget N = \(budget))"
        return gridSize < budget
            ? line + "; the grid is smaller than N, so every point is tried (fewer tries than the other rows)"
            : line
    }
}

/// One row of a protocol's final table (docs/PROTOCOL.md "Rows"): a name, the base sampler
/// that trains it, the settings every one of its configurations holds, and its own grid axes.
/// The run store keys runs by the row's name (as `sampler`) and the whole configuration, so a
/// row named after its sampler with no settings keys its runs exactly as the five samplers did
/// before rows existed.
public struct TuningRow: Equatable, Sendable {
    public let name: String
    public let sampler: SamplerKind
    /// The grid file's `settings`: one value per key, in every configuration of the row.
    public let settings: RunConfiguration
    /// The row's own axes (neither the common grid's nor the settings).
    public let axes: [ParameterGrid.Axis]
}

/// What a protocol's tables can support, read from its name (docs/PROTOCOL.md "Standing"):
/// `full` and `full-…` are the full budget; `limited-…` a smaller budget declared for cost,
/// evidence with that caveat; any other name (`reduced`) a smoke test of the machinery.
public enum ProtocolStanding: Equatable, Sendable {
    case evidence, limited, smoke

    public init(protocolName name: String) {
        if name == "full" || name.hasPrefix("full-") {
            self = .evidence
        } else if name.hasPrefix("limited-") {
            self = .limited
        } else {
            self = .smoke
        }
    }
}

/// Which models a protocol trains (docs/PROTOCOL.md "The grid file"): the CF backbones (a protocol
/// without `"model"`), or SASRec (`"model": "sasrec"`, docs/TRAINING.md "Sequential protocol"), whose
/// fixed settings, samplers and keys differ.
public enum ProtocolModels: String, Equatable, Sendable {
    case collaborative, sequential

    /// The backbones (`adar tune --model`) the protocol's runs may train.
    public var backbones: [String] { self == .sequential ? ["sasrec"] : ["mf", "lightgcn"] }
    /// The validation metric early stopping and selection maximise, by its store name.
    public var selectionMetric: String { self == .sequential ? "ndcg@10" : "ndcg@20" }
}

/// One named protocol of the grid file (docs/PROTOCOL.md "The grid file").
public struct EvaluationProtocol: Equatable, Sendable {
    public let name: String
    public let description: String
    public let models: ProtocolModels
    /// N: configurations tuned per row.
    public let budget: Int
    /// Seeds the choice of N configurations from a larger grid.
    public let selectionSeed: UInt64
    public let earlyStopping: EarlyStoppingSettings
    /// Final runs: every model seed on every split seed (a data set with a
    /// fixed split, ML-1M, uses the model seeds only).
    public let modelSeeds: [UInt64]
    public let splitSeeds: [UInt64]
    /// The settings no grid tunes (d, batch, initial scale, LightGCN layers, the
    /// default pool, ADAR's policy and schedule), declared so a report can say so.
    public let fixed: RunConfiguration
    public let commonGrid: ParameterGrid
    /// The rows of the final table, in the file's order.
    public let rows: [TuningRow]

    /// The row named `name`, if the protocol declares one.
    public func row(named name: String) -> TuningRow? { rows.first { $0.name == name } }

    /// The row's full grid: common × its own axes, each setting a one-value axis, in grid order.
    /// One-value axes neither change the size nor the order of the points, so settings do not change
    /// which points the budget draws.
    public func grid(for row: TuningRow) -> ParameterGrid {
        let settings = row.settings.values.map { ParameterGrid.Axis(key: $0.key, values: [$0.value]) }
        return ParameterGrid(axes: commonGrid.axes + row.axes + settings)
    }

    /// A run's whole configuration: the fixed settings, overridden by the grid
    /// point's values (a grid's `pool` replaces the fixed one). The run store keys
    /// runs by it, so changing a fixed setting makes new runs rather than reusing old ones.
    public func runConfiguration(_ point: RunConfiguration) -> RunConfiguration {
        RunConfiguration(validated: fixed.values.merging(point.values) { $1 })
    }

    /// The configurations the row is tuned with.
    ///
    /// With G points and budget N: all G when G ≤ N. Otherwise a partial
    /// Fisher–Yates shuffle of the indices 0…G−1 with SplitMix64 seeded by
    /// `selectionSeed` (a fresh generator per row): for i = 0…N−1 draw
    /// `r = next()`, `j = i + ⌊r·(G − i)/2⁶⁴⌋`, swap positions i and j; the first
    /// N indices, sorted ascending, are the chosen points in grid order.
    public func tuningPlan(for row: TuningRow) -> TuningPlan {
        let all = grid(for: row).configurations
        let chosen: [RunConfiguration]
        if all.count <= budget {
            chosen = all
        } else {
            var generator = SeededGenerator(seed: selectionSeed)
            var indices = Array(all.indices)
            for i in 0..<budget {
                let j = i + Int(generator.next().multipliedFullWidth(by: UInt64(all.count - i)).high)
                indices.swapAt(i, j)
            }
            chosen = indices[..<budget].sorted().map { all[$0] }
        }
        return TuningPlan(row: row.name, gridSize: all.count, budget: budget, configurations: chosen)
    }
}

/// The grid file, `protocol/grids.json`, validated strictly on loading.
public struct GridFile: Equatable, Sendable {
    /// Names the file in error messages (normally its path).
    public let source: String
    /// The protocols in the file's order.
    public let protocols: [EvaluationProtocol]

    /// The protocol named `name`, or an error listing the names there are.
    public func evaluationProtocol(named name: String) throws(GridFileError) -> EvaluationProtocol {
        guard let found = protocols.first(where: { $0.name == name }) else {
            throw GridFileError(source: source, path: "$.protocols",
                                reason: "no protocol named \"\(name)\" (there are: \(protocols.map(\.name).joined(separator: ", ")))")
        }
        return found
    }

    public static func load(contentsOf url: URL) throws(GridFileError) -> GridFile {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw GridFileError(source: url.path, path: "$", reason: "cannot read the file as UTF-8: \(error.localizedDescription)")
        }
        return try parse(text, source: url.path)
    }

    /// `source` names the text in error messages (normally its path).
    public static func parse(_ text: String, source: String) throws(GridFileError) -> GridFile {
        let json: JSONValue
        do {
            json = try JSONValue.parse(text)
        } catch {
            throw GridFileError(source: source, path: "$", reason: "not valid JSON: \(error)")
        }
        return try GridFileReader(source: source).file(json)
    }
}

/// A grid file error: the file, the JSON path of the offending value, and why.
public struct GridFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let source: String
    /// A JSON path, e.g. `$.protocols.full.grids.dns.pool[2]`.
    public let path: String
    public let reason: String

    public var description: String { "\(source): \(path): \(reason)" }
}

// MARK: - The schema

/// What a grid key accepts.
private struct ParameterSpec {
    enum Kind {
        /// A real (an integer is accepted and read as a real) in the range `rangeText` describes.
        case real(rangeText: String, accepts: @Sendable (Double) -> Bool)
        case integer(minimum: Int, maximum: Int = .max)
        case choice([String])
    }

    let key: String
    let kind: Kind
}

private let positive = ParameterSpec.Kind.real(rangeText: "> 0") { $0 > 0 }
private let nonNegative = ParameterSpec.Kind.real(rangeText: "≥ 0") { $0 >= 0 }
private let anyFinite = ParameterSpec.Kind.real(rangeText: "finite") { _ in true }

/// The hyper-parameters each grid section may declare (docs/PROTOCOL.md "The grid file").
private let commonSpecs = [ParameterSpec(key: "lr", kind: positive), ParameterSpec(key: "l2", kind: nonNegative)]

/// The settings every run of a protocol shares and no grid tunes (docs/PROTOCOL.md "Fixed settings").
/// `pool` is the candidate set M of the samplers whose grid does not tune it (AHNS, ADAR);
/// a grid's own `pool` takes its place for DNS and MixGCF.
private let fixedSpecs = [
    ParameterSpec(key: "dimension", kind: .integer(minimum: 1)),
    ParameterSpec(key: "batchSize", kind: .integer(minimum: 1)),
    ParameterSpec(key: "initialScale", kind: positive),
    ParameterSpec(key: "layers", kind: .integer(minimum: 1)),
    ParameterSpec(key: "pool", kind: .integer(minimum: 1)),
    ParameterSpec(key: "policy", kind: .choice(["max", "mean", "first"])),
    ParameterSpec(key: "schedule", kind: .choice(["cosine"])),
    ParameterSpec(key: "scheduleSteps", kind: .integer(minimum: 1)),
]

/// A sequential protocol's fixed settings (docs/TRAINING.md "Sequential protocol"): SASRec's shape and
/// optimiser, and ADAR's pool, policy and schedule. L is not among them: it is the data set's (50 for
/// ML-100K, 200 for ML-1M), added to every run's configuration as `maxLength` by the sweep.
private let sequentialFixedSpecs = [
    ParameterSpec(key: "dimension", kind: .integer(minimum: 1)),
    ParameterSpec(key: "blocks", kind: .integer(minimum: 1)),
    ParameterSpec(key: "heads", kind: .integer(minimum: 1)),
    ParameterSpec(key: "dropout", kind: .real(rangeText: "in [0, 1)") { $0 >= 0 && $0 < 1 }),
    ParameterSpec(key: "batchSize", kind: .integer(minimum: 1)),
    ParameterSpec(key: "lr", kind: positive),
    ParameterSpec(key: "l2", kind: nonNegative),
    ParameterSpec(key: "pool", kind: .integer(minimum: 1)),
    ParameterSpec(key: "policy", kind: .choice(["max", "mean", "first"])),
    ParameterSpec(key: "schedule", kind: .choice(["cosine"])),
    ParameterSpec(key: "scheduleSteps", kind: .integer(minimum: 1)),
]

/// Keys of CF protocols a sequential protocol refuses, and why (SASRec has no such setting).
private let collaborativeOnlyKeys = [
    "layers": "LightGCN's propagation layers; SASRec's depth is the fixed \"blocks\"",
    "initialScale": "MF's and LightGCN's initial embedding scale; SASRec initialises as SASRec.pytorch does",
]

/// ADAR's keys that only the `denoised` generator reads.
private let denoisedOnlyKeys: Set = ["tauLearningRate", "tauWarmup", "rMax"]

/// The samplers that train SASRec (`SASRecTrainingConfiguration.samplers`).
private let sequentialSamplers: [SamplerKind] = [.uniform, .dns, .adar]

/// The keys a row of `sampler` may declare under `models`: a sequential protocol's rows have no CF-only keys.
private func samplerSpecs(_ sampler: SamplerKind, models: ProtocolModels) -> [ParameterSpec] {
    let specs = samplerSpecs(sampler)
    return models == .sequential ? specs.filter { collaborativeOnlyKeys[$0.key] == nil } : specs
}

private func samplerSpecs(_ sampler: SamplerKind) -> [ParameterSpec] {
    switch sampler {
    case .uniform:
        []
    case .dns:
        [ParameterSpec(key: "pool", kind: .integer(minimum: 1))]
    case .ahns:
        [ParameterSpec(key: "p", kind: anyFinite), ParameterSpec(key: "alpha", kind: anyFinite),
         ParameterSpec(key: "beta", kind: positive)]
    case .adar:
        [ParameterSpec(key: "rho", kind: .real(rangeText: "in (0, 1)") { $0 > 0 && $0 < 1 }),
         // w = 0 would turn ADAR into uniform BPR and let ADAR's tuning fall back on the baseline.
         ParameterSpec(key: "weight", kind: positive),
         // S7's term on synthesised rows only (absent: w); 0 with fallback hardest is the ablation
         // that keeps the real hardest negatives alone (checked in `row`).
         ParameterSpec(key: "syntheticWeight", kind: nonNegative),
         ParameterSpec(key: "sigma", kind: positive),
         ParameterSpec(key: "fallback", kind: .choice(["skip", "hardest"])),
         ParameterSpec(key: "gradientFlow", kind: .choice(["detach", "through"])),
         // S9's generator; τ's keys only beside "generator": ["denoised"] (checked in `grid`).
         ParameterSpec(key: "generator", kind: .choice(["forward", "denoised"])),
         ParameterSpec(key: "tauLearningRate", kind: positive),
         // τ's noise stream 2³¹ + E keeps epochs below 2³¹.
         ParameterSpec(key: "tauWarmup", kind: .integer(minimum: 0, maximum: Int(Int32.max))),
         ParameterSpec(key: "rMax", kind: nonNegative)]
    case .mixgcf:
        [ParameterSpec(key: "pool", kind: .integer(minimum: 1)),
         ParameterSpec(key: "positiveMixingMax", kind: .real(rangeText: "in (0, 1]") { $0 > 0 && $0 <= 1 })]
    }
}

// MARK: - Reading

private struct GridFileReader {
    let source: String

    func fail(_ path: String, _ reason: String) -> GridFileError {
        GridFileError(source: source, path: path, reason: reason)
    }

    func file(_ json: JSONValue) throws(GridFileError) -> GridFile {
        let root = try object(json, "$", required: ["version", "protocols"], optional: ["about"])
        guard case .integer(1) = root["version"]! else {
            throw fail("$.version", "must be 1 (the only version this build reads), found \(describe(root["version"]!))")
        }
        if let about = root["about"] { _ = try string(about, "$.about") }
        guard case let .object(fields) = root["protocols"]! else {
            throw fail("$.protocols", "must be an object of named protocols, found \(describe(root["protocols"]!))")
        }
        guard !fields.isEmpty else { throw fail("$.protocols", "declares no protocol") }
        var protocols = [EvaluationProtocol]()
        for (name, value) in fields {
            protocols.append(try evaluationProtocol(name, value, "$.protocols.\(name)"))
        }
        return GridFile(source: source, protocols: protocols)
    }

    func evaluationProtocol(_ name: String, _ json: JSONValue, _ path: String) throws(GridFileError) -> EvaluationProtocol {
        guard !name.isEmpty else { throw fail(path, "a protocol's name must not be empty") }
        let fields = try object(json, path, required: ["description", "budget", "selectionSeed", "earlyStopping",
                                                       "finalRuns", "fixed", "grids"], optional: ["model"])
        let description = try string(fields["description"]!, path + ".description")
        var models = ProtocolModels.collaborative
        if let model = fields["model"] {
            guard try string(model, path + ".model") == "sasrec" else {
                throw fail(path + ".model", "must be \"sasrec\" (the only sequential model), found \(describe(model)); "
                    + "leave \"model\" out for a protocol of the CF backbones mf and lightgcn")
            }
            models = .sequential
        }
        let budget = try integer(fields["budget"]!, path + ".budget", minimum: 1)
        let selectionSeed = UInt64(try integer(fields["selectionSeed"]!, path + ".selectionSeed", minimum: 0))

        let stoppingPath = path + ".earlyStopping"
        let stopping = try object(fields["earlyStopping"]!, stoppingPath,
                                  required: ["evaluateEvery", "patience", "maxEpochs"], optional: [])
        let evaluateEvery = try integer(stopping["evaluateEvery"]!, stoppingPath + ".evaluateEvery", minimum: 1)
        let patience = try integer(stopping["patience"]!, stoppingPath + ".patience", minimum: 1)
        let maxEpochs = try integer(stopping["maxEpochs"]!, stoppingPath + ".maxEpochs", minimum: 1)
        let earlyStopping: EarlyStoppingSettings
        do throws(EarlyStoppingError) {
            earlyStopping = try EarlyStoppingSettings(evaluateEvery: evaluateEvery, patience: patience, maxEpochs: maxEpochs)
        } catch {
            throw fail(stoppingPath, "\(error)")
        }
        guard earlyStopping.evaluateEvery <= earlyStopping.maxEpochs else {
            throw fail(stoppingPath + ".evaluateEvery",
                       "\(earlyStopping.evaluateEvery) exceeds maxEpochs \(earlyStopping.maxEpochs): only the last epoch would be evaluated")
        }

        let runsPath = path + ".finalRuns"
        let runs = try object(fields["finalRuns"]!, runsPath, required: ["modelSeeds", "splitSeeds"], optional: [])
        let modelSeeds = try seeds(runs["modelSeeds"]!, runsPath + ".modelSeeds")
        let splitSeeds = try seeds(runs["splitSeeds"]!, runsPath + ".splitSeeds")

        let fixedPath = path + ".fixed"
        let protocolFixedSpecs = models == .sequential ? sequentialFixedSpecs : fixedSpecs
        if models == .sequential, case let .object(declared) = fields["fixed"]!,
           let (key, _) = declared.first(where: { collaborativeOnlyKeys[$0.0] != nil }) {
            throw fail(fixedPath + "." + key, "\"\(key)\" is a CF-only setting (\(collaborativeOnlyKeys[key]!)); "
                + "a sequential protocol's fixed settings are \(sequentialFixedSpecs.map(\.key).joined(separator: ", "))")
        }
        let fixedFields = try object(fields["fixed"]!, fixedPath, required: protocolFixedSpecs.map(\.key), optional: [])
        var fixed = [String: ConfigurationValue]()
        for spec in protocolFixedSpecs {
            fixed[spec.key] = try configValue(fixedFields[spec.key]!, fixedPath + "." + spec.key, spec.kind)
        }
        let gridsPath = path + ".grids"
        guard case let .object(gridFields) = fields["grids"]! else {
            throw fail(gridsPath, "must be an object: \"common\" and one entry per row, found \(describe(fields["grids"]!))")
        }
        let grids = try object(fields["grids"]!, gridsPath, required: ["common"],
                               optional: gridFields.map(\.0).filter { $0 != "common" })
        let common = try grid(grids["common"]!, gridsPath + ".common", specs: commonSpecs, reserved: [])
        var rows = [TuningRow]()
        for (name, value) in gridFields where name != "common" {
            rows.append(try row(name, value, gridsPath + "." + name, commonKeys: Set(common.axes.map(\.key)), models: models))
        }
        guard !rows.isEmpty else {
            throw fail(gridsPath, "declares no row: add one entry per row of the table beside \"common\" (e.g. \"uniform\": {})")
        }
        return EvaluationProtocol(
            name: name, description: description, models: models, budget: budget, selectionSeed: selectionSeed,
            earlyStopping: earlyStopping, modelSeeds: modelSeeds, splitSeeds: splitSeeds,
            fixed: RunConfiguration(validated: fixed), commonGrid: common, rows: rows)
    }

    /// A row: its name, its base sampler (`"sampler"`, or the name itself when that is a sampler),
    /// its one-value `"settings"` and its axes (every other key), each checked against the sampler's specs.
    func row(_ name: String, _ json: JSONValue, _ path: String, commonKeys: Set<String>, models: ProtocolModels) throws(GridFileError) -> TuningRow {
        let samplerNames = SamplerKind.allCases.map(\.rawValue)
        // Row names go into the store, file names and Markdown tables: keep them plain.
        let plain = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
        guard let first = name.first, first.isLetter, name.allSatisfy({ plain.contains($0) }) else {
            throw fail(path, "the row name \"\(name)\" must begin with a lower-case letter and use only a–z, 0–9 and \"-\"")
        }
        guard case let .object(fields) = json else {
            throw fail(path, "row \"\(name)\" must be an object of value lists (and optionally \"sampler\", \"settings\"), found \(describe(json))")
        }
        let sampler: SamplerKind
        if let declared = fields.first(where: { $0.0 == "sampler" })?.1 {
            let text = try string(declared, path + ".sampler")
            guard let kind = SamplerKind(rawValue: text) else {
                throw fail(path + ".sampler", "row \"\(name)\": \"\(text)\" is not a sampler; choose from \(samplerNames.joined(separator: ", "))")
            }
            if let named = SamplerKind(rawValue: name), named != kind {
                throw fail(path + ".sampler", "row \"\(name)\" is named after the sampler \(name) but declares \"\(text)\"; rename the row")
            }
            sampler = kind
        } else if let kind = SamplerKind(rawValue: name) {
            sampler = kind
        } else {
            throw fail(path, "row \"\(name)\" is not a sampler's name, so it must declare its base sampler: "
                + "\"sampler\": one of \(samplerNames.joined(separator: ", "))")
        }
        // The report, which reads only the store, tells ADAR rows by their names.
        if (sampler == .adar) != (name == "adar" || name.hasPrefix("adar-")) {
            throw fail(path, sampler == .adar
                ? "row \"\(name)\" trains the adar sampler: name it \"adar\" or \"adar-…\" so that reports treat it as an ADAR row"
                : "row \"\(name)\" trains the \(sampler.rawValue) sampler: a name beginning with \"adar\" marks an ADAR row in reports; rename it")
        }
        if models == .sequential, !sequentialSamplers.contains(sampler) {
            throw fail(path, "row \"\(name)\": the \(sampler.rawValue) sampler does not train SASRec; a sequential protocol's rows use "
                + sequentialSamplers.map(\.rawValue).joined(separator: ", "))
        }
        let specs = samplerSpecs(sampler, models: models)
        var settings = [String: ConfigurationValue]()
        if let declared = fields.first(where: { $0.0 == "settings" })?.1 {
            guard case let .object(settingFields) = declared else {
                throw fail(path + ".settings", "row \"\(name)\": must be an object of single values, found \(describe(declared))")
            }
            for (key, value) in settingFields {
                let keyPath = path + ".settings." + key
                guard let spec = specs.first(where: { $0.key == key }) else {
                    throw fail(keyPath, "row \"\(name)\": " + unknownKeyReason(key, specs: specs, reserved: commonKeys, models: models))
                }
                guard fields.first(where: { $0.0 == key }) == nil else {
                    throw fail(keyPath, "row \"\(name)\": \"\(key)\" is both a setting and an axis of the row; declare it once")
                }
                settings[key] = try configValue(value, keyPath, spec.kind)
            }
        }
        let axes = try grid(.object(fields.filter { $0.0 != "sampler" && $0.0 != "settings" }), path, specs: specs,
                            reserved: commonKeys, row: name, models: models).axes
        // Every key's values over the row's points, whether a setting or an axis.
        func values(_ key: String) -> [ConfigurationValue]? {
            settings[key].map { [$0] } ?? axes.first { $0.key == key }?.values
        }
        func keyPath(_ key: String) -> String { path + (settings[key] == nil ? "." : ".settings.") + key }
        // τ's keys mean something only under the denoised generator (S9): every point must have it.
        if let tauKey = (Array(settings.keys) + axes.map(\.key)).sorted().first(where: { denoisedOnlyKeys.contains($0) }),
           values("generator") != [.string("denoised")] {
            throw fail(keyPath(tauKey), "row \"\(name)\": applies only with the denoised generator: declare \"generator\": \"denoised\" "
                + "in the row's settings (or \"generator\": [\"denoised\"])")
        }
        // With fallback skip, a zero synthetic weight leaves no augmentation term at all (S7): uniform BPR.
        if values("syntheticWeight")?.contains(.number(0)) == true,
           (values("fallback") ?? [.string("skip")]).contains(.string("skip")) {
            throw fail(keyPath("syntheticWeight"), "row \"\(name)\": 0 with fallback \"skip\" leaves no augmentation term on any row "
                + "(S7), which is uniform BPR; declare \"fallback\": \"hardest\" to keep the real hardest negatives alone")
        }
        return TuningRow(name: name, sampler: sampler, settings: RunConfiguration(validated: settings), axes: axes)
    }

    /// A grid section: each declared key's list of values, checked against its spec.
    func grid(_ json: JSONValue, _ path: String, specs: [ParameterSpec], reserved: Set<String>, row: String? = nil,
              models: ProtocolModels = .collaborative) throws(GridFileError) -> ParameterGrid {
        guard case let .object(fields) = json else { throw fail(path, "must be an object of value lists, found \(describe(json))") }
        var axes = [ParameterGrid.Axis]()
        for (key, list) in fields {
            let keyPath = path + "." + key
            guard let spec = specs.first(where: { $0.key == key }) else {
                let reason = unknownKeyReason(key, specs: specs, reserved: reserved, models: models)
                throw fail(keyPath, row.map { "row \"\($0)\": \(reason); a row may also declare \"sampler\" and \"settings\"" } ?? reason)
            }
            guard case let .array(items) = list else { throw fail(keyPath, "must be a list of values, found \(describe(list))") }
            guard !items.isEmpty else { throw fail(keyPath, "is an empty list: give at least one value, or remove the key") }
            var values = [ConfigurationValue]()
            for (index, item) in items.enumerated() {
                let value = try configValue(item, "\(keyPath)[\(index)]", spec.kind)
                guard !values.contains(value) else { throw fail("\(keyPath)[\(index)]", "\(CanonicalJSON.value(value)) is listed twice") }
                values.append(value)
            }
            axes.append(ParameterGrid.Axis(key: key, values: values))
        }
        return ParameterGrid(axes: axes)
    }

    func unknownKeyReason(_ key: String, specs: [ParameterSpec], reserved: Set<String>, models: ProtocolModels = .collaborative) -> String {
        if reserved.contains(key) { return "\"\(key)\" is in the common grid already; declare it there only" }
        let allowed = "allowed here: \(specs.isEmpty ? "none" : specs.map(\.key).joined(separator: ", "))"
        if models == .sequential, let why = collaborativeOnlyKeys[key] {
            return "\"\(key)\" is a CF-only setting in a sequential protocol: \(why) (\(allowed))"
        }
        return "unknown key \"\(key)\" (\(allowed))"
    }

    func configValue(_ json: JSONValue, _ path: String, _ kind: ParameterSpec.Kind) throws(GridFileError) -> ConfigurationValue {
        switch kind {
        case let .real(rangeText, accepts):
            let x: Double
            switch json {
            case let .number(value): x = value
            case let .integer(value): x = Double(value)
            default: throw fail(path, "must be a number, found \(describe(json))")
            }
            guard x.isFinite else { throw fail(path, "\(x) is not finite") }
            guard accepts(x) else { throw fail(path, "\(x) is out of range: must be \(rangeText)") }
            return .number(x)
        case let .integer(minimum, maximum):
            let value = try integer(json, path, minimum: minimum)
            guard value <= maximum else { throw fail(path, "\(value) is out of range: must be at most \(maximum)") }
            return .number(Double(value))
        case let .choice(choices):
            let text = try string(json, path)
            guard choices.contains(text) else {
                throw fail(path, "\"\(text)\" is not one of \(choices.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
            return .string(text)
        }
    }

    // MARK: Primitive readers

    /// The fields of an object that has every required key and no key outside required ∪ optional.
    func object(_ json: JSONValue, _ path: String, required: [String], optional: [String]) throws(GridFileError) -> [String: JSONValue] {
        guard case let .object(fields) = json else { throw fail(path, "must be an object, found \(describe(json))") }
        let allowed = required + optional
        for (key, _) in fields where !allowed.contains(key) {
            throw fail(path + "." + key, "unknown key \"\(key)\" (allowed here: \(allowed.joined(separator: ", ")))")
        }
        let values = Dictionary(fields, uniquingKeysWith: { first, _ in first })
        for key in required where values[key] == nil { throw fail(path, "missing key \"\(key)\"") }
        return values
    }

    func integer(_ json: JSONValue, _ path: String, minimum: Int) throws(GridFileError) -> Int {
        guard case let .integer(value) = json else {
            throw fail(path, "must be an integer (no fraction or exponent), found \(describe(json))")
        }
        guard value >= minimum else { throw fail(path, "\(value) is out of range: must be ≥ \(minimum)") }
        return value
    }

    func string(_ json: JSONValue, _ path: String) throws(GridFileError) -> String {
        guard case let .string(text) = json else { throw fail(path, "must be a string, found \(describe(json))") }
        guard !text.isEmpty else { throw fail(path, "must not be empty") }
        return text
    }

    func seeds(_ json: JSONValue, _ path: String) throws(GridFileError) -> [UInt64] {
        guard case let .array(items) = json else { throw fail(path, "must be a list of seeds, found \(describe(json))") }
        guard !items.isEmpty else { throw fail(path, "is an empty list: give at least one seed") }
        var seeds = [UInt64]()
        for (index, item) in items.enumerated() {
            let seed = UInt64(try integer(item, "\(path)[\(index)]", minimum: 0))
            guard !seeds.contains(seed) else { throw fail("\(path)[\(index)]", "seed \(seed) is listed twice") }
            seeds.append(seed)
        }
        return seeds
    }

    func describe(_ json: JSONValue) -> String {
        switch json {
        case .null: "null"
        case let .bool(b): "\(b)"
        case let .integer(i): "the integer \(i)"
        case let .number(x): "the number \(x)"
        case let .string(s): "the string \"\(s)\""
        case .array: "a list"
        case .object: "an object"
        }
    }
}
