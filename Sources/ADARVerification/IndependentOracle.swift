import Foundation
import ADARCore
import ADARFixtures
import ADARProtocol
import GSLOracle

/// The spec recomputed without the reference: schedules, dot products and
/// the forward process in Float80 (64-bit significand); Φ, Φ⁻¹ and the root of
/// S4.d from GSL (`gsl_cdf_ugaussian_*`, Brent); t* by a brute-force scan of
/// π_t ≤ ρ; Philox written again from S8 with full-width products.
/// Used by S6/F2 to cross-check every binary64 expected value of the fixtures.
public enum IndependentOracle {
    typealias Wide = Float80

    static func real(_ json: JSONValue?, _ key: String) -> Double { json![key]!.doubleValue! }
    static func wide(_ json: JSONValue?, _ key: String) -> [Wide] { json![key]!.doubleArray!.map { Wide($0) } }
    static func reals(_ xs: [Wide]) -> JSONValue { .reals(xs.map { Double($0) }) }
    static func dot(_ a: [Wide], _ b: [Wide]) -> Wide { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    /// S1 in Float80: β_1…β_T, then ᾱ by the cumulative product.
    static func table(_ json: JSONValue) -> (beta: [Wide], alphaBar: [Wide]) {
        let T = json["steps"]!.intValue!
        func linspace(_ a: Wide, _ b: Wide, _ t: Int) -> Wide { T == 1 ? a : a + Wide(t - 1) * (b - a) / Wide(T - 1) }
        var betas: [Wide]
        switch json["kind"]!.stringValue! {
        case "linear": betas = (1...T).map { linspace(Wide(real(json, "start")), Wide(real(json, "end")), $0) }
        case "ddpm-linear": betas = (1...T).map { linspace(Wide(1e-4) * 1000 / Wide(T), Wide(0.02) * 1000 / Wide(T), $0) }
        case "scaled-linear":
            betas = (1...T).map { let r = linspace(Wide(real(json, "start")).squareRoot(), Wide(real(json, "end")).squareRoot(), $0); return r * r }
        case "cosine":
            let s = Wide(real(json, "s")), maxBeta = Wide(real(json, "maxBeta"))
            func f(_ tau: Wide) -> Wide { let c = cos((tau + s) / (1 + s) * Wide.pi / 2); return c * c }
            betas = (1...T).map { min(1 - f(Wide($0) / Wide(T)) / f(Wide($0 - 1) / Wide(T)), maxBeta) }
        case "linear-variance":
            let scale = Wide(real(json, "scale")), maxBeta = Wide(real(json, "maxBeta"))
            let v = (1...T).map { linspace(scale * Wide(real(json, "min")), scale * Wide(real(json, "max")), $0) }
            betas = [v[0]]
            for t in stride(from: 1, to: T, by: 1) {
                let ratio: Wide = (1 - v[t]) / (1 - v[t - 1])
                betas.append(min(1 - ratio, maxBeta))
            }
        default: betas = json["betas"]!.doubleArray!.map { Wide($0) }
        }
        var alphaBar: [Wide] = [1]
        for beta in betas { alphaBar.append(alphaBar.last! * (1 - beta)) }
        return ([0] + betas, alphaBar)
    }

    /// S4 + S5 by brute force: status, t*, a* (GSL Brent), π (GSL Φ).
    static func transition(s0: Double, sNeg: Double, n: Double, rho: Double, alphaBar: [Wide]) -> (String, Int, Double, Double) {
        if n == 0 { return ("degenerateUser", 0, .nan, .nan) }
        if s0 <= sNeg { return ("alreadyNegative", 0, .nan, .nan) }
        if s0 <= 0 { return ("nonPositiveScore", 0, .nan, .nan) }
        let z = GSL.normalQuantile(rho), T = alphaBar.count - 1
        func x(_ t: Int) -> Double {
            Double((alphaBar[t].squareRoot() * Wide(s0) - Wide(sNeg)) / ((1 - alphaBar[t]).squareRoot() * Wide(n)))
        }
        let g = { (a: Double) -> Double in
            Double((Wide(a) * Wide(s0) - Wide(sNeg)) / (Wide(n) * (1 - Wide(a) * Wide(a)).squareRoot())) - z
        }
        // S4.d: a crossing in [0, 1) exists iff g(0) ≤ z, i.e. −s⁻/n ≤ z.
        let aStar = g(0) <= 0 ? ((try? GSL.brentRoot(in: 0, 1 - 0x1p-40, absoluteTolerance: 1e-300, relativeTolerance: 1e-15, g)) ?? .nan) : .nan
        let crossing = (1...T).first { GSL.normalCDF(x($0)) <= rho }
        let t = crossing ?? T
        return (crossing == nil ? "saturated" : "transition", t, aStar, GSL.normalCDF(x(t)))
    }

    /// Philox4x32-10 from S8, with full-width products.
    static func philox(_ counter: [UInt32], _ key: [UInt32]) -> [UInt32] {
        var c = counter, k = key
        for _ in 0..<10 {
            let (hi0, lo0) = UInt32(0xD251_1F53).multipliedFullWidth(by: c[0])
            let (hi1, lo1) = UInt32(0xCD9E_8D57).multipliedFullWidth(by: c[2])
            c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0]
            k = [k[0] &+ 0x9E37_79B9, k[1] &+ 0xBB67_AE85]
        }
        return c
    }

