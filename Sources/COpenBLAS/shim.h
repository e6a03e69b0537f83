// OpenBLAS's CBLAS interface and its thread control. Never include GSL's
// gsl_cblas.h in this module (the two declare the same symbols).
#include <cblas.h>
