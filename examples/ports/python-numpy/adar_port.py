#!/usr/bin/env python3
"""A readable numpy port of ADAR-SPEC.md that answers the `adar conform` protocol.

Read it beside the spec: every function cites the section it implements
(S1 … S9). The protocol is docs/PORTING.md section 3; the operations and
their field names are docs/PORTING.md section 2.

    python3 adar_port.py                       # protocol on stdin/stdout
    python3 adar_port.py --fixtures DIR --write-results FILE
                                               # batch answers for `adar conform --results FILE`

Environment:
    ADAR_PORT_PRECISION=binary32   compute in float32 (declared in hello); default binary64
    ADAR_PORT_BUG=<name>           switch on one deliberate convention bug (see BUGS below);
                                   used by the tests to check that `adar conform` names it
"""

import json
import math
import os
import sys
from fractions import Fraction

import numpy as np
from scipy.special import erfc as erfc_any_precision, ndtri

PRECISION = os.environ.get("ADAR_PORT_PRECISION", "binary64")
if PRECISION not in ("binary64", "binary32"):
    sys.exit(f"ADAR_PORT_PRECISION must be binary64 or binary32, not {PRECISION!r}")
# The working floating-point type. S1 fixes the schedule tables in binary64
# whatever the precision; everything after them uses REAL.
REAL = np.float64 if PRECISION == "binary64" else np.float32

# ---------------------------------------------------------------------------
# Deliberate bugs (off by default). Each is the one place marked `BUG:` below.
# The names are the ones docs/PORTING.md lists with the hint `adar conform`
# should give.
# ---------------------------------------------------------------------------
BUGS = {
    # S1 schedules
    "alpha-bar-shifted": "tables read ᾱ_{t−1} where ᾱ_t belongs (the 'alphas_cumprod_prev' slip)",
    "beta-for-alpha-bar": "the β_t table used where ᾱ_t belongs",
    "alpha-for-alpha-bar": "α_t = 1 − β_t used where the cumulative product ᾱ_t belongs",
    "linear-rescaled": "`linear` rescaled by 1000/T as if it were ddpm-linear",
    "zero-based-t": "timesteps counted from 0: reports t − 1 and reads ᾱ_{t+1} at t",
    "cosine-unclipped": "cosine β_t not clipped at maxBeta",
    "alpha-bar-float32": "ᾱ_t accumulated in float32",
    # S2–S5
    "missing-sigma": "σ ignored: n = ‖e_u‖ and x_t uses ε instead of σ·ε",
    "policy-swapped": "reference-negative policies max and mean swapped",
    "wrong-root": "the other root of the S4.d quadratic",
    "z-sign-flipped": "z = Φ⁻¹(1 − ρ) instead of Φ⁻¹(ρ)",
    "amplitude-for-alpha-bar-star": "a* compared with the ᾱ_t table instead of ᾱ* = a*²",
    "status-precedence": "nonPositiveScore tested before alreadyNegative",
    "strict-tie": "t* as the first t with ᾱ_t < ᾱ* (strict), so an exact tie lands one step late",
    "mean-includes-positive": "policy mean averages the positive's score with the pool's",
    # S7
    "naive-softplus": "softplus(x) = log(1 + exp(x)), which overflows",
    "gradient-flow-swapped": "gradient flow detach and through swapped",
    "fallback-swapped": "fallback modes skip and hardest swapped",
    "margin-gradient-sign": "∂softplus(−m)/∂m taken as +σ(−m): the BPR terms' gradients have the wrong sign",
    # S8
    "box-muller-lanes-swapped": "Box–Muller lanes 0 and 1 swapped (r·sin θ first)",
    "box-muller-uniforms-swapped": "Box–Muller r from the second word and θ from the first",
    "unit-interval-without-half": "u = w·2⁻³² instead of (w + ½)·2⁻³²",
    "key-halves-swapped": "Philox key (high32(seed), low32(seed))",
    "counter-row-halves-swapped": "Philox counter (k/4, high32(row), low32(row), stream)",
    "counter-words-reversed": "Philox counter (stream, high32(row), low32(row), k/4)",
    # Bugs outside the catalogue: `adar conform` must fail them and show NO hint (a wrong hint is worse than none).
    "alpha-bar-for-sqrt": "x_t = ᾱ_t·x_0 + (1 − ᾱ_t)·σ·ε: ᾱ where √ᾱ belongs (not a catalogued bug)",
    "coarse-quantile": "z = Φ⁻¹(ρ) rounded to 4 significant digits (not a catalogued bug)",
    "linspace-over-t": "linspace divides by T instead of T − 1 (not a catalogued bug)",
    # S9 τ
    "pe-sin-cos-swapped": "PE(t): cos for even k and sin for odd k",
    "pe-integer-division": "PE(t): (k − k mod 2)//d, an integer division that is always 0",
    "pe-exponent-k": "PE(t): exponent −k/d·ln 10⁴ instead of −(k − k mod 2)/d·ln 10⁴",
    "concatenation-swapped": "τ's input v = [e_u ; PE(t) ; x_t] instead of [x_t ; PE(t) ; e_u]",
    "reconstruction-missing-sigma": "x̂_0 = x_0 + r_t·(ε − ε̂), σ left out of the reconstruction",
    "ratio-alpha-bar": "r_t = √(1 − ᾱ_t)/ᾱ_t, ᾱ where √ᾱ belongs",
    # S9 τ's Adam step
    "adam-no-bias-correction": "Adam without bias correction: m/(√v + ε) instead of m̂/(√v̂ + ε)",
    "adam-epsilon-inside-root": "Adam's ε inside the square root: m̂/√(v̂ + ε)",
    "adam-weight-decay": "AdamW's default weight decay (λ = 0.01) applied to τ",
    "adam-moments-after-step": "θ stepped with the previous moments, m and v updated afterwards",
}
BUG = os.environ.get("ADAR_PORT_BUG", "")
if BUG and BUG not in BUGS:
    sys.exit(f"unknown ADAR_PORT_BUG {BUG!r}; known: {', '.join(BUGS)}")

OPERATIONS = ["schedule", "forward", "transition", "synthesize", "philox", "normals", "loss",
              "pe", "tauInit", "tauForward", "denoise", "synthesizeDenoised", "tauStep"]


class ADARError(Exception):
    """A refused input. `kind` is the Swift reference's ADARError case name
    (nonFinite, overflow, shapeMismatch, invalidSchedule, invalidConfiguration,
    indexOutOfRange, emptyPool); `field` the parameter or array it names."""

    def __init__(self, kind, field, message):
        super().__init__(message)
        self.kind, self.field, self.message = kind, field, message


def real(x):
    """A Python number in the working precision."""
    return REAL(x)


def number(value):
    """A JSON number; null stands for NaN, and the strings "NaN", "Infinity",
    "-Infinity" for the values JSON cannot spell."""
    return math.nan if value is None else float(value)