    public static func evaluate(_ operation: FixtureOperation, input: JSONValue) throws -> JSONValue {
        switch operation {
        case .philox:
            let words = philox(input["counter"]!.arrayValue!.map { UInt32($0.intValue!) }, input["key"]!.arrayValue!.map { UInt32($0.intValue!) })
            return .object([("words", .integers(words.map { Int($0) }))])
        case .normals:
            let seed = UInt64(input["seed"]!.stringValue!)!, row = UInt64(input["row"]!.stringValue!)!
            let stream = UInt32(input["stream"]!.intValue!), d = input["dimension"]!.intValue!
            var out = [Wide]()
            for q in 0 ..< (d + 3) / 4 {
                let w = philox([UInt32(q), UInt32(row & 0xFFFF_FFFF), UInt32(row >> 32), stream],
                               [UInt32(seed & 0xFFFF_FFFF), UInt32(seed >> 32)])
                for pair in [(w[0], w[1]), (w[2], w[3])] {
                    let u0 = (Wide(pair.0) + 0.5) / 4_294_967_296, u1 = (Wide(pair.1) + 0.5) / 4_294_967_296
                    let r = (-2 * log(u0)).squareRoot(), theta = 2 * Wide.pi * u1
                    out += [r * cos(theta), r * sin(theta)]
                }
            }
            return .object([("epsilon", reals(Array(out.prefix(d))))])
        case .pe:
            return .object([("encoding", reals(encoding(input["timestep"]!.intValue!, input["dimension"]!.intValue!)))])
        case .tauInit:
            return tauInit(seed: UInt64(input["seed"]!.stringValue!)!, dimension: input["dimension"]!.intValue!)
        case .tauForward:
            return .object([("epsilonHat", reals(tau(input, xt: wide(input, "xt"), t: input["timestep"]!.intValue!)))])
        default: break
        }
        let schedule = input["schedule"]!
        let (beta, alphaBar) = table(schedule)
        switch operation {
        case .schedule:
            let steps = input["timesteps"]!.arrayValue!.map { $0.intValue! }
            return .object([
                ("beta", reals(steps.map { beta[$0] })), ("alphaBar", reals(steps.map { alphaBar[$0] })),
                ("sqrtAlphaBar", reals(steps.map { alphaBar[$0].squareRoot() })),
                ("sqrtOneMinusAlphaBar", reals(steps.map { (1 - alphaBar[$0]).squareRoot() })),
            ])
        case .forward:
            let t = input["timestep"]!.intValue!, sigma = Wide(real(input, "sigma"))
            let a = alphaBar[t].squareRoot(), b = (1 - alphaBar[t]).squareRoot()
            return .object([("xt", reals(zip(wide(input, "x0"), wide(input, "epsilon")).map { a * $0 + b * sigma * $1 }))])
        case .transition:
            let n = real(input, "sigma") * real(input, "userNorm")
            let (status, t, aStar, retention) = transition(
                s0: real(input, "s0"), sNeg: real(input, "sNeg"), n: n, rho: real(input, "rho"), alphaBar: alphaBar)
            return .object([("status", .string(status)), ("timestep", .integer(t)), ("aStar", .real(aStar)), ("retention", .real(retention))])
        case .synthesize, .synthesizeDenoised:
            let configuration = input["configuration"]!
            let sigma = real(configuration, "sigma"), user = wide(input, "user"), x0 = wide(input, "positive")
            let pool = input["pool"]!.arrayValue!.map { $0.doubleArray!.map { Wide($0) } }
            let scores = pool.map { dot(user, $0) }, s0 = dot(user, x0)
            let sNeg: Wide
            switch configuration["policy"]!.stringValue! {
            case "max": sNeg = scores.max()!
            case "mean": sNeg = scores.reduce(0, +) / Wide(scores.count)
            default: sNeg = scores[0]
            }
            let hardest = scores.firstIndex(of: scores.max()!)!
            let n = Double(Wide(sigma) * dot(user, user).squareRoot())
            let (status, t, aStar, retention) = transition(
                s0: Double(s0), sNeg: Double(sNeg), n: n, rho: real(configuration, "rho"), alphaBar: alphaBar)
            var xNeg: [Wide], generator = "fallback"
            if t == 0 { xNeg = pool[hardest] } else {
                let a = alphaBar[t].squareRoot(), b = (1 - alphaBar[t]).squareRoot(), epsilon = wide(input, "epsilon")
                xNeg = zip(x0, epsilon).map { a * $0 + b * Wide(sigma) * $1 }
                generator = "forward"
                // S9's denoised generator where r_t = b/a ≤ r_max.
                if operation == .synthesizeDenoised, b / a <= Wide(real(input, "rMax")) {
                    let epsilonHat = tau(input, xt: xNeg, t: t)
                    xNeg = (0..<x0.count).map { x0[$0] + Wide(sigma) * (b / a) * (epsilon[$0] - epsilonHat[$0]) }
                    generator = "denoised"
                }
            }
            var fields: [(String, JSONValue)] = [
                ("status", .string(status)), ("timestep", .integer(t)), ("aStar", .real(aStar)), ("retention", .real(retention)),
                ("positiveScore", .real(Double(s0))), ("referenceNegativeScore", .real(Double(sNeg))),
                ("syntheticScore", .real(Double(dot(user, xNeg)))), ("hardestCandidate", .integer(hardest)), ("syntheticNegative", reals(xNeg)),
            ]
            if operation == .synthesizeDenoised { fields.append(("negativeGenerator", .string(generator))) }
            return .object(fields)
        case .loss:
            return loss(input, alphaBar: alphaBar)
        case .denoise:
            let t = input["timestep"]!.intValue!, sigma = Wide(real(input, "sigma"))
            let a = alphaBar[t].squareRoot(), b = (1 - alphaBar[t]).squareRoot()
            let x0 = wide(input, "x0"), epsilon = wide(input, "epsilon")
            let epsilonHat = tau(input, xt: zip(x0, epsilon).map { a * $0 + b * sigma * $1 }, t: t)
            // r_t as the quotient of the two amplitudes, another way than S9's √((1 − ᾱ)/ᾱ).
            let ratio = b / a
            let reconstruction = (0..<x0.count).map { x0[$0] + sigma * ratio * (epsilon[$0] - epsilonHat[$0]) }
            return .object([("epsilonHat", reals(epsilonHat)), ("reconstruction", reals(reconstruction)), ("ratio", .real(Double(ratio)))])
        case .tauStep:
            return tauStep(input, alphaBar: alphaBar)
        case .philox, .normals, .pe, .tauInit, .tauForward:
            preconditionFailure("answered above")
        }
    }

