/// binary32 vector kernels shared by the synthesis and loss passes, and by the
/// trainer and the bench through `@_spi(Kernels) import ADAR`.
///
/// SPI-public rather than `package`: the compiler (Swift 6.3) serialises the body of
/// an `@inlinable` declaration for other modules only when it is public, so `package`
/// kernels were called, not inlined, from other modules (a call per 8 floats).
/// `@_spi` keeps them out of the API an ordinary `import ADAR` sees.
@_spi(Kernels) public enum Kernels32 {
    /// `⟨a, b⟩` over `d` values: eight lanes, then the tail in order.
    @inlinable @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var acc = SIMD8<Float>()
        var k = 0
        while k + 8 <= d {
            acc += load8(a + k) * load8(b + k)
            k += 8
        }
        var sum = acc.sum()
        while k < d {
            sum += a[k] * b[k]
            k += 1
        }
        return sum
    }

    /// `⟨u, c_i⟩` for four vectors at once, each summed exactly as `dot`
    /// sums it (so each result is bit-identical to `dot(u, c_i, d)`): four
    /// independent accumulators hide the add latency that bounds a single
    /// dot, and each load of `u` serves four products.
    @inlinable @inline(__always)
    public static func dot4(
        _ u: UnsafePointer<Float>,
        _ c0: UnsafePointer<Float>, _ c1: UnsafePointer<Float>, _ c2: UnsafePointer<Float>, _ c3: UnsafePointer<Float>,
        _ d: Int
    ) -> SIMD4<Float> {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
        var k = 0
        while k + 8 <= d {
            let uk = load8(u + k)
            acc0 += uk * load8(c0 + k)
            acc1 += uk * load8(c1 + k)
            acc2 += uk * load8(c2 + k)
            acc3 += uk * load8(c3 + k)
            k += 8
        }
        var sums = SIMD4(acc0.sum(), acc1.sum(), acc2.sum(), acc3.sum())
        while k < d {
            sums += u[k] * SIMD4(c0[k], c1[k], c2[k], c3[k])
            k += 1
        }
        return sums
    }

    @inlinable @inline(__always)
    public static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inlinable @inline(__always)
    public static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// `out = α·x + β·ε` and returns `⟨u, out⟩` in the same pass.
    @inlinable @inline(__always)
    public static func combineAndScore(
        _ alpha: Float, _ x: UnsafePointer<Float>, _ beta: Float, _ epsilon: UnsafePointer<Float>,
        user u: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, _ d: Int
    ) -> Float {
        var acc = SIMD8<Float>()
        var k = 0
        while k + 8 <= d {
            let v = alpha * load8(x + k) + beta * load8(epsilon + k)
            store8(v, out + k)
            acc += load8(u + k) * v
            k += 8
        }
        var sum = acc.sum()
        while k < d {
            let v = alpha * x[k] + beta * epsilon[k]
            out[k] = v
            sum += u[k] * v
            k += 1
        }
        return sum
    }

    /// `y += s·x`.
    @inlinable @inline(__always)
    public static func axpy(_ s: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ d: Int) {
        for k in 0..<d { y[k] += s * x[k] }
    }
}