def vector(values, field, length=None):
    """A finite 1-D array of the working precision (S5: a NaN or ±∞ anywhere is
    an error naming row 0, the field and the component)."""
    a = np.asarray([number(v) for v in values], dtype=np.float64)
    if length is not None and a.size != length:
        raise ADARError("shapeMismatch", field, f"field {field}: expected {length} values, got {a.size}")
    bad = np.flatnonzero(~np.isfinite(a))
    if bad.size:
        raise ADARError("nonFinite", field, f"row 0, field {field}[{bad[0]}]: value is not finite (S5)")
    return a.astype(REAL)


def finite_scalar(value, field):
    value = number(value)
    if not math.isfinite(value):
        raise ADARError("nonFinite", field, f"row 0, field {field}[0]: value is not finite (S5)")
    return value


def dot(a, b):
    """⟨a, b⟩ summed left to right in the working precision, as the reference
    does; np.dot may reorder the sum, which would move exact ties (s_0 = s⁻)."""
    total = REAL(0)
    for x, y in zip(a, b):
        total = REAL(total + x * y)
    return total


# ---------------------------------------------------------------------------
# S1. Noise schedules, in binary64. Tables are indexed by the 1-based t:
# index 0 is the clean sample (β_0 = 0, ᾱ_0 = 1).
# ---------------------------------------------------------------------------
def linspace(a, b, steps, t):
    """linspace(a, b, T)_t = a + (t − 1)(b − a)/(T − 1), and a for T = 1 (S1)."""
    if BUG == "linspace-over-t":  # BUG: (b − a)/T, the last β falls short of b
        return a + (t - 1) * (b - a) / steps
    return a if steps == 1 else a + (t - 1) * (b - a) / (steps - 1)


def schedule_error(parameter, reason):
    return ADARError("invalidSchedule", parameter, f"schedule parameter {parameter}: {reason} (S1)")


def parameter(spec, name, default=None):
    if name not in spec:
        if default is None:
            raise schedule_error(name, f"{name} is missing")
        return default
    return number(spec[name])


def check_ordered(start, end):
    if not (math.isfinite(start) and math.isfinite(end)):
        raise schedule_error("start/end", f"start = {start}, end = {end} must be finite")
    if start > end:
        raise schedule_error("start", f"start = {start} > end = {end}")


def check_max_beta(max_beta):
    if not (math.isfinite(max_beta) and 0 < max_beta < 1):
        raise schedule_error("maxBeta", f"maxBeta = {max_beta} is outside (0, 1)")


def betas_of(spec, T):
    """β_1 … β_T of each family of the S1 table (before the range checks)."""
    kind = spec.get("kind")
    if kind == "linear":
        start, end = parameter(spec, "start"), parameter(spec, "end")
        check_ordered(start, end)
        if BUG == "linear-rescaled":  # BUG: ddpm-linear's 1000/T applied to plain linear
            start, end = start * 1000 / T, end * 1000 / T
        return [linspace(start, end, T, t) for t in range(1, T + 1)]
    if kind == "ddpm-linear":  # improved-diffusion's linear: start 1e-4·1000/T, end 0.02·1000/T
        scale = 1000 / T
        return [linspace(1e-4 * scale, 0.02 * scale, T, t) for t in range(1, T + 1)]
    if kind == "scaled-linear":
        start, end = parameter(spec, "start"), parameter(spec, "end")
        check_ordered(start, end)
        if start < 0:
            raise schedule_error("start", f"start = {start} must be ≥ 0 to take its square root")
        roots = [linspace(math.sqrt(start), math.sqrt(end), T, t) for t in range(1, T + 1)]
        return [root * root for root in roots]
    if kind == "cosine":
        s, max_beta = parameter(spec, "s", 0.008), parameter(spec, "maxBeta", 0.999)
        if not (math.isfinite(s) and s >= 0):
            raise schedule_error("s", f"s = {s} must be finite and ≥ 0")
        check_max_beta(max_beta)

        def f(tau):  # f(τ) = cos²(((τ + s)/(1 + s))·π/2)
            c = math.cos((tau + s) / (1 + s) * math.pi / 2)
            return c * c

        betas = [1 - f(t / T) / f((t - 1) / T) for t in range(1, T + 1)]
        if BUG == "cosine-unclipped":  # BUG: no min(…, maxBeta)
            return betas
        return [min(beta, max_beta) for beta in betas]
    if kind == "linear-variance":
        scale = parameter(spec, "scale")
        low, high = parameter(spec, "min"), parameter(spec, "max")
        max_beta = parameter(spec, "maxBeta", 0.999)
        if not (math.isfinite(scale) and scale > 0):
            raise schedule_error("scale", f"scale = {scale} must be finite and > 0")
        if not math.isfinite(low):
            raise schedule_error("min", f"min = {low} must be finite")
        if not (math.isfinite(high) and high > low):
            raise schedule_error("max", f"max = {high} must be finite and > min = {low}")
        check_max_beta(max_beta)
        # DiffRec's linear-var: v_t = linspace(scale·min, scale·max, T)_t, ᾱ'_t = 1 − v_t,
        # β_1 = v_1, β_t = min(1 − ᾱ'_t/ᾱ'_{t−1}, maxBeta).
        v = [linspace(scale * low, scale * high, T, t) for t in range(1, T + 1)]
        return [v[0]] + [min(1 - (1 - v[t]) / (1 - v[t - 1]), max_beta) for t in range(1, T)]
    if kind == "custom":
        betas = [number(b) for b in spec.get("betas", [])]
        if len(betas) != T:
            raise ADARError("shapeMismatch", "betas", f"field betas: expected {T} values, got {len(betas)}")
        return betas
    raise malformed("schedule.kind", f"unknown schedule kind {kind!r}")