    /// S7 in Float80: softplus(x) = log(1 + eˣ) written overflow-free, σ(x) = 1/(1 + e⁻ˣ).
    static func loss(_ input: JSONValue, alphaBar: [Wide]) -> JSONValue {
        func softplus(_ x: Wide) -> Wide { x > 0 ? x + log(1 + exp(-x)) : log(1 + exp(x)) }
        func logistic(_ x: Wide) -> Wide { 1 / (1 + exp(-x)) }
        let configuration = input["configuration"]!
        let w = Wide(real(configuration, "augmentationWeight")), lambda = Wide(real(configuration, "l2"))
        let user = wide(input, "user"), positive = wide(input, "positive"), xNeg = wide(input, "syntheticNegative")
        let pool = input["pool"]!.arrayValue!.map { $0.doubleArray!.map { Wide($0) } }
        let isFallback = !["transition", "saturated"].contains(input["status"]!.stringValue!)
        let augment = (!isFallback || configuration["fallback"]!.stringValue! == "hardest") && w > 0
        let through = configuration["gradientFlow"]!.stringValue! == "through"
        let t = input["timestep"]!.intValue!, hardest = input["hardestCandidate"]!.intValue!, d = user.count
        let s0 = dot(user, positive), margin = s0 - dot(user, pool[0]), synthetic = s0 - dot(user, xNeg)
        let realWeight = logistic(-margin), weight = augment ? w * logistic(-synthetic) : 0
        var loss = softplus(-margin) + (augment ? w * softplus(-synthetic) : 0)
        loss += lambda / 2 * (dot(user, user) + dot(positive, positive) + dot(pool[0], pool[0]))
        let gUser = (0..<d).map { -realWeight * (positive[$0] - pool[0][$0]) - weight * (positive[$0] - xNeg[$0]) + lambda * user[$0] }
        let signal = through && !isFallback ? alphaBar[t].squareRoot() : 0
        let gPositive = (0..<d).map { -realWeight * user[$0] - weight * user[$0] + weight * signal * user[$0] + lambda * positive[$0] }
        var gPool = pool.map { _ in [Wide](repeating: 0, count: d) }
        for k in 0..<d { gPool[0][k] += realWeight * user[k] + lambda * pool[0][k] }
        if through && isFallback && augment { for k in 0..<d { gPool[hardest][k] += weight * user[k] } }
        return .object([("loss", .real(Double(loss))), ("userGradient", reals(gUser)), ("positiveGradient", reals(gPositive)),
                        ("poolGradient", .array(gPool.map(reals)))])
    }

