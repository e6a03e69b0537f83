import ADARCore
import ADARLayers
import ADARTraining

/// A run configuration (the protocol's fixed settings with a grid point, see
/// `EvaluationProtocol.runConfiguration`) turned into a `TrainingConfiguration`.
///
/// Every key of docs/PROTOCOL.md's tables has one field here; a key this
/// mapping does not know, a value of the wrong type or one out of the trainer's
/// range is refused, naming the key, so no grid value is silently ignored.
public enum ConfigurationMapping {
    /// The keys and the trainer field each sets (for documentation and errors).
    public static let fields: [String: String] = [
        "lr": "adam.learningRate", "l2": "l2", "pool": "poolSize",
        "p": "ahns.p", "alpha": "ahns.alpha", "beta": "ahns.beta",
        "rho": "adar.rho", "weight": "adar.augmentationWeight", "syntheticWeight": "adar.syntheticWeight", "sigma": "adar.sigma",
        "fallback": "adar.fallback", "gradientFlow": "adar.gradientFlow", "policy": "adar.policy",
        "positiveMixingMax": "positiveMixingMax",
        "generator": "generator", "tauLearningRate": "generator.tauLearningRate", "tauWarmup": "generator.tauWarmup",
        "rMax": "generator.rMax",
        "dimension": "dimension", "batchSize": "batchSize", "initialScale": "initialScale", "layers": "layers",
        "schedule": "schedule", "scheduleSteps": "schedule.steps",
    ]

    /// The trainer's configuration for `configuration`, trained for at most `maxEpochs` epochs.
    /// Keys absent from `configuration` take the trainer's defaults (docs/TRAINING.md).
    public static func trainingConfiguration(
        _ configuration: RunConfiguration, backbone: Backbone, sampler: SamplerKind, maxEpochs: Int
    ) throws(ConfigurationError) -> TrainingConfiguration {
        if let unknown = configuration.values.keys.filter({ fields[$0] == nil }).sorted().first {
            throw ConfigurationError(key: unknown, reason: "no training setting has this name (known: \(fields.keys.sorted().joined(separator: ", ")))")
        }
        let reader = Reader(configuration: configuration)
        do {
            let defaults = try TrainingConfiguration()
            let adar = try reader.adar(defaults: defaults.adar)
            let generator = try reader.generator()
            let schedule = try reader.schedule(defaultSteps: defaults.schedule.steps)
            return try TrainingConfiguration(
                backbone: backbone, layers: reader.integer("layers") ?? defaults.layers, sampler: sampler,
                poolSize: reader.integer("pool") ?? defaults.poolSize,
                ahns: AHNSParameters(p: reader.real("p") ?? defaults.ahns.p, alpha: reader.real("alpha") ?? defaults.ahns.alpha,
                                     beta: reader.real("beta") ?? defaults.ahns.beta),
                positiveMixingMax: reader.real("positiveMixingMax") ?? defaults.positiveMixingMax,
                adar: adar, generator: generator, schedule: schedule,
                dimension: reader.integer("dimension") ?? defaults.dimension,
                batchSize: reader.integer("batchSize") ?? defaults.batchSize,
                epochs: maxEpochs, l2: reader.real("l2") ?? defaults.l2,
                adam: AdamParameters(learningRate: reader.real("lr") ?? defaults.adam.learningRate),
                initialScale: reader.real("initialScale") ?? defaults.initialScale)
        } catch {
            throw configurationError(error)
        }
    }

    /// The keys of a sequential protocol's run configuration (docs/TRAINING.md "Sequential protocol") and the
    /// SASRec setting each sets; `maxLength` is the data set's L, added by the sweep.
    public static let sequentialFields: [String: String] = [
        "dimension": "model.dimension", "maxLength": "model.length", "blocks": "model.blocks", "heads": "model.heads",
        "dropout": "model.dropout", "batchSize": "batchSize", "lr": "learningRate", "l2": "l2", "pool": "poolSize",
        "rho": "adar.rho", "weight": "adar.augmentationWeight", "syntheticWeight": "adar.syntheticWeight", "sigma": "adar.sigma",
        "fallback": "adar.fallback", "gradientFlow": "adar.gradientFlow", "policy": "adar.policy",
        "generator": "generator", "tauLearningRate": "generator.tauLearningRate", "tauWarmup": "generator.tauWarmup",
        "rMax": "generator.rMax",
        "schedule": "schedule", "scheduleSteps": "schedule.steps",
    ]

    /// SASRec's configuration for `configuration` on a data set of `items` items. Every key must be a
    /// `sequentialFields` key (a CF key such as `layers` or `initialScale` is refused, naming it); absent keys
    /// take `SASRecTrainingConfiguration`'s and `SASRecConfiguration`'s defaults.
    public static func sasrecConfiguration(
        _ configuration: RunConfiguration, sampler: SamplerKind, items: Int
    ) throws(ConfigurationError) -> SASRecTrainingConfiguration {
        if let unknown = configuration.values.keys.filter({ sequentialFields[$0] == nil }).sorted().first {
            throw ConfigurationError(key: unknown, reason: "SASRec has no setting of this name (known: "
                + "\(sequentialFields.keys.sorted().joined(separator: ", ")))")
        }
        let reader = Reader(configuration: configuration)
        do {
            let shape = try SASRecConfiguration(items: items)
            let model = try SASRecConfiguration(
                items: items, dimension: reader.integer("dimension") ?? shape.dimension, length: reader.integer("maxLength") ?? shape.length,
                blocks: reader.integer("blocks") ?? shape.blocks, heads: reader.integer("heads") ?? shape.heads,
                dropout: reader.real("dropout") ?? shape.dropout)
            let defaults = try SASRecTrainingConfiguration(model: model)
            return try SASRecTrainingConfiguration(
                model: model, sampler: sampler, poolSize: reader.integer("pool") ?? defaults.poolSize,
                adar: reader.adar(defaults: defaults.adar), generator: reader.generator(),
                schedule: reader.schedule(defaultSteps: defaults.schedule.steps),
                batchSize: reader.integer("batchSize") ?? defaults.batchSize, learningRate: reader.real("lr") ?? defaults.learningRate,
                l2: reader.real("l2") ?? defaults.l2)
        } catch {
            throw configurationError(error)
        }
    }

