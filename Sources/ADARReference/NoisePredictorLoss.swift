/// S9's τ loss of one row and its gradient with respect to every parameter of τ.
public struct TauLoss: Equatable, Sendable {
    /// `L_τ = ‖ε′ − ε̂‖²/d`.
    public var loss: Double
    /// `∂L_τ/∂θ` in the shape of τ's parameters.
    public var gradient: TauParameters
}

extension ReferenceADAR {
    /// S9: `L_τ = ‖ε′ − τ_θ(x_t′, PE(t′), e_u)‖²/d` and its gradient by
    /// backpropagation (Proofs/S9-tau.md, S9/G1): with `r = y − ε′`,
    /// `∂L/∂y_k = 2r_k/d`; `∂L/∂b₂ = ∂L/∂y`, `∂L/∂W₂[k][j] = ∂L/∂y_k·h_j`;
    /// `∂L/∂h_j = Σ_k W₂[k][j]·∂L/∂y_k`; `∂L/∂z_j = ∂L/∂h_j·SiLU′(z_j)`;
    /// `∂L/∂b₁ = ∂L/∂z`, `∂L/∂W₁[j][i] = ∂L/∂z_j·v_i`. `x_t` and `e_u` are constants.
    public static func tauLoss(
        _ p: TauParameters, noisy xt: [Double], timestep t: Int, user: [Double], target epsilon: [Double]
    ) -> TauLoss {
        precondition(xt.count == p.dimension && user.count == p.dimension)
        return tauLoss(p, input: tauInput(noisy: xt, timestep: t, user: user), target: epsilon)
    }

    /// `tauLoss` from τ's assembled input `v = [x_t, PE(t), e_u]` (a port's own assembly, for diagnoses).
    public static func tauLoss(_ p: TauParameters, input v: [Double], target epsilon: [Double]) -> TauLoss {
        let d = p.dimension, inputs = p.inputWidth, hidden = p.hiddenWidth
        precondition(v.count == inputs && epsilon.count == d)
        let a = tauForward(p, input: v)
        var squares = 0.0
        var outputGradient = [Double]()
        for k in 0..<d {
            let residual = a.output[k] - epsilon[k]
            squares += residual * residual
            outputGradient.append(2 * residual / Double(d))
        }
        var gradient = TauParameters.zeros(dimension: d)
        var hiddenGradient = [Double](repeating: 0, count: hidden)
        for k in 0..<d {
            gradient.b2[k] = outputGradient[k]
            for j in 0..<hidden {
                gradient.w2[k * hidden + j] = outputGradient[k] * a.hidden[j]
                hiddenGradient[j] += p.w2[k * hidden + j] * outputGradient[k]
            }
        }
        for j in 0..<hidden {
            let preActivationGradient = hiddenGradient[j] * siluDerivative(a.preActivation[j])
            gradient.b1[j] = preActivationGradient
            for i in 0..<inputs { gradient.w1[j * inputs + i] = preActivationGradient * a.input[i] }
        }
        return TauLoss(loss: squares / Double(d), gradient: gradient)
    }
}
