import ADARCore

/// The recommender whose embeddings are trained.
public enum Backbone: String, CaseIterable, Sendable {
    /// Matrix factorisation: the score is `⟨e_u, e_i⟩` of the free embeddings.
    case mf
    /// LightGCN (He et al., SIGIR 2020): the free embeddings are smoothed over
    /// the normalised user–item graph and the layers are averaged.
    case lightgcn
}

/// AHNS's hardness parameters (Lai et al., AAAI 2024; defaults from the paper).
public struct AHNSParameters: Equatable, Sendable {
    public var p: Double
    public var alpha: Double
    public var beta: Double

    public init(p: Double = -2, alpha: Double = 1, beta: Double = 0.1) {
        self.p = p
        self.alpha = alpha
        self.beta = beta
    }
}

/// Adam's constants (Kingma & Ba 2015).
public struct AdamParameters: Equatable, Sendable {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double

    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }
}

/// What ADAR's synthetic negative is on `transition`/`saturated` rows (spec S9).
public enum ADARGenerator: Equatable, Sendable {
    /// S6: `x⁻ = x_t`, the corrupted positive (the default; no τ).
    case forward
    /// `x⁻ = x̂_0 = x_0 + σ·r_t·(ε − ε̂)` with τ's noise prediction `ε̂`; τ takes
    /// one Adam step per batch before the batch's negatives are synthesised.
    case denoised(DenoisedGenerator)

    /// The name of the CLI and the grid files: `forward` or `denoised`.
    public var kind: GeneratorKind {
        switch self {
        case .forward: .forward
        case .denoised: .denoised
        }
    }
}

/// The generators by name (`--generator`, the grid key `generator`).
public enum GeneratorKind: String, CaseIterable, Sendable {
    case forward, denoised
}

/// τ's training and the `denoised` generator's settings (spec S9).
public struct DenoisedGenerator: Equatable, Sendable {
    /// `lr_τ` of τ's Adam; nil: the recommender's learning rate (S9's default).
    public var tauLearningRate: Double?
    /// Epochs `1…tauWarmup` synthesise with `forward` while τ trains (S9's default 1).
    public var tauWarmup: Int
    /// Rows with `r_t = √((1 − ᾱ_t)/ᾱ_t) > rMax` use `forward` and are counted (S9's default 10).
    public var rMax: Double

    public init(tauLearningRate: Double? = nil, tauWarmup: Int = 1, rMax: Double = 10) {
        self.tauLearningRate = tauLearningRate
        self.tauWarmup = tauWarmup
        self.rMax = rMax
    }

    /// Refuses settings τ cannot train with, and a sampler other than `adar` (the CF and the SASRec trainer's check).
    func check(sampler: SamplerKind) throws(TrainingError) {
        guard sampler == .adar else {
            throw .invalidConfiguration(field: "generator", reason: "denoised is ADAR's generator (S9); the sampler is \(sampler.rawValue), not adar")
        }
        if let rate = tauLearningRate, !(rate.isFinite && rate > 0) {
            throw .invalidConfiguration(field: "tauLearningRate", reason: "\(rate) must be finite and > 0")
        }
        guard TrainingConfiguration.tauWarmupRange.contains(tauWarmup) else {
            throw .invalidConfiguration(field: "tauWarmup", reason: "\(tauWarmup) must be between 0 and \(TrainingConfiguration.tauWarmupRange.upperBound) epochs")
        }
        guard rMax.isFinite, rMax >= 0 else {
            throw .invalidConfiguration(field: "rMax", reason: "\(rMax) must be finite and ≥ 0 (S9's r_max; default 10)")
        }
    }
}

/// Everything that defines a training run besides the data and the seed.
///
/// The loss per row is S7's: `softplus(−(s_ui − s_uj))`, plus for ADAR
/// `w·softplus(−(s_ui − ⟨e_u, x⁻⟩))`, plus `λ/2·(‖e⁰_u‖² + ‖e⁰_i‖² + ‖e⁰_j‖²)`
/// on the *ego* (free) embeddings of the row — for MF these are the scored
/// embeddings, for LightGCN the layer-0 ones (the LightGCN convention) — and
/// the batch loss is the mean over its rows. `adar.l2` is ignored: the
/// trainer applies `l2` itself, so that LightGCN's term stays on the ego
/// embeddings while ADAR works on the propagated ones.
public struct TrainingConfiguration: Equatable, Sendable {
    public var backbone: Backbone
    /// LightGCN propagation layers `L` (the final embedding is the mean of layers 0…L).
    public var layers: Int
    public var sampler: SamplerKind
    /// Candidates per row `M` for DNS, AHNS and ADAR's pool (uniform draws one).
    public var poolSize: Int
    public var ahns: AHNSParameters
    /// MixGCF's positive mixing draws `α ~ U(0, a)` with this `a` ∈ (0, 1] (the paper's 1).
    public var positiveMixingMax: Double
    /// ADAR's options (S3–S7); its `l2` is not used (see above).
    public var adar: ADARConfiguration
    /// ADAR's generator (S9): `forward` unless set; `denoised` needs the `adar` sampler.
    public var generator: ADARGenerator
    public var schedule: NoiseSchedule
    public var dimension: Int
    public var batchSize: Int
    public var epochs: Int
    /// `λ` of the L2 term.
    public var l2: Double
    public var adam: AdamParameters
    /// Standard deviation of the `N(0, s²)` initial embeddings.
    public var initialScale: Double