class Schedule:
    """The S1 tables β, ᾱ, √ᾱ, √(1 − ᾱ), t = 0…T, binary64."""

    def __init__(self, spec):
        kind = spec.get("kind")
        steps = spec.get("steps", len(spec.get("betas", [])) if kind == "custom" else None)
        if steps is None or float(steps) != int(steps) or int(steps) < 1:
            raise schedule_error("steps", f"T = {steps}; T must be at least 1")
        T = self.steps = int(steps)
        betas = betas_of(spec, T)
        alpha_bar = [1.0]
        for t in range(1, T + 1):
            beta = betas[t - 1]
            if BUG == "cosine-unclipped" and kind == "cosine":  # BUG: …nor refuses the β_T = 1 it produces
                alpha_bar.append(alpha_bar[t - 1] * (1 - beta))
                continue
            if not (math.isfinite(beta) and 0 < beta < 1):
                raise schedule_error(f"beta[{t}]", f"β_{t} = {beta} is outside (0, 1)")
            # ᾱ_t = ᾱ_{t−1}·(1 − β_t), left to right, in binary64 (S1).
            if BUG == "alpha-bar-float32":  # BUG: the cumulative product kept in float32
                following = float(np.float32(alpha_bar[t - 1]) * (np.float32(1) - np.float32(beta)))
            else:
                following = alpha_bar[t - 1] * (1 - beta)
            # S1.a: ᾱ strictly decreasing and positive; refused, never clamped.
            if not following < alpha_bar[t - 1]:
                raise schedule_error(f"beta[{t}]", f"β_{t} = {beta} leaves ᾱ unchanged in binary64")
            if not following > 0:
                raise schedule_error(f"beta[{t}]", f"ᾱ_{t} underflows to 0")
            alpha_bar.append(following)
        self.beta = np.array([0.0] + betas)
        self.alpha_bar = np.array(alpha_bar)
        if BUG == "alpha-bar-shifted":  # BUG: ᾱ_{t−1} stored at t (ᾱ_0 = 1 at both 0 and 1)
            self.alpha_bar = np.concatenate([[1.0], self.alpha_bar[:-1]])
        if BUG == "beta-for-alpha-bar":  # BUG: β_t where ᾱ_t belongs (clean entry kept)
            self.alpha_bar = np.concatenate([[1.0], self.beta[1:]])
        if BUG == "alpha-for-alpha-bar":  # BUG: α_t = 1 − β_t where ᾱ_t belongs
            self.alpha_bar = np.concatenate([[1.0], 1 - self.beta[1:]])
        if BUG == "zero-based-t":  # BUG: …and the 0-based table has no entry for t = T (NaN)
            self.beta, self.alpha_bar = np.append(self.beta, np.nan), np.append(self.alpha_bar, np.nan)
        self.sqrt_alpha_bar = np.sqrt(self.alpha_bar)
        self.sqrt_one_minus_alpha_bar = np.sqrt(1 - self.alpha_bar)
        # The working-precision copies the later sections read (binary32 rounds the binary64 tables).
        self.alpha_bar_r = self.alpha_bar.astype(REAL)
        self.sqrt_alpha_bar_r = self.sqrt_alpha_bar.astype(REAL)
        self.sqrt_one_minus_alpha_bar_r = self.sqrt_one_minus_alpha_bar.astype(REAL)

    # Tables are indexed by t itself. The two methods below are the only
    # places a timestep crosses the protocol boundary.
    def index(self, t):
        """The table index of a timestep t given in a request."""
        if BUG == "zero-based-t":  # BUG: a 0-based table (ᾱ_1 at 0) read with the 1-based t
            return t + 1
        return t

    def reported(self, t):
        """The timestep a response carries for table index t."""
        if BUG == "zero-based-t" and t > 0:  # BUG: t* reported as a 0-based index
            return t - 1
        return t


def op_schedule(request):
    table = Schedule(request["schedule"])
    timesteps = [int(t) for t in request["timesteps"]]
    for t in timesteps:
        if not 0 <= t <= table.steps:
            raise malformed("timesteps", f"timestep {t} is outside 0…{table.steps}")
    at = [table.index(t) for t in timesteps]
    rounded = (lambda values: values) if REAL is np.float64 else (lambda values: values.astype(REAL))
    return {
        "beta": rounded(table.beta[at]),
        "alphaBar": rounded(table.alpha_bar[at]),
        "sqrtAlphaBar": rounded(table.sqrt_alpha_bar[at]),
        "sqrtOneMinusAlphaBar": rounded(table.sqrt_one_minus_alpha_bar[at]),
    }


# ---------------------------------------------------------------------------
# Configuration (the domains of ADARConfiguration)
# ---------------------------------------------------------------------------
def configuration_error(field, reason):
    return ADARError("invalidConfiguration", field, f"configuration field {field}: {reason}")


def rho_of(config):
    rho = number(config.get("rho", 0.5))
    if not (math.isfinite(rho) and 0 < rho < 1):
        raise configuration_error("rho", f"ρ = {rho} must lie in (0, 1)")
    return rho


def sigma_of(config):
    sigma = number(config.get("sigma", 1.0))
    if not (math.isfinite(sigma) and sigma > 0):
        raise configuration_error("sigma", f"σ = {sigma} must be finite and > 0")
    if BUG == "missing-sigma":  # BUG: σ dropped everywhere
        return 1.0
    return sigma


def choice_of(config, field, allowed, default):
    value = config.get(field, default)
    if value not in allowed:
        raise malformed(f"configuration.{field}", f"{value!r} is not one of {', '.join(allowed)}")
    return value


# ---------------------------------------------------------------------------
# S2. Forward process: x_t = √ᾱ_t·x_0 + √(1 − ᾱ_t)·σ·ε
# ---------------------------------------------------------------------------
def forward_sample(x0, epsilon, t, table, sigma):
    signal, noise = table.sqrt_alpha_bar_r[t], table.sqrt_one_minus_alpha_bar_r[t]
    if BUG == "alpha-bar-for-sqrt":  # BUG: ᾱ_t and 1 − ᾱ_t where their square roots belong
        signal, noise = table.alpha_bar_r[t], REAL(1) - table.alpha_bar_r[t]
    return (signal * x0 + noise * (real(sigma) * epsilon)).astype(REAL)


def op_forward(request):
    table = Schedule(request["schedule"])
    t = int(request["timestep"])
    if not 0 <= t <= table.steps:
        raise malformed("timestep", f"t = {t} is outside 0…{table.steps}")
    sigma = sigma_of(request)
    x0 = vector(request["x0"], "x0")
    epsilon = vector(request["epsilon"], "epsilon", x0.size)
    return {"xt": forward_sample(x0, epsilon, table.index(t), table, sigma)}


# ---------------------------------------------------------------------------
# S3. Reference negative score, and S5's fallback candidate
# ---------------------------------------------------------------------------
def reference_negative_score(scores, policy):
    if BUG == "policy-swapped":  # BUG: max and mean exchanged
        policy = {"max": "mean", "mean": "max"}.get(policy, policy)
    if policy == "max":
        best = scores[0]
        for s in scores[1:]:
            if s > best:
                best = s
        return best
    if policy == "mean":
        total = REAL(0)
        for s in scores:
            total = REAL(total + s)
        return REAL(total / REAL(len(scores)))
    return scores[0]  # "first"


def hardest_candidate(scores):
    """The largest score, first on ties (S5)."""
    best = 0
    for m in range(1, len(scores)):
        if scores[m] > scores[best]:
            best = m
    return best


# ---------------------------------------------------------------------------
# S4. Retention probability and the transition point; S5 statuses
# ---------------------------------------------------------------------------
def normal_cdf(x):
    """Φ(x) = erfc(−x/√2)/2: no cancellation in either tail."""
    if REAL is np.float64:
        return 0.5 * math.erfc(-x / math.sqrt(2))
    return REAL(0.5) * erfc_any_precision(-x * REAL(0.70710677))


def retention(t, s0, s_neg, n, table):
    """S4.a (Lemma 2): π_t = Φ((√ᾱ_t·s_0 − s⁻)/(√(1 − ᾱ_t)·n)), π_0 = 1."""
    if t == 0:
        return REAL(1)
    return normal_cdf((table.sqrt_alpha_bar_r[t] * s0 - s_neg) / (table.sqrt_one_minus_alpha_bar_r[t] * n))


