import CGSL

extension GSL {
    /// `log(1 + x)` with GSL's own absolute error estimate (`gsl_sf_log_1plusx_e`),
    /// so a check can carry the oracle's error into its bound (Proofs/S1-schedules.md).
    public static func log1plusxWithError(_ x: Double) throws(GSLError) -> (value: Double, error: Double) {
        prepare()
        var result = gsl_sf_result()
        try check(gsl_sf_log_1plusx_e(x, &result), "gsl_sf_log_1plusx_e")
        return (result.val, result.err)
    }
}
