/// The deliberately simple binary64 reference implementation of ADAR.
///
/// One function per spec section, straight loops, no SIMD, no threads, no
/// caches: it is meant to be read beside `ADAR-SPEC.md`. The data flow is
/// forward process (S2) → reference negative score (S3) → score-aware
/// timestep (S4) → row status (S5) → synthesis (S6) → loss (S7); each stage
/// lives in its own file as an extension of this namespace.
public enum ReferenceADAR {
    /// `⟨a, b⟩`, summed left to right.
    public static func dot(_ a: ArraySlice<Double>, _ b: ArraySlice<Double>) -> Double {
        precondition(a.count == b.count)
        var sum = 0.0
        for (x, y) in zip(a, b) { sum += x * y }
        return sum
    }

    public static func dot(_ a: [Double], _ b: [Double]) -> Double {
        dot(a[...], b[...])
    }
}