def transition_amplitude(s0, s_neg, n, rho):
    """S4.d/S4.e: a* = √ᾱ* where π crosses ρ, or None when no crossing in [0, 1).

    The S4.d root (s_0·s⁻ + z·n·R)/(s_0² + z²n²), R = √(s_0² − s⁻² + z²n²), is
    summed directly when s_0·s⁻ and z·n·R share a sign; otherwise they cancel
    and S4.e's product of roots gives the same root:
    a* = (s⁻ − z·n)(s⁻ + z·n)/(s_0·s⁻ − z·n·R).
    """
    z = real(ndtri(rho))  # Φ⁻¹(ρ), binary64, then rounded to the working precision
    if BUG == "coarse-quantile":  # BUG: a 4-digit Φ⁻¹
        z = real(float(f"{float(z):.4g}"))
    if BUG == "z-sign-flipped":  # BUG: Φ⁻¹(1 − ρ)
        z = -z
    if z == 0:  # ρ = ½: a* = s⁻/s_0 (S4.d)
        return REAL(s_neg / s0) if s_neg >= 0 else None
    zn = REAL(z * n)
    radicand = REAL((s0 - s_neg) * (s0 + s_neg) + zn * zn)  # s_0² − s⁻² factored
    if radicand < 0:
        return None
    b, c = REAL(s0 * s_neg), REAL(zn * np.sqrt(radicand))
    if BUG == "wrong-root":  # BUG: the root with the other sign of z·n·R
        c = -c
    if (b >= 0) == (c >= 0):
        a_star = REAL((b + c) / (s0 * s0 + zn * zn))
    else:
        a_star = REAL(fused_difference_of_squares(s_neg, z, n) / (b - c))
    return a_star if a_star >= 0 else None


def fused_difference_of_squares(s_neg, z, n):
    """(s⁻ − z·n)(s⁻ + z·n) with each factor rounded once, as a fused
    multiply-add would: z·n is not rounded before the cancellation (S4.e)."""
    if REAL is np.float32:
        # binary64 holds z·n for binary32 z and n exactly.
        zn = float(z) * float(n)
        return REAL(REAL(float(s_neg) - zn) * REAL(float(s_neg) + zn))
    # Exact rational arithmetic, then one rounding per factor (math.fma from Python 3.13 would do).
    zn = Fraction(float(z)) * Fraction(float(n))
    return float(Fraction(float(s_neg)) - zn) * float(Fraction(float(s_neg)) + zn)


def discrete_timestep(alpha_bar_star, table):
    """S4.f: t* = min{t ≥ 1 : ᾱ_t ≤ ᾱ*} by binary search, or None when ᾱ_T > ᾱ*."""
    alpha_bar = table.alpha_bar_r

    def reached(value):
        if BUG == "strict-tie":  # BUG: ᾱ_t < ᾱ* decides a tie the wrong way
            return value < alpha_bar_star
        return value <= alpha_bar_star

    if not reached(alpha_bar[table.steps]):
        return None
    low, high = 1, table.steps  # invariant: ᾱ_high ≤ ᾱ*
    while low < high:
        mid = (low + high) // 2
        if reached(alpha_bar[mid]):
            high = mid
        else:
            low = mid + 1
    return low


def fallback_status(s0, s_neg, n):
    """S5, precedence degenerateUser, alreadyNegative, nonPositiveScore; None on the valid domain."""
    if n == 0:
        return "degenerateUser"
    if BUG == "status-precedence" and s0 <= 0:  # BUG: nonPositiveScore before alreadyNegative
        return "nonPositiveScore"
    if s0 <= s_neg:
        return "alreadyNegative"
    if s0 <= 0:
        return "nonPositiveScore"
    return None


def transition_point(s0, s_neg, n, rho, table):
    """S4 + S5: (status, timestep, a*, π at that timestep)."""
    status = fallback_status(s0, s_neg, n)
    if status:
        return status, 0, math.nan, math.nan
    a_star = transition_amplitude(s0, s_neg, n, rho)
    alpha_bar_star = None if a_star is None else REAL(a_star * a_star)  # ᾱ* = a*²
    if BUG == "amplitude-for-alpha-bar-star" and a_star is not None:  # BUG: a* searched for, not a*²
        alpha_bar_star = a_star
    crossing = None if alpha_bar_star is None else discrete_timestep(alpha_bar_star, table)
    t = table.steps if crossing is None else crossing
    return ("saturated" if crossing is None else "transition"), t, \
        (math.nan if a_star is None else a_star), retention(t, s0, s_neg, n, table)


def check_overflow(**values):
    for field, value in values.items():
        if not np.isfinite(value):
            raise ADARError("overflow", field, f"row 0, field {field}: overflows")


def op_transition(request):
    table = Schedule(request["schedule"])
    rho, sigma = rho_of(request), sigma_of(request)
    s0 = real(finite_scalar(request["s0"], "s0"))
    s_neg = real(finite_scalar(request["sNeg"], "sNeg"))
    norm = finite_scalar(request["userNorm"], "userNorm")
    if norm < 0:
        raise configuration_error("userNorm", f"‖e_u‖ = {norm} must be ≥ 0")
    n = REAL(real(sigma) * real(norm))  # S2: n = σ·‖e_u‖
    check_overflow(noiseScale=n)
    status, t, a_star, pi = transition_point(s0, s_neg, n, rho, table)
    return {"status": status, "timestep": table.reported(t), "aStar": a_star, "retention": pi}


# ---------------------------------------------------------------------------
# S6. Synthesis of one row
# ---------------------------------------------------------------------------
def row_inputs(request, with_epsilon=True):
    """user [d], positive [d], pool [M][d] (and epsilon [d]) of one row, checked
    in the reference's order: shapes, d ≥ 1, M ≥ 1, then finiteness field by field."""
    user, positive, pool = request["user"], request["positive"], request["pool"]
    d = len(user)
    for m, candidate in enumerate(pool):
        if len(candidate) != d:
            raise ADARError("shapeMismatch", f"pool[{m}]", f"field pool[{m}]: expected {d} values, got {len(candidate)}")
    if d < 1:
        raise ADARError("shapeMismatch", "dimension", "field dimension: d must be at least 1")
    if not pool:
        raise ADARError("emptyPool", "pool", "pool: M must be at least 1 (S3)")
    user = vector(user, "user")
    positive = vector(positive, "positive", d)
    pool = [vector(candidate, f"pool[{m}]") for m, candidate in enumerate(pool)]
    epsilon = vector(request["epsilon"], "epsilon", d) if with_epsilon else None
    return user, positive, pool, epsilon


def malformed(field, reason):
    """A request the reference cannot even read (not one of its ADARError refusals)."""
    return ADARError("malformedRequest", field, f"field {field}: {reason}")


def op_synthesize(request):
    table = Schedule(request["schedule"])
    config = request.get("configuration", {})
    rho, sigma = rho_of(config), sigma_of(config)
    policy = choice_of(config, "policy", ("max", "mean", "first"), "max")
    user, positive, pool, epsilon = row_inputs(request)

    n = REAL(real(sigma) * np.sqrt(dot(user, user)))  # S2: n = σ·‖e_u‖₂
    s0 = dot(user, positive)
    scores = [dot(user, candidate) for candidate in pool]
    s_neg = reference_negative_score(scores, policy)
    if BUG == "mean-includes-positive" and policy == "mean":  # BUG: the positive's score joins the mean
        s_neg = reference_negative_score(scores + [s0], policy)
    check_overflow(noiseScale=n, positiveScore=s0, referenceNegativeScore=s_neg)
    hardest = hardest_candidate(scores)
    status, t, a_star, pi = transition_point(s0, s_neg, n, rho, table)
    if t == 0:  # S5 fallback: the hardest candidate itself, a* and π undefined
        x_neg, synthetic_score = pool[hardest], scores[hardest]
    else:  # S6: x⁻ = √ᾱ_t·x_0 + √(1 − ᾱ_t)·σ·ε
        x_neg = forward_sample(positive, epsilon, t, table, sigma)
        synthetic_score = dot(user, x_neg)
    return {
        "status": status, "timestep": table.reported(t), "aStar": a_star, "retention": pi,
        "positiveScore": s0, "referenceNegativeScore": s_neg, "syntheticScore": synthetic_score,
        "hardestCandidate": hardest, "syntheticNegative": x_neg,
    }