    // MARK: - S9's τ in Float80

    /// `PE(t)`: frequency `10⁴^(−2j/d)` for the pair `(2j, 2j + 1)`, via `pow` rather than `exp(… ln 10⁴)`.
    static func encoding(_ t: Int, _ d: Int) -> [Wide] {
        (0..<d).map { k in
            let angle = Wide(t) * pow(10_000 as Wide, -Wide(2 * (k / 2)) / Wide(d))
            return k % 2 == 0 ? sin(angle) : cos(angle)
        }
    }

    /// S9's initialisation: Philox as above, Xavier bound `√(6/(fan_in + fan_out))`.
    static func tauInit(seed: UInt64, dimension d: Int) -> JSONValue {
        let key = [UInt32(seed & 0xFFFF_FFFF), UInt32(seed >> 32)]
        func layer(_ l: Int, rows: Int, columns: Int) -> JSONValue {
            let bound = (6 / Wide(rows + columns)).squareRoot()
            let entries = (0 ..< rows * columns).map { k -> Wide in
                let w = philox([UInt32(k / 4), UInt32(l), 0, 0xFFFF_FFFE], key)[k % 4]
                return bound * (2 * (Wide(w) + 0.5) / 4_294_967_296 - 1)
            }
            return .array((0..<rows).map { r in reals(Array(entries[r * columns ..< (r + 1) * columns])) })
        }
        return .object([("w1", layer(1, rows: 4 * d, columns: 3 * d)), ("b1", reals(Array(repeating: 0, count: 4 * d))),
                        ("w2", layer(2, rows: d, columns: 4 * d)), ("b2", reals(Array(repeating: 0, count: d)))])
    }

    /// `τ(x_t, PE(t), e_u)` with the request's weights: `SiLU(z) = z/(1 + e^{−z})`.
    static func tau(_ input: JSONValue, xt: [Wide], t: Int) -> [Wide] {
        func matrix(_ name: String) -> [[Wide]] { input[name]!.arrayValue!.map { $0.doubleArray!.map { Wide($0) } } }
        let v = xt + encoding(t, xt.count) + wide(input, "user")
        let hidden = zip(matrix("w1"), wide(input, "b1")).map { row, bias -> Wide in
            let z = dot(row, v) + bias
            return z / (1 + exp(-z))
        }
        return zip(matrix("w2"), wide(input, "b2")).map { dot($0, hidden) + $1 }
    }

