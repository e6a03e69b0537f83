import Foundation
import ADARCore
import ADARData
import ADARTraining
import ADARProtocol

/// The JSON record of training runs.
enum RunRecord {
    static func json(
        data: ImplicitFeedback, splitSeed: UInt64, dataset: String, configuration c: TrainingConfiguration,
        seed: UInt64, threads: Int, history: [EpochReport], totalSeconds: Double
    ) -> JSONValue {
        let epochs: [JSONValue] = history.map { report in
            var fields: [(String, JSONValue)] = [("epoch", .integer(report.epoch))]
            if let s = report.statistics {
                fields += [("loss", .number(s.meanLoss)), ("seconds", .number(s.seconds)), ("rowsPerSecond", .number(s.rowsPerSecond))]
                if !s.statusCounts.isEmpty {
                    fields.append(("statusShares", .object(RowStatus.allCases.map {
                        ($0.rawValue, .number(Double(s.statusCounts[$0] ?? 0) / Double(s.rows)))
                    })))
                }
                if let adar = s.adar { fields.append(("adar", adarStatistics(adar))) }
            }
            if let m = report.metrics {
                for k in m.cutoffs {
                    fields += [("recall@\(k)", .number(m.recall(at: k))), ("ndcg@\(k)", .number(m.ndcg(at: k)))]
                }
                fields.append(("evaluationSeconds", .number(report.evaluationSeconds)))
            }
            return .object(fields)
        }
        let trainSeconds = history.compactMap(\.statistics).reduce(0) { $0 + $1.seconds }
        let evaluationSeconds = history.reduce(0) { $0 + $1.evaluationSeconds }
        return .object([
            ("dataset", .object([
                ("name", .string(dataset)), ("users", .integer(data.userCount)), ("items", .integer(data.itemCount)),
                ("trainInteractions", .integer(data.trainInteractions)),
                ("validationInteractions", .integer(data.validationInteractions)), ("testInteractions", .integer(data.testInteractions)),
                ("splitSeed", .string(String(splitSeed))),
            ])),
            ("config", configuration(c)),
            ("seed", .string(String(seed))),
            ("threads", .integer(threads)),
            ("epochs", .array(epochs)),
            ("timing", .object([
                ("totalSeconds", .number(totalSeconds)), ("trainingSeconds", .number(trainSeconds)),
                ("evaluationSeconds", .number(evaluationSeconds)),
                ("rowsPerSecond", .number(Double(data.trainInteractions * history.filter { $0.statistics != nil }.count) / trainSeconds)),
            ])),
        ])
    }

    /// S9's per-epoch statistics. A mean with no rows behind it (NaN) is left out:
    /// every number of the record is finite.
    static func adarStatistics(_ s: ADAREpochStatistics) -> JSONValue {
        func finite(_ fields: [(String, Double)]) -> [(String, JSONValue)] {
            fields.filter { $0.1.isFinite }.map { ($0.0, .number($0.1)) }
        }
        let c = s.calibration
        var fields: [(String, JSONValue)] = [
            ("calibration", .object([("rows", .integer(c.rows)), ("degreesOfFreedom", .integer(c.degreesOfFreedom))]
                + finite([("z", c.z), ("chiSquare", c.chiSquare), ("share", c.share), ("meanRetention", c.meanRetention)]))),
        ] + finite([("meanTimestep", s.meanTimestep)])
        if let tau = s.tau {
            fields.append(("tau", .object(
                finite([("loss", tau.meanLoss)])
                + [("steps", .integer(tau.steps)), ("synthesisedDenoised", .bool(tau.synthesisedDenoised)),
                   ("denoisedRows", .integer(tau.denoisedRows)), ("rMaxForwardRows", .integer(tau.rMaxForwardRows))]
                + finite([("meanDistance", tau.meanDenoisedDistance)]))))
        }
        return .object(fields)
    }

    static func configuration(_ c: TrainingConfiguration) -> JSONValue {
        .object([
            ("backbone", .string(c.backbone.rawValue)), ("layers", .integer(c.layers)),
            ("sampler", .string(c.sampler.rawValue)), ("poolSize", .integer(c.poolSize)),
            ("dimension", .integer(c.dimension)), ("batchSize", .integer(c.batchSize)), ("epochs", .integer(c.epochs)),
            ("l2", .number(c.l2)), ("l2Scope", .string("ego embeddings of the row's u, i, j; λ/2·‖·‖² per row; batch mean")),
            ("optimizer", .object([("name", .string("adam")), ("learningRate", .number(c.adam.learningRate)),
                                   ("beta1", .number(c.adam.beta1)), ("beta2", .number(c.adam.beta2)),
                                   ("epsilon", .number(c.adam.epsilon))])),
            ("initialization", .string("N(0, \(c.initialScale)²)")),
            ("ahns", .object([("p", .number(c.ahns.p)), ("alpha", .number(c.ahns.alpha)), ("beta", .number(c.ahns.beta))])),
            ("adar", .object([
                ("rho", .number(c.adar.rho)), ("policy", .string(c.adar.policy.rawValue)), ("sigma", .number(c.adar.sigma)),
                ("weight", .number(c.adar.augmentationWeight)), ("fallback", .string(c.adar.fallback.rawValue)),
                ("gradientFlow", .string(c.adar.gradientFlow.rawValue)),
                ("schedule", .string(c.schedule.kind.name)), ("steps", .integer(c.schedule.steps)),
                ("generator", generator(c.generator, tauLearningRate: c.tauLearningRate)),
            ])),
        ])
    }

    static func generator(_ generator: ADARGenerator, tauLearningRate: Double?) -> JSONValue {
        guard case let .denoised(settings) = generator, let tauLearningRate else { return .object([("name", .string(generator.kind.rawValue))]) }
        return .object([("name", .string("denoised")), ("tauLearningRate", .number(tauLearningRate)),
                        ("tauWarmup", .integer(settings.tauWarmup)), ("rMax", .number(settings.rMax))])
    }

    static func machine() -> JSONValue {
        let info = ProcessInfo.processInfo
        return .object([
            ("activeProcessors", .integer(info.activeProcessorCount)), ("processors", .integer(info.processorCount)),
            ("memoryBytes", .integer(Int(info.physicalMemory))), ("os", .string(info.operatingSystemVersionString)),
            ("build", .string(buildConfiguration)), ("date", .string(ISO8601DateFormatter().string(from: Date()))),
        ])
    }

    /// The bytes of a record file: the JSON on one line.
    static func contents(_ json: JSONValue) -> Data { Data((json.rendered + "\n").utf8) }
}