# ---------------------------------------------------------------------------
# S7. BPR loss with augmentation, and its gradient
# ---------------------------------------------------------------------------
def softplus(x):
    """softplus(x) = max(x, 0) + log1p(exp(−|x|)): finite for every finite x."""
    if BUG == "naive-softplus":  # BUG: −log sigmoid(−x) written as log(1 + exp(x))
        with np.errstate(over="ignore"):
            return REAL(np.log(REAL(1) + np.exp(REAL(x))))
    return REAL(max(x, REAL(0)) + np.log1p(np.exp(-abs(x))))


def logistic(x):
    """d softplus(x)/dx = 1/(1 + e^{−x}), without overflow."""
    if BUG == "margin-gradient-sign":  # BUG: the sign of ∂softplus(−m)/∂m lost
        return -logistic_value(x)
    return logistic_value(x)


def logistic_value(x):
    if x >= 0:
        return REAL(1 / (1 + np.exp(-x)))
    e = np.exp(x)
    return REAL(e / (1 + e))


FALLBACK_STATUSES = ("alreadyNegative", "nonPositiveScore", "degenerateUser")
STATUSES = ("transition", "saturated") + FALLBACK_STATUSES


def op_loss(request):
    table = Schedule(request["schedule"])
    config = request.get("configuration", {})
    fallback = choice_of(config, "fallback", ("skip", "hardest"), "skip")
    flow = choice_of(config, "gradientFlow", ("detach", "through"), "detach")
    if BUG == "fallback-swapped":  # BUG: skip and hardest exchanged
        fallback = {"skip": "hardest", "hardest": "skip"}[fallback]
    if BUG == "gradient-flow-swapped":  # BUG: detach and through exchanged
        flow = {"detach": "through", "through": "detach"}[flow]
    w = number(config.get("augmentationWeight", 1.0))
    if not (math.isfinite(w) and w >= 0):
        raise configuration_error("augmentationWeight", f"w = {w} must be finite and ≥ 0")
    l2 = number(config.get("l2", 0.0))
    if not (math.isfinite(l2) and l2 >= 0):
        raise configuration_error("l2", f"λ = {l2} must be finite and ≥ 0")
    user, positive, pool, _ = row_inputs(request, with_epsilon=False)
    d = user.size
    status = request["status"]
    if status not in STATUSES:
        raise malformed("status", f"{status!r} is not an S5 status")
    t, hardest = int(request["timestep"]), int(request["hardestCandidate"])
    if not (0 <= t <= table.steps and 0 <= hardest < len(pool)):
        raise malformed("timestep", f"timestep {t} must lie in 0…{table.steps}, hardestCandidate {hardest} in 0..<{len(pool)}")
    x_neg = vector(request["syntheticNegative"], "syntheticNegative", d)
    w, l2 = real(w), real(l2)

    # Real pair: j = j_1, the pool's first candidate.
    negative = pool[0]
    s0, s_uj = dot(user, positive), dot(user, negative)
    loss = softplus(-(s0 - s_uj))
    real_weight = logistic(-(s0 - s_uj))  # ∂softplus(−m)/∂m = −logistic(−m)
    g_user = -real_weight * (positive - negative)
    g_positive = -real_weight * user
    g_pool = np.zeros((len(pool), d), dtype=REAL)
    g_pool[0] += real_weight * user

    # Augmentation term: skipped on fallback rows unless fallback = hardest.
    is_fallback = status in FALLBACK_STATUSES
    if (not is_fallback or fallback == "hardest") and w > 0:
        margin = REAL(s0 - dot(user, x_neg))
        loss = REAL(loss + w * softplus(-margin))
        weight = REAL(w * logistic(-margin))
        g_user = g_user - weight * (positive - x_neg)
        g_positive = g_positive - weight * user
        if flow == "through":
            if is_fallback:  # x⁻ is the fallback candidate's own embedding
                g_pool[hardest] += weight * user
            else:  # ∂x⁻/∂x_0 = √ᾱ_t·I
                g_positive = g_positive + weight * table.sqrt_alpha_bar_r[table.index(t)] * user

    # λ/2·(‖e_u‖² + ‖e_i‖² + ‖e_j‖²)
    loss = REAL(loss + l2 / 2 * (dot(user, user) + dot(positive, positive) + dot(negative, negative)))
    g_user = g_user + l2 * user
    g_positive = g_positive + l2 * positive
    g_pool[0] += l2 * negative
    return {"loss": loss, "userGradient": g_user, "positiveGradient": g_positive, "poolGradient": g_pool}


# ---------------------------------------------------------------------------
# S8. Noise: Philox4x32-10 and Box–Muller
# ---------------------------------------------------------------------------
MASK32 = 0xFFFFFFFF
PHILOX_M0, PHILOX_M1 = 0xD2511F53, 0xCD9E8D57
PHILOX_W0, PHILOX_W1 = 0x9E3779B9, 0xBB67AE85


def philox(counter, key):
    """Philox4x32-10: ten rounds; round r uses key (k0 + r·W0, k1 + r·W1) mod 2³²."""
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for _ in range(10):
        p0, p1 = PHILOX_M0 * c0, PHILOX_M1 * c2  # 64-bit products (Python ints are exact)
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0, p1 & MASK32, (p0 >> 32) ^ c3 ^ k1, p0 & MASK32)
        k0, k1 = (k0 + PHILOX_W0) & MASK32, (k1 + PHILOX_W1) & MASK32
    return [c0, c1, c2, c3]


def op_philox(request):
    counter, key = [int(w) for w in request["counter"]], [int(w) for w in request["key"]]
    if len(counter) != 4 or len(key) != 2 or not all(0 <= w <= MASK32 for w in counter + key):
        raise malformed("counter", "philox needs 4 counter and 2 key words of 32 bits")
    return {"words": philox(counter, key)}


def box_muller(w0, w1):
    """Two normals from two words (S8), with this port's bugs, if any."""
    if BUG == "box-muller-uniforms-swapped":  # BUG: r from the second word, θ from the first
        w0, w1 = w1, w0
    if BUG == "unit-interval-without-half":  # BUG: u = w·2⁻³² (u = 0 possible)
        w0, w1 = w0 - 0.5, w1 - 0.5
    if BUG == "box-muller-lanes-swapped":  # BUG: (r sin θ, r cos θ)
        return box_muller_pair(w0, w1)[::-1]
    return box_muller_pair(w0, w1)