    /// A trainer's or ADAR's refusal as the configuration key at fault.
    private static func configurationError(_ error: any Error) -> ConfigurationError {
        switch error {
        case let error as ConfigurationError: error
        case let TrainingError.invalidConfiguration(field, reason), let ADARError.invalidConfiguration(field, reason),
             let TrainingError.adar(ADARError.invalidConfiguration(field, reason)):
            ConfigurationError(key: key(ofField: field), reason: reason)
        default: ConfigurationError(key: "", reason: "\(error)")
        }
    }

    /// The configuration key behind a trainer's or ADAR's field name, for errors.
    static func key(ofField field: String) -> String {
        let aliases = ["learningRate": "lr", "poolSize": "pool", "augmentationWeight": "weight",
                       "ahns.p": "p", "ahns.alpha": "alpha", "ahns.beta": "beta", "epochs": "maxEpochs", "length": "maxLength"]
        return aliases[field] ?? field
    }

    /// τ's keys (S9), which only the `denoised` generator reads.
    static let tauKeys = ["tauLearningRate", "tauWarmup", "rMax"]

    private struct Reader {
        let configuration: RunConfiguration

        /// ADAR's options (S3–S7), each key absent taking `defaults`' value.
        func adar(defaults: ADARConfiguration) throws -> ADARConfiguration {
            try ADARConfiguration(
                rho: real("rho") ?? defaults.rho, policy: choice("policy", ReferencePolicy.self) ?? defaults.policy,
                sigma: real("sigma") ?? defaults.sigma, fallback: choice("fallback", FallbackMode.self) ?? defaults.fallback,
                augmentationWeight: real("weight") ?? defaults.augmentationWeight,
                syntheticWeight: real("syntheticWeight") ?? defaults.syntheticWeight,
                gradientFlow: choice("gradientFlow", GradientFlow.self) ?? defaults.gradientFlow)
        }

        /// The noise schedule (S1): only `cosine` under the protocol.
        func schedule(defaultSteps: Int) throws -> NoiseSchedule {
            switch try string("schedule") ?? "cosine" {
            case "cosine":
                return try NoiseSchedule(.defaultCosine, steps: integer("scheduleSteps") ?? defaultSteps)
            case let other:
                throw ConfigurationError(key: "schedule", reason: "\"\(other)\" is not a schedule the protocol runs (only \"cosine\")")
            }
        }

        /// `generator` (default `forward`) and, under `denoised`, τ's keys; a τ key under `forward` is refused.
        func generator() throws(ConfigurationError) -> ADARGenerator {
            switch try choice("generator", GeneratorKind.self) ?? .forward {
            case .forward:
                if let key = ConfigurationMapping.tauKeys.first(where: { configuration[$0] != nil }) {
                    throw ConfigurationError(key: key, reason: "applies only with \"generator\": \"denoised\" (τ exists only there, S9)")
                }
                return .forward
            case .denoised:
                let defaults = DenoisedGenerator()
                return .denoised(DenoisedGenerator(
                    tauLearningRate: try real("tauLearningRate"), tauWarmup: try integer("tauWarmup") ?? defaults.tauWarmup,
                    rMax: try real("rMax") ?? defaults.rMax))
            }
        }

        func real(_ key: String) throws(ConfigurationError) -> Double? {
            switch configuration[key] {
            case nil: return nil
            case let .number(x): return x
            case let value?: throw ConfigurationError(key: key, reason: "must be a number, found \(CanonicalJSON.value(value))")
            }
        }

        func integer(_ key: String) throws(ConfigurationError) -> Int? {
            guard let x = try real(key) else { return nil }
            guard x == x.rounded(), let value = Int(exactly: x) else {
                throw ConfigurationError(key: key, reason: "must be an integer, found \(CanonicalJSON.number(x))")
            }
            return value
        }

        func string(_ key: String) throws(ConfigurationError) -> String? {
            switch configuration[key] {
            case nil: return nil
            case let .string(text): return text
            case let value?: throw ConfigurationError(key: key, reason: "must be a string, found \(CanonicalJSON.value(value))")
            }
        }

        func choice<Choice: RawRepresentable & CaseIterable>(_ key: String, _: Choice.Type) throws(ConfigurationError) -> Choice?
        where Choice.RawValue == String {
            guard let text = try string(key) else { return nil }
            guard let choice = Choice(rawValue: text) else {
                throw ConfigurationError(key: key, reason: "\"\(text)\" is not one of \(Choice.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            }
            return choice
        }
    }
}
