#ifndef CGSL_SHIM_H
#define CGSL_SHIM_H
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sf_log.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_deriv.h>
#include <gsl/gsl_sort.h>

// Swift 6 rejects references to GSL's mutable global type pointers; these
// accessors hand them over as plain function results.
static inline const gsl_root_fsolver_type *cgsl_root_fsolver_brent(void) {
    return gsl_root_fsolver_brent;
}
#endif