def box_muller_pair(w0, w1):
    """u = (w + ½)·2⁻³²; r = √(−2 ln u_0), θ = 2π·u_1; (r cos θ, r sin θ)."""
    if REAL is np.float64:
        r = math.sqrt(-2 * math.log((w0 + 0.5) * 2.0 ** -32))
        theta = 2 * math.pi * ((w1 + 0.5) * 2.0 ** -32)
        return r * math.cos(theta), r * math.sin(theta)
    # binary32 (S8's lower-precision option). w + ½ has 33 bits, so near u = 1
    # the float32 u rounds to 1; ln u = log1p(−v) with v = 1 − u = (~w + ½)·2⁻³²
    # formed from the integer keeps those digits.
    f32 = np.float32
    if w0 >= 0x80000000:
        log_u = np.log1p(-((f32((~w0) & MASK32) + f32(0.5)) * f32(2.0 ** -32)))
    else:
        log_u = np.log((f32(w0) + f32(0.5)) * f32(2.0 ** -32))
    r = np.sqrt(f32(-2) * log_u)
    theta = f32(2 * math.pi) * ((f32(w1) + f32(0.5)) * f32(2.0 ** -32))
    return f32(r * np.cos(theta)), f32(r * np.sin(theta))


def normals(seed, stream, row, dimension):
    """ε_k for row b: block q = k/4, lane k%4; counter (q, low32(b), high32(b), stream),
    key (low32(seed), high32(seed))."""
    key = [seed & MASK32, seed >> 32]
    if BUG == "key-halves-swapped":  # BUG: (high32, low32)
        key = key[::-1]
    out = []
    for q in range((dimension + 3) // 4):
        counter = [q, row & MASK32, row >> 32, stream]
        if BUG == "counter-row-halves-swapped":  # BUG: row halves exchanged
            counter = [q, row >> 32, row & MASK32, stream]
        if BUG == "counter-words-reversed":  # BUG: the four words in reverse order
            counter = [stream, row >> 32, row & MASK32, q]
        w = philox(counter, key)
        out.extend(box_muller(w[0], w[1]) + box_muller(w[2], w[3]))
    return out[:dimension]


def op_normals(request):
    seed, row = int(request["seed"]), int(request["row"])
    stream, dimension = int(request["stream"]), int(request["dimension"])
    if not (0 <= seed < 2 ** 64 and 0 <= row < 2 ** 64 and 0 <= stream <= MASK32 and dimension >= 1):
        raise malformed("dimension", "seed, row: unsigned 64-bit; stream: 32-bit; dimension ≥ 1")
    return {"epsilon": normals(seed, stream, row, dimension)}


# ---------------------------------------------------------------------------
# S9. The noise-prediction network τ:  ε̂ = W₂·SiLU(W₁·v + b₁) + b₂,
# v = [x_t ; PE(t) ; e_u]; W₁ [4d][3d], W₂ [d][4d], row-major [out][in].
# ---------------------------------------------------------------------------
TAU_MAX_DIMENSION = 37837  # 3d² ≤ 2³²: the init counter word ⌊k/4⌋, k < 12d², fits 32 bits
TAU_INIT_STREAM = 0xFFFFFFFE  # 2³² − 2


def timestep_at_least_zero(request):
    t = int(request["timestep"])
    if t < 0:
        raise configuration_error("timestep", f"t = {t} must be ≥ 0")
    return t


def positional_encoding(t, d):
    """PE(t)_k = sin(t·exp(−(k − k mod 2)/d·ln 10⁴)) for even k, cos(…) for odd k,
    real division, computed in binary64 and rounded once (S9)."""
    k = np.arange(d)
    exponent = k - k % 2
    if BUG == "pe-exponent-k":  # BUG: k instead of k − k mod 2
        exponent = k
    if BUG == "pe-integer-division":  # BUG: (k − k mod 2)//d is 0 for every k < d
        fraction = exponent // d
    else:
        fraction = exponent / d
    angle = t * np.exp(-fraction * math.log(10000.0))
    even, odd = np.sin(angle), np.cos(angle)
    if BUG == "pe-sin-cos-swapped":  # BUG: cos for even k, sin for odd k
        even, odd = odd, even
    return np.where(k % 2 == 0, even, odd).astype(REAL)


def op_pe(request):
    t, d = timestep_at_least_zero(request), int(request["dimension"])
    if d < 1:
        raise ADARError("shapeMismatch", "dimension", "field dimension: d must be at least 1")
    return {"encoding": positional_encoding(t, d)}


def xavier_layer(layer, rows, columns, key):
    """W_ℓ[r][c] = bound·(2u − 1), bound = √(6/(fan_in + fan_out)), u = (w + ½)·2⁻³²,
    w lane k mod 4 of Philox on counter (⌊k/4⌋, ℓ, 0, 2³² − 2), k = r·fan_in + c (S9)."""
    bound = math.sqrt(6 / (rows + columns))
    count = rows * columns
    weights = np.empty(count)
    for q in range((count + 3) // 4):
        block = philox([q, layer, 0, TAU_INIT_STREAM], key)
        for lane in range(min(4, count - 4 * q)):
            weights[4 * q + lane] = bound * (2 * ((block[lane] + 0.5) * 2.0 ** -32) - 1)
    return weights.reshape(rows, columns).astype(REAL)


def op_tau_init(request):
    seed, d = int(request["seed"]), int(request["dimension"])
    if d < 1:
        raise ADARError("shapeMismatch", "dimension", "field dimension: d must be at least 1")
    if d > TAU_MAX_DIMENSION:
        raise configuration_error("dimension", f"d = {d}: the initialisation counter needs d ≤ {TAU_MAX_DIMENSION}")
    key = [seed & MASK32, seed >> 32]
    return {"w1": xavier_layer(1, 4 * d, 3 * d, key), "b1": np.zeros(4 * d, dtype=REAL),
            "w2": xavier_layer(2, d, 4 * d, key), "b2": np.zeros(d, dtype=REAL)}


def weight_matrix(rows, field, row_count, column_count):
    """A finite [row_count][column_count] matrix, checked as the reference does:
    each row's length, then the number of rows, then finiteness."""
    for r, row in enumerate(rows):
        if len(row) != column_count:
            raise ADARError("shapeMismatch", f"{field}[{r}]", f"field {field}[{r}]: expected {column_count} values, got {len(row)}")
    if len(rows) != row_count:
        raise ADARError("shapeMismatch", field, f"field {field}: expected {row_count} rows, got {len(rows)}")
    return vector([x for row in rows for x in row], field).reshape(row_count, column_count)


def tau_parameters(request, d):
    return (weight_matrix(request["w1"], "w1", 4 * d, 3 * d), vector(request["b1"], "b1", 4 * d),
            weight_matrix(request["w2"], "w2", d, 4 * d), vector(request["b2"], "b2", d))


def nonempty_vector(values, field):
    if len(values) < 1:
        raise ADARError("shapeMismatch", field, f"field {field}: d must be at least 1")
    return vector(values, field)


def silu(z):
    """SiLU(z) = z·σ(z) = z/(1 + e^{−z}); for z ≪ 0, e^{−z} = ∞ and the quotient is −0."""
    with np.errstate(over="ignore"):
        return (z / (REAL(1) + np.exp(-z))).astype(REAL)


def tau_activations(parameters, xt, t, user):
    """τ's forward pass with its intermediates: v, z = W₁·v + b₁, h = SiLU(z), ε̂ = W₂·h + b₂ (S9)."""
    w1, b1, w2, b2 = parameters
    v = np.concatenate([xt, positional_encoding(t, xt.size), user])
    if BUG == "concatenation-swapped":  # BUG: [e_u ; PE(t) ; x_t]
        v = np.concatenate([user, positional_encoding(t, xt.size), xt])
    z = (w1 @ v + b1).astype(REAL)
    hidden = silu(z)
    return v, z, hidden, (w2 @ hidden + b2).astype(REAL)


def tau_forward(parameters, xt, t, user):
    return tau_activations(parameters, xt, t, user)[3]


def op_tau_forward(request):
    xt = nonempty_vector(request["xt"], "xt")
    user = vector(request["user"], "user", xt.size)
    t = timestep_at_least_zero(request)
    return {"epsilonHat": tau_forward(tau_parameters(request, xt.size), xt, t, user)}


def op_denoise(request):
    """One row of S9's denoised generator at t (no r_max guard): x_t (S2), ε̂ = τ(x_t, PE(t), e_u),
    r_t = √((1 − ᾱ_t)/ᾱ_t) in binary64 rounded once, x̂_0 = x_0 + σ·r_t·(ε − ε̂) formed as written."""
    table = Schedule(request["schedule"])
    sigma = sigma_of(request)
    x0 = nonempty_vector(request["x0"], "x0")
    epsilon = vector(request["epsilon"], "epsilon", x0.size)
    user = vector(request["user"], "user", x0.size)
    t = int(request["timestep"])
    if not 0 <= t <= table.steps:
        raise ADARError("indexOutOfRange", "timestep", f"t = {t} is outside 0…{table.steps}")
    parameters = tau_parameters(request, x0.size)
    xt = forward_sample(x0, epsilon, table.index(t), table, sigma)
    epsilon_hat = tau_forward(parameters, xt, t, user)
    alpha_bar = table.alpha_bar[table.index(t)]
    ratio = math.sqrt((1 - alpha_bar) / alpha_bar)
    if BUG == "ratio-alpha-bar":  # BUG: ᾱ_t where √ᾱ_t belongs
        ratio = math.sqrt(1 - alpha_bar) / alpha_bar
    scale = REAL(real(sigma) * real(ratio))
    if BUG == "reconstruction-missing-sigma":  # BUG: σ left out of x̂_0
        scale = real(ratio)
    reconstruction = (x0 + scale * (epsilon - epsilon_hat)).astype(REAL)
    return {"epsilonHat": epsilon_hat, "reconstruction": reconstruction, "ratio": real(ratio)}


def op_synthesize_denoised(request):
    """S6 with S9's denoised generator: on transition and saturated rows with
    r_t ≤ r_max, x⁻ = x̂_0 = x_0 + σ·r_t·(ε − ε̂); with r_t > r_max, x⁻ = x_t
    (the guard, decided in binary64); fallback rows unchanged."""
    row = op_synthesize(request)
    d = len(request["user"])
    parameters = tau_parameters(request, d)
    r_max = number(request["rMax"])
    if not (math.isfinite(r_max) and r_max >= 0):
        raise configuration_error("rMax", f"r_max = {r_max} must be finite and ≥ 0")
    t = row["timestep"]
    if row["status"] in FALLBACK_STATUSES:
        return {**row, "negativeGenerator": "fallback"}
    table = Schedule(request["schedule"])
    alpha_bar = table.alpha_bar[table.index(t)]
    ratio = math.sqrt((1 - alpha_bar) / alpha_bar)
    if ratio > r_max:
        return {**row, "negativeGenerator": "forward"}
    sigma = sigma_of(request["configuration"])
    user = vector(request["user"], "user")
    x0 = vector(request["positive"], "positive", d)
    epsilon = vector(request["epsilon"], "epsilon", d)
    epsilon_hat = tau_forward(parameters, row["syntheticNegative"], t, user)
    x_neg = (x0 + REAL(real(sigma) * real(ratio)) * (epsilon - epsilon_hat)).astype(REAL)
    return {**row, "syntheticNegative": x_neg, "syntheticScore": dot(user, x_neg), "negativeGenerator": "denoised"}


# ---------------------------------------------------------------------------
# S9. Training τ: per batch, one Adam step (β₁ 0.9, β₂ 0.999, ε 1e-8,
# bias-corrected, no weight decay) on the mean over the rows of
# L_τ = ‖ε′ − τ(x_t′, PE(t′), e_u)‖²/d, x_t′ = √ᾱ_t′·x_0 + √(1 − ᾱ_t′)·σ·ε′.
# ---------------------------------------------------------------------------
def row_matrix(values, field, columns, rows=None):
    """A finite [rows][columns] matrix; errors name the row as the reference does."""
    for r, row in enumerate(values):
        if len(row) != columns:
            raise ADARError("shapeMismatch", f"{field}[{r}]", f"field {field}[{r}]: expected {columns} values, got {len(row)}")
    if rows is not None and len(values) != rows:
        raise ADARError("shapeMismatch", field, f"field {field}: expected {rows} rows, got {len(values)}")
    a = np.asarray([[number(x) for x in row] for row in values], dtype=np.float64).reshape(len(values), columns)
    bad = np.argwhere(~np.isfinite(a))
    if bad.size:
        raise ADARError("nonFinite", field, f"row {bad[0][0]}, field {field}[{bad[0][1]}]: value is not finite (S5)")
    return a.astype(REAL)


def adam_moment(request, name, d):
    """An Adam moment {w1, b1, w2, b2} in τ's shapes; errors name `<name>.<field>`."""
    try:
        return tau_parameters(request[name], d)
    except ADARError as error:
        raise ADARError(error.kind, f"{name}.{error.field}", error.message)


def tau_loss_gradient(parameters, x0, user, target, t, table, sigma):
    """One row's L_τ and its gradient (dW₁, db₁, dW₂, db₂) by backpropagation (S9)."""
    w1, b1, w2, b2 = parameters
    xt = forward_sample(x0, target, table.index(t), table, sigma)
    v, z, hidden, epsilon_hat = tau_activations(parameters, xt, t, user)
    d = x0.size
    residual = (epsilon_hat - target).astype(REAL)
    d_out = (REAL(2) * residual / REAL(d)).astype(REAL)
    with np.errstate(over="ignore"):
        s = (REAL(1) / (REAL(1) + np.exp(-z))).astype(REAL)
    d_pre = ((w2.T @ d_out) * s * (REAL(1) + z * (REAL(1) - s))).astype(REAL)
    loss = REAL(np.sum(residual * residual) / REAL(d))
    return loss, [np.outer(d_pre, v).astype(REAL), d_pre, np.outer(d_out, hidden).astype(REAL), d_out]


def adam_step(theta, m, v, g, step, lr):
    """m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², θ ← θ − lr·m̂/(√v̂ + ε),
    m̂ = m/(1 − β₁ˢ), v̂ = v/(1 − β₂ˢ) with s the step count after increment (S9)."""
    beta1, beta2, epsilon = REAL(0.9), REAL(0.999), REAL(1e-8)
    correction1, correction2 = REAL(1 / (1 - 0.9 ** step)), REAL(1 / (1 - 0.999 ** step))  # binary64, rounded once
    if BUG == "adam-no-bias-correction":  # BUG: m and v used as they are
        correction1 = correction2 = REAL(1)
    m_new = (beta1 * m + (REAL(1) - beta1) * g).astype(REAL)
    v_new = (beta2 * v + (REAL(1) - beta2) * (g * g)).astype(REAL)
    m_step, v_step = m_new, v_new
    if BUG == "adam-moments-after-step":  # BUG: θ steps with the moments of the previous step
        m_step, v_step = m, v
    root = np.sqrt(v_step * correction2) + epsilon
    if BUG == "adam-epsilon-inside-root":  # BUG: √(v̂ + ε)
        root = np.sqrt(v_step * correction2 + epsilon)
    if BUG == "adam-weight-decay":  # BUG: AdamW's default decay, θ ← θ(1 − lr·0.01)
        theta = (theta - lr * REAL(0.01) * theta).astype(REAL)
    return (theta - lr * (m_step * correction1) / root).astype(REAL), m_new, v_new


def op_tau_step(request):
    """S9 step (2) on given rows: x_t′, the batch mean of L_τ and its gradient (rows in order),
    then one Adam step at step count `step` from the given moments. Returns the loss before the step."""
    table = Schedule(request["schedule"])
    sigma = sigma_of(request)
    positives = request["positives"]
    if len(positives) < 1:
        raise ADARError("shapeMismatch", "positives", "field positives: at least one row")
    d = len(positives[0])
    if d < 1:
        raise ADARError("shapeMismatch", "positives[0]", "field positives[0]: d must be at least 1")
    x0s = row_matrix(positives, "positives", d)
    rows = x0s.shape[0]
    users = row_matrix(request["users"], "users", d, rows)
    targets = row_matrix(request["targetNoise"], "targetNoise", d, rows)
    timesteps = [int(t) for t in request["timesteps"]]
    if len(timesteps) != rows:
        raise ADARError("shapeMismatch", "timesteps", f"field timesteps: expected {rows} values, got {len(timesteps)}")
    for b, t in enumerate(timesteps):
        if not 1 <= t <= table.steps:
            raise configuration_error("timesteps", f"row {b}: t′ = {t} is outside 1…T = {table.steps}")
    parameters = tau_parameters(request, d)
    first, second = adam_moment(request, "firstMoment", d), adam_moment(request, "secondMoment", d)
    for name, values in zip(["w1", "b1", "w2", "b2"], second):
        if np.any(values < 0):
            raise configuration_error(f"secondMoment.{name}", "Adam's v is a running mean of squares: ≥ 0")
    step = int(request["step"])
    if step < 1:
        raise configuration_error("step", f"s = {step}: the step count after increment is ≥ 1")
    lr = number(request["learningRate"])
    if not (math.isfinite(lr) and lr > 0):
        raise configuration_error("learningRate", f"lr_τ = {lr} must be finite and > 0")
    loss, gradient = REAL(0), [np.zeros_like(p) for p in parameters]
    for b in range(rows):
        row_loss, row_gradient = tau_loss_gradient(parameters, x0s[b], users[b], targets[b], timesteps[b], table, sigma)
        loss = REAL(loss + row_loss)
        gradient = [(total + g).astype(REAL) for total, g in zip(gradient, row_gradient)]
    stepped = [adam_step(theta, m, v, (g / REAL(rows)).astype(REAL), step, REAL(lr))
               for theta, m, v, g in zip(parameters, first, second, gradient)]
    names = ["w1", "b1", "w2", "b2"]
    return {"loss": REAL(loss / REAL(rows)), **{name: theta for name, (theta, _, _) in zip(names, stepped)},
            "firstMoment": {name: m for name, (_, m, _) in zip(names, stepped)},
            "secondMoment": {name: v for name, (_, _, v) in zip(names, stepped)}}


# ---------------------------------------------------------------------------
# The protocol (docs/PORTING.md section 3)
# ---------------------------------------------------------------------------
HANDLERS = {
    "schedule": op_schedule, "forward": op_forward, "transition": op_transition,
    "synthesize": op_synthesize, "philox": op_philox, "normals": op_normals, "loss": op_loss,
    "pe": op_pe, "tauInit": op_tau_init, "tauForward": op_tau_forward, "denoise": op_denoise,
    "synthesizeDenoised": op_synthesize_denoised, "tauStep": op_tau_step,
}


def plain(value):
    """Numpy values as JSON-ready Python values; NaN and ±∞ become null."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (bool, str, int)) or value is None:
        return value
    if isinstance(value, np.integer):
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


def answer(request):
    """One response object for one request object."""
    if request.get("op") == "hello":
        return {"name": "python-numpy" + (f" ({BUG})" if BUG else ""), "precision": PRECISION,
                "operations": OPERATIONS}
    response = {"id": request.get("id")}
    handler = HANDLERS.get(request.get("op"))
    try:
        if handler is None:
            raise malformed("op", f"unknown op {request.get('op')!r}")
        with np.errstate(over="ignore", invalid="ignore"):
            response["output"] = plain(handler(request.get("input", {})))
    except ADARError as error:
        response["error"] = {"kind": error.kind, "field": error.field, "message": error.message}
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        # A malformed request, not an ADAR refusal: say so rather than pretend to be one.
        response["error"] = {"kind": "malformedRequest", "field": str(error), "message": repr(error)}
    return response


def serve(stdin, stdout):
    for line in stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError as error:
            request, response = None, {"id": None, "error": {"kind": "malformedRequest", "field": "",
                                                             "message": str(error)}}
        if request is not None:
            response = answer(request)
        stdout.write(json.dumps(response, ensure_ascii=False, allow_nan=False) + "\n")
        stdout.flush()  # one line per request, flushed: the runner waits for it


def write_results(fixtures, path):
    """Answers every test of every group of this port's precision, one response
    line each (`adar conform --results FILE`)."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps(answer({"op": "hello"}), ensure_ascii=False) + "\n")  # declares the precision
        for name in sorted(os.listdir(fixtures)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(fixtures, name), encoding="utf-8") as f:
                document = json.load(f)
            for group in document.get("testGroups", []):
                if group.get("precision", PRECISION) != PRECISION:
                    continue
                for test in group["tests"]:
                    op = test.get("op") or test.get("operation") or group.get("operation") \
                        or document.get("operation")
                    request = {"id": f"{name}#{test['tcId']}", "op": op, "input": test["input"]}
                    out.write(json.dumps(answer(request), ensure_ascii=False, allow_nan=False) + "\n")


def main(argv):
    if "--fixtures" in argv or "--write-results" in argv:
        try:
            fixtures = argv[argv.index("--fixtures") + 1]
            results = argv[argv.index("--write-results") + 1]
        except (ValueError, IndexError):
            sys.exit("usage: adar_port.py [--fixtures DIR --write-results FILE]")
        write_results(fixtures, results)
    else:
        serve(sys.stdin, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
