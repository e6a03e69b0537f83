import Foundation

/// GEMM-shaped binary32 kernels of τ (spec S9). Every output element is
/// summed in one fixed order that depends on the shapes only — never on the
/// tile it falls in, the row chunk or the thread count — so the batched pass,
/// the per-row pass of synthesis and any chunking agree bit for bit.
package enum TauKernels32 {
    /// `out[b][n] = ⟨a[b], w[n]⟩ + bias[n]` for `rows` rows of `a` (`rows × k`)
    /// and `outputs` rows of `w` (`outputs × k`), each dot summed exactly as
    /// `Kernels32.dot` sums it (eight lanes over `k`, the lanes' sum, the tail
    /// in order), then the bias added. Register tiles of 2 rows × 4 outputs:
    /// each load of `a` serves four products and each load of `w` two.
    @inlinable
    package static func linear(
        _ a: UnsafePointer<Float>, rows: Int, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>, outputs: Int,
        inputs k: Int, into out: UnsafeMutablePointer<Float>
    ) {
        var b = 0
        while b + 2 <= rows {
            let a0 = a + b * k, a1 = a0 + k
            var n = 0
            while n + 4 <= outputs {
                let w0 = w + n * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k
                var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c02 = SIMD8<Float>(), c03 = SIMD8<Float>()
                var c10 = SIMD8<Float>(), c11 = SIMD8<Float>(), c12 = SIMD8<Float>(), c13 = SIMD8<Float>()
                var i = 0
                while i + 8 <= k {
                    let x0 = Kernels32.load8(a0 + i), x1 = Kernels32.load8(a1 + i)
                    let v0 = Kernels32.load8(w0 + i), v1 = Kernels32.load8(w1 + i)
                    let v2 = Kernels32.load8(w2 + i), v3 = Kernels32.load8(w3 + i)
                    c00 += x0 * v0; c01 += x0 * v1; c02 += x0 * v2; c03 += x0 * v3
                    c10 += x1 * v0; c11 += x1 * v1; c12 += x1 * v2; c13 += x1 * v3
                    i += 8
                }
                let row0 = out + b * outputs + n, row1 = row0 + outputs
                row0[0] = finish(c00, a0, w0, from: i, k) + bias[n]
                row0[1] = finish(c01, a0, w1, from: i, k) + bias[n + 1]
                row0[2] = finish(c02, a0, w2, from: i, k) + bias[n + 2]
                row0[3] = finish(c03, a0, w3, from: i, k) + bias[n + 3]
                row1[0] = finish(c10, a1, w0, from: i, k) + bias[n]
                row1[1] = finish(c11, a1, w1, from: i, k) + bias[n + 1]
                row1[2] = finish(c12, a1, w2, from: i, k) + bias[n + 2]
                row1[3] = finish(c13, a1, w3, from: i, k) + bias[n + 3]
                n += 4
            }
            while n < outputs {
                out[b * outputs + n] = Kernels32.dot(a0, w + n * k, k) + bias[n]
                out[(b + 1) * outputs + n] = Kernels32.dot(a1, w + n * k, k) + bias[n]
                n += 1
            }
            b += 2
        }
        if b < rows { linearRow(a + b * k, w, bias: bias, outputs: outputs, inputs: k, into: out + b * outputs) }
    }

    /// One row of `linear` (the per-row forward of synthesis): tiles of
    /// 4 outputs, the same summation order.
    @inlinable
    package static func linearRow(
        _ a: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>, outputs: Int,
        inputs k: Int, into out: UnsafeMutablePointer<Float>
    ) {
        var n = 0
        while n + 4 <= outputs {
            let w0 = w + n * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k
            var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>(), c3 = SIMD8<Float>()
            var i = 0
            while i + 8 <= k {
                let x = Kernels32.load8(a + i)
                c0 += x * Kernels32.load8(w0 + i); c1 += x * Kernels32.load8(w1 + i)
                c2 += x * Kernels32.load8(w2 + i); c3 += x * Kernels32.load8(w3 + i)
                i += 8
            }
            out[n] = finish(c0, a, w0, from: i, k) + bias[n]
            out[n + 1] = finish(c1, a, w1, from: i, k) + bias[n + 1]
            out[n + 2] = finish(c2, a, w2, from: i, k) + bias[n + 2]
            out[n + 3] = finish(c3, a, w3, from: i, k) + bias[n + 3]
            n += 4
        }
        while n < outputs {
            out[n] = Kernels32.dot(a, w + n * k, k) + bias[n]
            n += 1
        }
    }

    /// The lanes' sum then the tail `i ..< k` in order, as `Kernels32.dot` ends.
    @inlinable @inline(__always)
    static func finish(_ acc: SIMD8<Float>, _ a: UnsafePointer<Float>, _ w: UnsafePointer<Float>, from i: Int, _ k: Int) -> Float {
        var sum = acc.sum()
        var j = i
        while j < k {
            sum += a[j] * w[j]
            j += 1
        }
        return sum
    }

    /// `SiLU(x) = x/(1 + e^{−x})` in binary32.
    @inlinable @inline(__always)
    package static func silu(_ x: Float) -> Float { x / (1 + Foundation.exp(-x)) }

    /// `SiLU′(x) = s·(1 + x·(1 − s))`, `s = 1/(1 + e^{−x})`, in binary32.
    @inlinable @inline(__always)
    package static func siluDerivative(_ x: Float) -> Float {
        let s = 1 / (1 + Foundation.exp(-x))
        return s * (1 + x * (1 - s))
    }

    /// `grad[n][·] = Σ_b coefficient[b][n]·x[b][·]` for outputs `n` in
    /// `outputRange` (`coefficient` is `rows × outputs`, `x` is `rows × k`),
    /// and `biasGrad[n] = Σ_b coefficient[b][n]`: every element summed over
    /// `b = 0, 1, …` in row order, one rounding per term, whatever the tiling.
    /// Rows go in blocks that stay in L2 across the output tiles; tiles of
    /// 4 outputs × 8 inputs stay in registers across a block's rows and carry
    /// the running sums from block to block through `grad` (exact binary32
    /// stores and loads, so the rounding sequence is the unblocked one).
    @inlinable
    package static func accumulateOuter(
        _ coefficient: UnsafePointer<Float>, outputs: Int, _ x: UnsafePointer<Float>, rows: Int, inputs k: Int,
        outputRange: Range<Int>, into grad: UnsafeMutablePointer<Float>, biasGrad: UnsafeMutablePointer<Float>
    ) {
        for n in outputRange {
            var sum: Float = 0
            for b in 0..<rows { sum += coefficient[b * outputs + n] }
            biasGrad[n] = sum
        }
        for n in outputRange { (grad + n * k).update(repeating: 0, count: k) }
        let blockRows = Swift.max(8, 32_768 / Swift.max(k, 1))
        var start = 0
        while start < rows {
            let end = Swift.min(rows, start + blockRows)
            var n = outputRange.lowerBound
            while n + 4 <= outputRange.upperBound {
                let r0 = grad + n * k, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k
                var i = 0
                while i + 8 <= k {
                    var g0 = Kernels32.load8(r0 + i), g1 = Kernels32.load8(r1 + i)
                    var g2 = Kernels32.load8(r2 + i), g3 = Kernels32.load8(r3 + i)
                    for b in start..<end {
                        let xb = Kernels32.load8(x + b * k + i), c = coefficient + b * outputs + n
                        g0 += c[0] * xb; g1 += c[1] * xb; g2 += c[2] * xb; g3 += c[3] * xb
                    }
                    Kernels32.store8(g0, r0 + i); Kernels32.store8(g1, r1 + i)
                    Kernels32.store8(g2, r2 + i); Kernels32.store8(g3, r3 + i)
                    i += 8
                }
                for j in i..<k {
                    for m in n ..< n + 4 { grad[m * k + j] = outerElement(coefficient, outputs, x, start ..< end, k, m, j, grad[m * k + j]) }
                }
                n += 4
            }
            while n < outputRange.upperBound {
                for j in 0..<k { grad[n * k + j] = outerElement(coefficient, outputs, x, start ..< end, k, n, j, grad[n * k + j]) }
                n += 1
            }
            start = end
        }
    }

    @inlinable @inline(__always)
    static func outerElement(
        _ coefficient: UnsafePointer<Float>, _ outputs: Int, _ x: UnsafePointer<Float>, _ rows: Range<Int>, _ k: Int,
        _ n: Int, _ j: Int, _ partial: Float
    ) -> Float {
        var sum = partial
        for b in rows { sum += coefficient[b * outputs + n] * x[b * k + j] }
        return sum
    }

    /// `out[·] = Σ_n coefficient[n]·w[n][·]` over `n = 0…outputs−1` in order
    /// (the backward of `linear` for one row: `dx = Wᵀ·dy`).
    @inlinable
    package static func transposedRow(
        _ coefficient: UnsafePointer<Float>, _ w: UnsafePointer<Float>, outputs: Int, inputs k: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        var i = 0
        while i + 8 <= k {
            var acc = SIMD8<Float>()
            for n in 0..<outputs { acc += coefficient[n] * Kernels32.load8(w + n * k + i) }
            Kernels32.store8(acc, out + i)
            i += 8
        }
        while i < k {
            var sum: Float = 0
            for n in 0..<outputs { sum += coefficient[n] * w[n * k + i] }
            out[i] = sum
            i += 1
        }
    }
}