    /// The ranges of the sizes: each reaches an allocation (`dimension`,
    /// `batchSize × poolSize` candidates per batch) or a loop (`layers`).
    public static let layerRange = 1...16
    public static let poolSizeRange = 1...1024
    public static let dimensionRange = 1...1024
    public static let batchSizeRange = 1...65_536
    /// The largest `initialScale`: beyond it the initial scores only saturate
    /// the loss, and from about 10¹⁷ they overflow binary32.
    public static let maximumInitialScale = 100.0
    /// τ's training noise uses the stream `2³¹ + E` (S9), so epochs under `denoised`
    /// (and the warm-up) stay below 2³¹.
    public static let tauWarmupRange = 0...Int(Int32.max)

    public init(
        backbone: Backbone = .mf, layers: Int = 3, sampler: SamplerKind = .uniform, poolSize: Int = 16,
        ahns: AHNSParameters = AHNSParameters(), positiveMixingMax: Double = 1, adar: ADARConfiguration? = nil,
        generator: ADARGenerator = .forward, schedule: NoiseSchedule? = nil,
        dimension: Int = 64, batchSize: Int = 2048, epochs: Int = 100, l2: Double = 1e-4,
        adam: AdamParameters = AdamParameters(), initialScale: Double = 0.1
    ) throws(TrainingError) {
        for (field, value, range) in [("layers", layers, Self.layerRange), ("poolSize", poolSize, Self.poolSizeRange),
                                      ("dimension", dimension, Self.dimensionRange), ("batchSize", batchSize, Self.batchSizeRange),
                                      ("epochs", epochs, 1...Int.max)] where !range.contains(value) {
            let bounds = range.upperBound == .max ? "at least \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
            throw .invalidConfiguration(field: field, reason: "\(value) must be \(bounds)")
        }
        guard l2.isFinite, l2 >= 0 else { throw .invalidConfiguration(field: "l2", reason: "\(l2) must be finite and ≥ 0") }
        guard initialScale > 0, initialScale <= Self.maximumInitialScale else {
            throw .invalidConfiguration(
                field: "initialScale",
                reason: "\(initialScale) must be > 0 (all-zero embeddings get zero gradients and never train) and ≤ \(Self.maximumInitialScale)")
        }
        guard adam.learningRate.isFinite, adam.learningRate > 0 else {
            throw .invalidConfiguration(field: "learningRate", reason: "\(adam.learningRate) must be finite and > 0")
        }
        guard adam.epsilon > 0, (0..<1).contains(adam.beta1), (0..<1).contains(adam.beta2) else {
            throw .invalidConfiguration(field: "adam", reason: "need ε > 0 and β₁, β₂ ∈ [0, 1)")
        }
        for (field, value) in [("ahns.p", ahns.p), ("ahns.alpha", ahns.alpha), ("ahns.beta", ahns.beta)] where !value.isFinite {
            throw .invalidConfiguration(field: field, reason: "\(value) must be finite")
        }
        guard positiveMixingMax > 0, positiveMixingMax <= 1 else {
            throw .invalidConfiguration(field: "positiveMixingMax", reason: "\(positiveMixingMax) must be in (0, 1]")
        }
        if case let .denoised(settings) = generator {
            try settings.check(sampler: sampler)
            guard epochs <= Self.tauWarmupRange.upperBound else {
                throw .invalidConfiguration(field: "epochs", reason: "\(epochs) must be at most \(Self.tauWarmupRange.upperBound) under denoised (τ's noise stream is 2³¹ + E, S9)")
            }
        }
        do throws(ADARError) {
            // σ = 0.1, the scale of the initial embeddings (spec S2's advice for small initialisations).
            self.adar = if let adar { adar } else { try ADARConfiguration(sigma: 0.1) }
            self.schedule = if let schedule { schedule } else { try NoiseSchedule(.defaultCosine, steps: 1000) }
        } catch {
            throw .adar(error)
        }
        self.backbone = backbone
        self.layers = layers
        self.sampler = sampler
        self.poolSize = poolSize
        self.ahns = ahns
        self.positiveMixingMax = positiveMixingMax
        self.generator = generator
        self.dimension = dimension
        self.batchSize = batchSize
        self.epochs = epochs
        self.l2 = l2
        self.adam = adam
        self.initialScale = initialScale
    }

    /// Candidates drawn per row: 1 for uniform, `M` otherwise.
    public var candidatesPerRow: Int { sampler == .uniform ? 1 : poolSize }

    /// τ's learning rate under `denoised` (the recommender's unless set); nil under `forward`.
    public var tauLearningRate: Double? {
        guard case let .denoised(settings) = generator else { return nil }
        return settings.tauLearningRate ?? adam.learningRate
    }
}

/// Errors of the training layer.
public enum TrainingError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidConfiguration(field: String, reason: String)
    /// A user interacted with every item, so no negative can be drawn.
    case noNegativeItems(user: Int)
    case adar(ADARError)
    /// The model is too large: `(users + items) × dimension` embedding values.
    case modelTooLarge(values: Int, maximum: Int)
    /// Training produced a NaN or ±∞: a batch's loss (`batch`, 1-based), or an
    /// embedding or a score found after the epoch's batches (`batch` nil).
    /// Epoch 0 is the untrained model.
    case diverged(epoch: Int, batch: Int?, detail: String)

    public var description: String {
        switch self {
        case let .invalidConfiguration(field, reason): "invalid training configuration: \(field): \(reason)"
        case let .noNegativeItems(user): "user \(user) has interacted with every item; no negative can be sampled"
        case let .adar(error): "ADAR: \(error)"
        case let .modelTooLarge(values, maximum):
            "the model has \(values) embedding values ((users + items) × dimension), more than the maximum \(maximum); use a smaller dimension"
        case let .diverged(epoch, batch, detail):
            "training diverged in epoch \(epoch)\(batch.map { ", batch \($0)" } ?? ""): \(detail); "
                + "no result was recorded; lower the learning rate or the initial scale"
        }
    }
}
