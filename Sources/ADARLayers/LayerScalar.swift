import COpenBLAS
import Foundation

/// The number type of the layers: `Float` trains, `Double` evaluates the same
/// code for the gradient checks (central differences need binary64). Each
/// conformance supplies the few operations `BinaryFloatingPoint` lacks and
/// routes matrix products to OpenBLAS (`sgemm` / `dgemm`).
public protocol LayerScalar: BinaryFloatingPoint, Sendable {
    static func exponential(_ x: Self) -> Self
    static func logOnePlus(_ x: Self) -> Self
    /// Row-major `C = α·op(A)·op(B) + β·C` (`op(A)` is `m × k`, `op(B)` `k × n`).
    static func blasGEMM(
        _ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32, _ k: Int32, _ alpha: Self,
        _ a: UnsafePointer<Self>, _ lda: Int32, _ b: UnsafePointer<Self>, _ ldb: Int32, _ beta: Self,
        _ c: UnsafeMutablePointer<Self>, _ ldc: Int32
    )
}

extension Float: LayerScalar {
    @inlinable public static func exponential(_ x: Float) -> Float { Foundation.expf(x) }
    @inlinable public static func logOnePlus(_ x: Float) -> Float { Foundation.log1pf(x) }
    @inlinable public static func blasGEMM(
        _ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32, _ k: Int32, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int32, _ b: UnsafePointer<Float>, _ ldb: Int32, _ beta: Float,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int32
    ) {
        cblas_sgemm(CblasRowMajor, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
}

extension Double: LayerScalar {
    @inlinable public static func exponential(_ x: Double) -> Double { Foundation.exp(x) }
    @inlinable public static func logOnePlus(_ x: Double) -> Double { Foundation.log1p(x) }
    @inlinable public static func blasGEMM(
        _ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32, _ k: Int32, _ alpha: Double,
        _ a: UnsafePointer<Double>, _ lda: Int32, _ b: UnsafePointer<Double>, _ ldb: Int32, _ beta: Double,
        _ c: UnsafeMutablePointer<Double>, _ ldc: Int32
    ) {
        cblas_dgemm(CblasRowMajor, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
}

/// The matrix products of the layers. OpenBLAS runs single-threaded (pinned
/// once, before the first product); the layers parallelise over a fixed
/// number of row chunks that never depends on the thread count, so every
/// product is the same call with the same shapes whatever `threads` is, and
/// results are bit-identical for any thread count.
enum GEMM {
    /// `OPENBLAS_NUM_THREADS` is overridden: OpenBLAS threads inside our
    /// parallel chunks would oversubscribe the cores.
    private static let pinned: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    /// OpenBLAS's thread count once the layers have run a product (1; for the tests).
    package static var threadsAfterPinning: Int {
        guard pinned else { return -1 }
        return Int(openblas_get_num_threads())
    }

    /// Row-major `C = α·op(A)·op(B) + β·C`; nothing when a dimension is 0.
    @inline(__always)
    @_specialize(where S == Float)
    static func product<S: LayerScalar>(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: S = 1,
        _ a: UnsafePointer<S>, lda: Int, _ b: UnsafePointer<S>, ldb: Int, beta: S = 0,
        _ c: UnsafeMutablePointer<S>, ldc: Int
    ) {
        // Not `precondition`: -Ounchecked would drop it and OpenBLAS would thread.
        guard pinned else { fatalError("OpenBLAS could not be pinned to one thread") }
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        S.blasGEMM(transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                   Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// Fixed row chunks of the layers' parallel loops: the count depends on the
/// rows only, never on the thread count (see `GEMM`).
enum LayerChunks {
    static let maximum = 64

    static func count(_ rows: Int) -> Int { Swift.max(1, Swift.min(maximum, rows)) }
}