    /// S9's training step in Float80: `x_t′`, τ's forward pass and its gradient by
    /// the chain rule written out here (`SiLU′(z) = (1 + e^{−z}(1 + z))/(1 + e^{−z})²`),
    /// the mean over the rows, then Adam with `1 − β^s` from Float80 `pow`.
    static func tauStep(_ input: JSONValue, alphaBar: [Wide]) -> JSONValue {
        func rows(_ value: JSONValue?) -> [[Wide]] { value!.arrayValue!.map { $0.doubleArray!.map { Wide($0) } } }
        func flat(_ value: JSONValue) -> [Wide] { ["w1", "b1", "w2", "b2"].flatMap { name in
            value[name]!.arrayValue!.flatMap { $0.arrayValue?.map { Wide($0.doubleValue!) } ?? [Wide($0.doubleValue!)] }
        } }
        let w1 = rows(input["w1"]), b1 = wide(input, "b1"), w2 = rows(input["w2"]), b2 = wide(input, "b2")
        let positives = rows(input["positives"]), users = rows(input["users"]), targets = rows(input["targetNoise"])
        let timesteps = input["timesteps"]!.arrayValue!.map { $0.intValue! }, sigma = Wide(real(input, "sigma"))
        let d = b2.count, hiddenWidth = 4 * d, inputWidth = 3 * d, count = Wide(timesteps.count)
        var loss: Wide = 0
        var gW1 = [[Wide]](repeating: [Wide](repeating: 0, count: inputWidth), count: hiddenWidth), gB1 = [Wide](repeating: 0, count: hiddenWidth)
        var gW2 = [[Wide]](repeating: [Wide](repeating: 0, count: hiddenWidth), count: d), gB2 = [Wide](repeating: 0, count: d)
        for (b, t) in timesteps.enumerated() {
            let a = alphaBar[t].squareRoot(), noise = (1 - alphaBar[t]).squareRoot()
            let xt = (0..<d).map { a * positives[b][$0] + noise * sigma * targets[b][$0] }
            let v = xt + encoding(t, d) + users[b]
            let z = (0..<hiddenWidth).map { dot(w1[$0], v) + b1[$0] }
            let h = z.map { $0 / (1 + exp(-$0)) }
            let residual = (0..<d).map { dot(w2[$0], h) + b2[$0] - targets[b][$0] }
            loss += residual.reduce(0) { $0 + $1 * $1 } / Wide(d) / count
            let dy = residual.map { 2 * $0 / Wide(d) / count }
            for k in 0..<d {
                gB2[k] += dy[k]
                for j in 0..<hiddenWidth { gW2[k][j] += dy[k] * h[j] }
            }
            for j in 0..<hiddenWidth {
                let e = exp(-z[j])
                let dz = (0..<d).reduce(0) { $0 + w2[$1][j] * dy[$1] } * (1 + e * (1 + z[j])) / ((1 + e) * (1 + e))
                gB1[j] += dz
                for i in 0..<inputWidth { gW1[j][i] += dz * v[i] }
            }
        }
        let gradient = gW1.flatMap { $0 } + gB1 + gW2.flatMap { $0 } + gB2
        let theta = flat(input), m = flat(input["firstMoment"]!), v = flat(input["secondMoment"]!)
        let step = Wide(input["step"]!.intValue!), lr = Wide(real(input, "learningRate"))
        let beta1: Wide = 9 / 10, beta2: Wide = 999 / 1000
        let newM = zip(m, gradient).map { beta1 * $0 + (1 - beta1) * $1 }
        let newV = zip(v, gradient).map { beta2 * $0 + (1 - beta2) * $1 * $1 }
        let newTheta = (0..<theta.count).map { k in
            theta[k] - lr * (newM[k] / (1 - pow(beta1, step))) / ((newV[k] / (1 - pow(beta2, step))).squareRoot() + Wide(1e-8))
        }
        func fields(_ values: [Wide]) -> [(String, JSONValue)] {
            let w1End = 12 * d * d, b1End = w1End + 4 * d, w2End = b1End + 4 * d * d
            func matrix(_ part: ArraySlice<Wide>, _ columns: Int) -> JSONValue {
                .array(stride(from: part.startIndex, to: part.endIndex, by: columns).map { reals(Array(part[$0 ..< $0 + columns])) })
            }
            return [("w1", matrix(values[..<w1End], inputWidth)), ("b1", reals(Array(values[w1End..<b1End]))),
                    ("w2", matrix(values[b1End..<w2End], hiddenWidth)), ("b2", reals(Array(values[w2End...])))]
        }
        return .object([("loss", .real(Double(loss)))] + fields(newTheta)
            + [("firstMoment", .object(fields(newM))), ("secondMoment", .object(fields(newV)))])
    }
}
