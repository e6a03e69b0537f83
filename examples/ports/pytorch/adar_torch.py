"""ADAR (arXiv 2601.01448) for PyTorch users, following ADAR-SPEC.md S1–S9.

A functional API on batched tensors plus thin ``nn.Module`` wrappers. Every
function works on any device; the working precision is the dtype of the
embeddings (float32 or float64). The S1 tables are built in binary64 (S1 is
normative about that) and rounded to the working precision where they are read.

    import torch, adar_torch as adar

    abar = adar.alpha_bar("cosine", 1000)                         # ᾱ_0 … ᾱ_T, float64
    result = adar.synthesize(e_u, e_pos, e_pool, abar, rho=0.5, sigma=0.1,
                             noise="philox", seed=7, stream=epoch, rows=row_ids)
    loss = adar.adar_loss(e_u, e_pos, e_pool[:, 0], result, w=1.0, l2=1e-4)
    loss.backward()                                               # S7's gradient, by autograd

Shapes: ``e_u``, ``e_pos`` [B, d]; ``e_pool`` [B, M, d]; the sampled negative
of S7 is the pool's first candidate, ``e_pool[:, 0]``. Timesteps are 1-based
(S1): ``alpha_bar[t]`` is ᾱ_t and ``alpha_bar[0] = 1``.

Noise (S8): ``noise="philox"`` draws ε as a pure function of
(seed, stream, row, k) — Philox4x32-10 in torch integer ops and Box–Muller —
so the negatives match every other conforming implementation bit for bit in
the words and to rounding in the normals. ``noise="randn"`` uses
``torch.randn`` (faster; no cross-implementation reproducibility); a tensor
[B, d] is used as ε itself.

Errors: invalid input raises ``ADARError`` with ``kind`` (the reference's
error case: nonFinite, overflow, shapeMismatch, invalidSchedule,
invalidConfiguration, indexOutOfRange, emptyPool), ``field`` and a message
naming the row where one applies. Nothing is returned partially.
"""

import math
from typing import NamedTuple, Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "ADARError", "STATUS_NAMES", "TRANSITION", "SATURATED", "ALREADY_NEGATIVE", "NON_POSITIVE_SCORE",
    "DEGENERATE_USER", "GENERATOR_NAMES", "betas", "alpha_bar", "forward_sample", "transition",
    "synthesize", "synthesize_denoised", "attach_result", "adar_loss", "softplus", "philox4x32",
    "philox_normals", "positional_encoding", "tau_init", "tau_forward", "denoise", "tau_training_draws",
    "tau_loss", "tau_adam", "tau_step", "SynthesisResult", "DenoisedSynthesisResult", "TauNetwork", "ADARSampler",
]


class ADARError(ValueError):
    """A refused input (S1, S5, S9). ``kind`` is the reference's ADARError case."""

    def __init__(self, kind: str, field: str, message: str):
        super().__init__(message)
        self.kind, self.field, self.message = kind, field, message


# S5 statuses, as small integer codes in ``SynthesisResult.status``.
STATUS_NAMES = ("transition", "saturated", "alreadyNegative", "nonPositiveScore", "degenerateUser")
TRANSITION, SATURATED, ALREADY_NEGATIVE, NON_POSITIVE_SCORE, DEGENERATE_USER = range(5)
# S9: what x⁻ is on a row of synthesize_denoised (the r_max guard falls back to forward).
GENERATOR_NAMES = ("fallback", "forward", "denoised")
GENERATOR_FALLBACK, GENERATOR_FORWARD, GENERATOR_DENOISED = range(3)


class SynthesisResult(NamedTuple):
    """One synthesis batch (S6). ``status``: codes into STATUS_NAMES; ``t``: the
    S5 timestep (0 on fallback rows); ``a_star`` and ``pi`` NaN where S6 leaves
    them undefined; ``fallback_index``: the hardest pool candidate (first on ties)."""
    x_neg: Tensor
    status: Tensor
    t: Tensor
    a_star: Tensor
    pi: Tensor
    fallback_index: Tensor


# S9's denoised synthesis: SynthesisResult's fields, then the generator of each
# row's x⁻ (codes into GENERATOR_NAMES).
DenoisedSynthesisResult = NamedTuple(
    "DenoisedSynthesisResult", [*SynthesisResult.__annotations__.items(), ("negative_generator", Tensor)])


# ---------------------------------------------------------------------------
# S1. Noise schedules, binary64, indexed by the 1-based t (index 0: the clean sample)
# ---------------------------------------------------------------------------
def _schedule_error(parameter: str, reason: str) -> ADARError:
    return ADARError("invalidSchedule", parameter, f"schedule parameter {parameter}: {reason} (S1)")


def _linspace(a: float, b: float, T: int) -> Tensor:
    """linspace(a, b, T)_t = a + (t − 1)(b − a)/(T − 1) for t = 1…T, and a for T = 1 (S1)."""
    t = torch.arange(1, T + 1, dtype=torch.float64, device="cpu")
    return torch.full((T,), a, dtype=torch.float64, device="cpu") if T == 1 else a + (t - 1) * (b - a) / (T - 1)


def _required(params: dict, name: str) -> float:
    if name not in params:
        raise _schedule_error(name, f"{name} is missing")
    value = params[name]
    return math.nan if value is None else float(value)


def _check_ordered(start: float, end: float) -> None:
    if not (math.isfinite(start) and math.isfinite(end)):
        raise _schedule_error("start/end", f"start = {start}, end = {end} must be finite")
    if start > end:
        raise _schedule_error("start", f"start = {start} > end = {end}")


def _check_max_beta(max_beta: float) -> None:
    if not (math.isfinite(max_beta) and 0 < max_beta < 1):
        raise _schedule_error("max_beta", f"max_beta = {max_beta} is outside (0, 1)")


def _raw_betas(schedule: str, T: int, params: dict) -> Tensor:
    """β_1 … β_T of one S1 family, before the range checks."""
    if schedule == "linear":
        start, end = _required(params, "start"), _required(params, "end")
        _check_ordered(start, end)
        return _linspace(start, end, T)
    if schedule == "ddpm-linear":  # improved-diffusion's linear: endpoints ·1000/T
        return _linspace(1e-4 * 1000 / T, 0.02 * 1000 / T, T)
    if schedule == "scaled-linear":
        start, end = _required(params, "start"), _required(params, "end")
        _check_ordered(start, end)
        if start < 0:
            raise _schedule_error("start", f"start = {start} must be ≥ 0 to take its square root")
        return _linspace(math.sqrt(start), math.sqrt(end), T) ** 2
    if schedule == "cosine":
        s = float(params.get("s", 0.008))
        max_beta = float(params.get("max_beta", 0.999))
        if not (math.isfinite(s) and s >= 0):
            raise _schedule_error("s", f"s = {s} must be finite and ≥ 0")
        _check_max_beta(max_beta)
        t = torch.arange(0, T + 1, dtype=torch.float64, device="cpu")
        f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2  # f(τ) = cos²(((τ + s)/(1 + s))·π/2)
        return torch.clamp(1 - f[1:] / f[:-1], max=max_beta)
    if schedule == "linear-variance":  # DiffRec's linear-var
        scale, low, high = _required(params, "scale"), _required(params, "min"), _required(params, "max")
        max_beta = float(params.get("max_beta", 0.999))
        if not (math.isfinite(scale) and scale > 0):
            raise _schedule_error("scale", f"scale = {scale} must be finite and > 0")
        if not math.isfinite(low):
            raise _schedule_error("min", f"min = {low} must be finite")
        if not (math.isfinite(high) and high > low):
            raise _schedule_error("max", f"max = {high} must be finite and > min = {low}")
        _check_max_beta(max_beta)
        v = _linspace(scale * low, scale * high, T)
        return torch.cat([v[:1], torch.clamp(1 - (1 - v[1:]) / (1 - v[:-1]), max=max_beta)])
    if schedule == "custom":
        given = params.get("betas")
        given = [] if given is None else given
        values = torch.as_tensor([math.nan if b is None else float(b) for b in given], dtype=torch.float64, device="cpu")
        if values.numel() != T:
            raise ADARError("shapeMismatch", "betas", f"field betas: expected {T} values, got {values.numel()}")
        return values
    raise _schedule_error("schedule", f"unknown schedule {schedule!r}; one of linear, ddpm-linear, "
                                      "scaled-linear, cosine, linear-variance, custom")


def _tables(schedule: str, T: int, params: dict) -> "tuple[Tensor, Tensor]":
    """(β, ᾱ), t = 0…T, binary64, refusing what S1 refuses (never clamping). Always on
    the CPU, whatever the default device: torch.cumprod there is S1's left-to-right
    product, where a GPU's parallel scan would round differently."""
    if isinstance(T, bool) or not isinstance(T, int) or T < 1:
        raise _schedule_error("steps", f"T = {T}; T must be an integer ≥ 1")
    beta = _raw_betas(schedule, T, params)
    # ᾱ_t = ᾱ_{t−1}·(1 − β_t), left to right in binary64: torch.cumprod on the CPU is that product.
    alpha_bar_table = torch.cat([torch.ones(1, dtype=torch.float64, device="cpu"), torch.cumprod(1 - beta, 0)])
    out_of_range = ~((beta > 0) & (beta < 1))  # NaN included
    unchanged = ~(alpha_bar_table[1:] < alpha_bar_table[:-1])  # S1.a: strictly decreasing
    underflow = ~(alpha_bar_table[1:] > 0)
    bad = out_of_range | unchanged | underflow
    if bool(bad.any()):
        t = int(bad.nonzero()[0]) + 1
        b = float(beta[t - 1])
        if bool(out_of_range[t - 1]):
            raise _schedule_error(f"beta[{t}]", f"β_{t} = {b} is outside (0, 1)")
        if bool(unchanged[t - 1]):
            raise _schedule_error(f"beta[{t}]", f"β_{t} = {b} leaves ᾱ unchanged in binary64")
        raise _schedule_error(f"beta[{t}]", f"ᾱ_{t} underflows to 0")
    return torch.cat([torch.zeros(1, dtype=torch.float64, device="cpu"), beta]), alpha_bar_table


def betas(schedule: str, T: int, *, device=None, **params) -> Tensor:
    """β_0 … β_T (β_0 = 0), binary64. Parameters as in S1: ``start``, ``end``
    (linear, scaled-linear), ``s``, ``max_beta`` (cosine), ``scale``, ``min``,
    ``max``, ``max_beta`` (linear-variance), ``betas`` (custom)."""
    return _tables(schedule, T, params)[0].to(device)


def alpha_bar(schedule: str, T: int, *, dtype=torch.float64, device=None, **params) -> Tensor:
    """ᾱ_0 … ᾱ_T (S1), accumulated in binary64 and rounded once to ``dtype``.

    Keep the default float64 and pass it to synthesize: the square roots and
    r_t are then taken in binary64 and rounded once, as S1 and S9 require,
    whatever the embeddings' precision. Parameters: see ``betas``."""
    return _tables(schedule, T, params)[1].to(device=device, dtype=dtype)


class _Tables(NamedTuple):
    """The S1/S9 tables read at the working precision (rounded from binary64)."""
    alpha_bar64: Tensor
    alpha_bar: Tensor
    sqrt_alpha_bar: Tensor
    sqrt_one_minus_alpha_bar: Tensor


def _working_tables(alpha_bar_table: Tensor, dtype, device) -> _Tables:
    if alpha_bar_table.dim() != 1 or alpha_bar_table.numel() < 2:
        raise ADARError("shapeMismatch", "alpha_bar", "alpha_bar: expected the table ᾱ_0 … ᾱ_T (T ≥ 1)")
    ab = alpha_bar_table.to(device=device, dtype=torch.float64)
    return _Tables(ab, ab.to(dtype), torch.sqrt(ab).to(dtype), torch.sqrt(1 - ab).to(dtype))


# ---------------------------------------------------------------------------
# Input checks (S5: a NaN or ±∞ anywhere refuses the whole call, naming row and field)
# ---------------------------------------------------------------------------
@torch.no_grad()
def _check_finite(x: Tensor, field: str) -> None:
    """Refuses a NaN or ±∞ in ``x`` [B, …]; on a pool [B, M, d] the field names the candidate."""
    # A sum is finite only if every term is (NaN and ±∞ propagate): one cheap pass clears
    # the usual case, and the elementwise scan (several times slower) runs only to name
    # the culprit, or when finite values overflow the sum.
    if bool(torch.isfinite(x.sum())):
        return
    bad = ~torch.isfinite(x)
    if bool(bad.any()):
        where = bad.nonzero()[0].tolist()
        if x.dim() == 3:
            field = f"{field}[{where[1]}]"
        raise ADARError("nonFinite", field, f"row {where[0]}, field {field}, component {where[-1]}: "
                                            "value is not finite (S5)")


def _configuration_error(field: str, reason: str) -> ADARError:
    return ADARError("invalidConfiguration", field, f"configuration field {field}: {reason}")


def _check_rho(rho: float) -> float:
    rho = math.nan if rho is None else float(rho)
    if not (math.isfinite(rho) and 0 < rho < 1):
        raise _configuration_error("rho", f"ρ = {rho} must lie in (0, 1)")
    return rho


def _check_sigma(sigma: float) -> float:
    sigma = math.nan if sigma is None else float(sigma)
    if not (math.isfinite(sigma) and sigma > 0):
        raise _configuration_error("sigma", f"σ = {sigma} must be finite and > 0")
    return sigma


def _check_choice(value: str, field: str, allowed) -> str:
    if value not in allowed:
        raise _configuration_error(field, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _check_row_shapes(e_u: Tensor, e_pos: Tensor, e_pool: Tensor) -> None:
    if e_u.dim() != 2:
        raise ADARError("shapeMismatch", "user", f"e_u: expected [B, d], got {list(e_u.shape)}")
    B, d = e_u.shape
    if e_pool.dim() != 3 or e_pool.shape[0] != B or e_pool.shape[2] != d:
        raise ADARError("shapeMismatch", "pool", f"e_pool: expected [{B}, M, {d}], got {list(e_pool.shape)}")
    if d < 1:
        raise ADARError("shapeMismatch", "dimension", "d must be at least 1")
    if e_pool.shape[1] < 1:
        raise ADARError("emptyPool", "pool", "pool: M must be at least 1 (S3)")
    if tuple(e_pos.shape) != (B, d):
        raise ADARError("shapeMismatch", "positive", f"e_pos: expected [{B}, {d}], got {list(e_pos.shape)}")


def _dot(a: Tensor, b: Tensor) -> Tensor:
    """⟨a, b⟩ over the last axis. One reduction for every score, so that
    identical vectors give identical scores and S5's exact ties hold."""
    return (a * b).sum(-1)


# ---------------------------------------------------------------------------
# S2. Forward process
# ---------------------------------------------------------------------------
def forward_sample(x0: Tensor, epsilon: Tensor, t: Tensor, alpha_bar_table: Tensor, sigma: float = 1.0) -> Tensor:
    """x_t = √ᾱ_t·x_0 + √(1 − ᾱ_t)·σ·ε per row (S2); ``t`` [B] int64 in 0…T."""
    sigma = _check_sigma(sigma)
    tables = _working_tables(alpha_bar_table, x0.dtype, x0.device)
    return _forward(x0, epsilon, t, tables, sigma)


def _forward(x0: Tensor, epsilon: Tensor, t: Tensor, tables: _Tables, sigma: float) -> Tensor:
    signal = tables.sqrt_alpha_bar[t].unsqueeze(-1)
    noise = tables.sqrt_one_minus_alpha_bar[t].unsqueeze(-1)
    return signal * x0 + noise * (sigma * epsilon)


# ---------------------------------------------------------------------------
# S4 + S5. Retention, the transition point, statuses
# ---------------------------------------------------------------------------
def _normal_cdf(x: Tensor) -> Tensor:
    """Φ(x) = erfc(−x/√2)/2: no cancellation in either tail."""
    return 0.5 * torch.special.erfc(-x * (1 / math.sqrt(2)))


def _two_product(a: Tensor, b: Tensor) -> "tuple[Tensor, Tensor]":
    """a·b = p + e exactly, binary64 (Dekker, Veltkamp's split): what an FMA gives."""
    def split(x):
        c = 134217729.0 * x  # 2²⁷ + 1
        high = c - (c - x)
        return high, x - high
    p = a * b
    (ah, al), (bh, bl) = split(a), split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _difference_of_squares(s_neg: Tensor, z: float, n: Tensor) -> Tensor:
    """(s⁻ − z·n)(s⁻ + z·n) with z·n not rounded before the cancellation (S4.e)."""
    if s_neg.dtype == torch.float32:  # binary64 holds z·n of binary32 z and n exactly
        zn = float(z) * n.double()
        s = s_neg.double()
        return (s - zn).float() * (s + zn).float()
    zn, zn_error = _two_product(torch.full_like(n, z), n)

    def sum_with(x, y, y_error):  # x + (y + y_error), rounded about once (TwoSum)
        total = x + y
        virtual = total - x
        return total + (((x - (total - virtual)) + (y - virtual)) + y_error)
    return sum_with(s_neg, -zn, -zn_error) * sum_with(s_neg, zn, zn_error)


def _transition_amplitude(s0: Tensor, s_neg: Tensor, n: Tensor, rho: float) -> Tensor:
    """S4.d/S4.e: a* = √ᾱ* of the crossing π = ρ, NaN where there is none in [0, 1)."""
    dtype = s0.dtype
    z = float(torch.special.ndtri(torch.tensor(rho, dtype=torch.float64)).to(dtype))
    nan = torch.full_like(s0, math.nan)
    if z == 0:  # ρ = ½: a* = s⁻/s_0
        return torch.where(s_neg >= 0, s_neg / s0, nan)
    zn = z * n
    radicand = (s0 - s_neg) * (s0 + s_neg) + zn * zn  # s_0² − s⁻² factored
    b = s0 * s_neg
    c = zn * torch.sqrt(torch.clamp(radicand, min=0))
    direct = (b + c) / (s0 * s0 + zn * zn)
    # Where s_0·s⁻ and z·n·R differ in sign the direct sum cancels: the product of roots (S4.e).
    product = _difference_of_squares(s_neg, z, n) / (b - c)
    a = torch.where((b >= 0) == (c >= 0), direct, product)
    return torch.where((radicand >= 0) & (a >= 0), a, nan)


def _discrete_timestep(alpha_bar_star: Tensor, tables: _Tables) -> "tuple[Tensor, Tensor]":
    """S4.f: t* = min{t ≥ 1 : ᾱ_t ≤ ᾱ*} (binary search); (t*, crossed), t* = T where not crossed."""
    descending = tables.alpha_bar[1:]
    T = descending.numel()
    target = torch.where(torch.isnan(alpha_bar_star), torch.zeros_like(alpha_bar_star), alpha_bar_star)
    # −ᾱ is increasing: the first index with −ᾱ_{i+1} ≥ −ᾱ* is the first ᾱ_{i+1} ≤ ᾱ*.
    index = torch.searchsorted(-descending, -target.contiguous(), side="left")
    crossed = (index < T) & ~torch.isnan(alpha_bar_star)
    return torch.where(crossed, index + 1, torch.full_like(index, T)), crossed


def _statuses(s0: Tensor, s_neg: Tensor, n: Tensor, rho: float, tables: _Tables):
    """S4 + S5 for a batch: (status, t, a*, π_t)."""
    fallback = torch.full_like(s0, -1, dtype=torch.int64)
    fallback = torch.where(s0 <= 0, NON_POSITIVE_SCORE, fallback)
    fallback = torch.where(s0 <= s_neg, ALREADY_NEGATIVE, fallback)  # precedence: later wins
    fallback = torch.where(n == 0, DEGENERATE_USER, fallback)
    valid = fallback < 0
    a_star = _transition_amplitude(s0, s_neg, n, rho)
    a_star = torch.where(valid, a_star, torch.full_like(a_star, math.nan))
    t, crossed = _discrete_timestep(a_star * a_star, tables)  # ᾱ* = a*²
    status = torch.where(valid, torch.where(crossed, TRANSITION, SATURATED), fallback)
    t = torch.where(valid, t, torch.zeros_like(t))
    # S4.a: π_t = Φ((√ᾱ_t·s_0 − s⁻)/(√(1 − ᾱ_t)·n)); NaN on fallback rows (S6).
    pi = _normal_cdf((tables.sqrt_alpha_bar[t] * s0 - s_neg) / (tables.sqrt_one_minus_alpha_bar[t] * n))
    pi = torch.where(valid, pi, torch.full_like(pi, math.nan))
    return status, t, a_star, pi


def transition(s0: Tensor, s_neg: Tensor, n: Tensor, alpha_bar_table: Tensor, *, rho: float = 0.5):
    """S4/S5 from scores: ``s0``, ``s_neg``, ``n = σ‖e_u‖`` [B] in the working
    precision. Returns (status, t, a*, π_t), as in SynthesisResult."""
    rho = _check_rho(rho)
    for value, field in ((s0, "s0"), (s_neg, "sNeg"), (n, "noiseScale")):
        _check_finite(value.reshape(-1, 1), field)
    if bool((n < 0).any()):
        raise _configuration_error("noiseScale", "n = σ‖e_u‖ must be ≥ 0")
    return _statuses(s0, s_neg, n, rho, _working_tables(alpha_bar_table, s0.dtype, s0.device))


# ---------------------------------------------------------------------------
# S8. Noise: Philox4x32-10 in torch integer ops, and Box–Muller
# ---------------------------------------------------------------------------
_MASK32 = 0xFFFFFFFF
_PHILOX_M0, _PHILOX_M1 = 0xD2511F53, 0xCD9E8D57
_PHILOX_W0, _PHILOX_W1 = 0x9E3779B9, 0xBB67AE85


def _multiply_high_low(m: int, c: Tensor) -> "tuple[Tensor, Tensor]":
    """(hi, lo) 32-bit halves of the 64-bit product m·c, for 32-bit m and c in int64
    tensors. m·c reaches 2⁶⁴ and would overflow int64, so c is split into 16-bit
    halves: m·c_hi and m·c_lo stay below 2⁴⁸."""
    low_part = m * (c & 0xFFFF)
    high_part = m * (c >> 16)
    low = (low_part + ((high_part & 0xFFFF) << 16)) & _MASK32
    high = (high_part + (low_part >> 16)) >> 16
    return high, low


def philox4x32(c0: Tensor, c1: Tensor, c2: Tensor, c3: Tensor, k0: int, k1: int):
    """Philox4x32-10 (S8) on int64 tensors holding unsigned 32-bit words; key (k0, k1)
    Python ints. Round r uses key (k0 + r·0x9E3779B9, k1 + r·0xBB67AE85) mod 2³²."""
    for _ in range(10):
        high0, low0 = _multiply_high_low(_PHILOX_M0, c0)
        high1, low1 = _multiply_high_low(_PHILOX_M1, c2)
        c0, c1, c2, c3 = high1 ^ c1 ^ k0, low1, high0 ^ c3 ^ k1, low0
        k0, k1 = (k0 + _PHILOX_W0) & _MASK32, (k1 + _PHILOX_W1) & _MASK32
    return c0, c1, c2, c3


def _box_muller(w0: Tensor, w1: Tensor, dtype) -> "tuple[Tensor, Tensor]":
    """u = (w + ½)·2⁻³²; r = √(−2 ln u_0), θ = 2π·u_1; (r cos θ, r sin θ) (S8)."""
    if dtype == torch.float64:
        u0 = (w0.double() + 0.5) * 2.0 ** -32
        theta = 2 * math.pi * ((w1.double() + 0.5) * 2.0 ** -32)
        r = torch.sqrt(-2 * torch.log(u0))
        return r * torch.cos(theta), r * torch.sin(theta)
    # binary32, S8's lower-precision option (as the numpy port). w + ½ has 33 bits,
    # so near u = 1 the float32 u rounds to 1: there ln u = log1p(−v) with
    # v = 1 − u = (~w + ½)·2⁻³² formed from the integer keeps the digits.
    scale = torch.tensor(2.0 ** -32, dtype=torch.float32, device=w0.device)
    upper = w0 >= 0x80000000
    v = ((w0 ^ _MASK32).float() + 0.5) * scale
    u = (w0.float() + 0.5) * scale
    log_u = torch.where(upper, torch.log1p(-v), torch.log(u))
    r = torch.sqrt(-2 * log_u)
    theta = torch.tensor(2 * math.pi, dtype=torch.float32, device=w1.device) * ((w1.float() + 0.5) * scale)
    return r * torch.cos(theta), r * torch.sin(theta)


def _row_words(rows: Tensor) -> "tuple[Tensor, Tensor]":
    """(low32(b), high32(b)) of unsigned 64-bit row numbers held in int64 (two's complement)."""
    rows = rows.to(torch.int64)
    return rows & _MASK32, (rows >> 32) & _MASK32


def _seed_key(seed: int) -> "tuple[int, int]":
    seed = int(seed)
    if not 0 <= seed < 2 ** 64:
        raise _configuration_error("seed", f"seed = {seed} must be an unsigned 64-bit integer")
    return seed & _MASK32, seed >> 32


def philox_normals(seed: int, stream: int, rows: Tensor, d: int, *, dtype=torch.float64) -> Tensor:
    """ε [B, d] of S8: component k of row b is lane k mod 4 of Box–Muller on Philox
    counter (k/4, low32(b), high32(b), stream), key (low32(seed), high32(seed)).
    ``rows`` [B]: unsigned 64-bit row numbers in int64 (2⁶⁴ − 1 is −1)."""
    k0, k1 = _seed_key(seed)
    if not 0 <= int(stream) <= _MASK32:
        raise _configuration_error("stream", f"stream = {stream} must be an unsigned 32-bit integer")
    low, high = _row_words(rows)
    blocks = (d + 3) // 4
    q = torch.arange(blocks, dtype=torch.int64, device=rows.device).expand(rows.numel(), blocks)
    c1, c2 = low[:, None].expand_as(q), high[:, None].expand_as(q)
    c3 = torch.full_like(q, int(stream))
    w0, w1, w2, w3 = philox4x32(q, c1, c2, c3, k0, k1)
    n0, n1 = _box_muller(w0, w1, dtype)
    n2, n3 = _box_muller(w2, w3, dtype)
    return torch.stack([n0, n1, n2, n3], -1).reshape(rows.numel(), 4 * blocks)[:, :d]


# ---------------------------------------------------------------------------
# S3–S6. Synthesis
# ---------------------------------------------------------------------------
NoiseSpec = Union[str, Tensor]


def _epsilon(noise: NoiseSpec, e_u: Tensor, seed: int, stream: int, rows: Optional[Tensor], generator) -> Tensor:
    B, d = e_u.shape
    if isinstance(noise, Tensor):
        if tuple(noise.shape) != (B, d):
            raise ADARError("shapeMismatch", "epsilon", f"ε: expected [{B}, {d}], got {list(noise.shape)}")
        epsilon = noise.to(e_u.dtype)
        _check_finite(epsilon, "epsilon")
        return epsilon
    if noise == "philox":
        if rows is None:
            rows = torch.arange(B, device=e_u.device)
        elif rows.shape != (B,):
            raise ADARError("shapeMismatch", "rows", f"rows: expected [{B}], got {list(rows.shape)}")
        return philox_normals(seed, stream, rows.to(e_u.device), d, dtype=e_u.dtype)
    if noise == "randn":
        return torch.randn(B, d, generator=generator, dtype=e_u.dtype, device=e_u.device)
    raise _configuration_error("noise", f"{noise!r} is not 'philox', 'randn' or a tensor")


def _reference_negative_score(scores: Tensor, policy: str) -> Tensor:
    """S3: s⁻ over the pool's scores [B, M]."""
    if policy == "max":
        return scores.max(-1).values
    if policy == "mean":
        return scores.sum(-1) / scores.shape[-1]
    return scores[:, 0]  # "first"


def _synthesize(e_u, e_pos, e_pool, alpha_bar_table, rho, sigma, policy, noise, seed, stream, rows, generator):
    """synthesize's result, its ε and its tables (synthesize_denoised needs both)."""
    rho, sigma = _check_rho(rho), _check_sigma(sigma)
    policy = _check_choice(policy, "policy", ("max", "mean", "first"))
    _check_row_shapes(e_u, e_pos, e_pool)
    _check_finite(e_u, "user")
    _check_finite(e_pos, "positive")
    _check_finite(e_pool, "pool")
    epsilon = _epsilon(noise, e_u, seed, stream, rows, generator)
    tables = _working_tables(alpha_bar_table, e_u.dtype, e_u.device)

    # Scores are constants for the transition point: its gradient is not S7's.
    with torch.no_grad():
        n = sigma * torch.sqrt(_dot(e_u, e_u))  # S2: n = σ·‖e_u‖₂
        s0 = _dot(e_u, e_pos)
        scores = _dot(e_u.unsqueeze(1), e_pool)  # [B, M]
        s_neg = _reference_negative_score(scores, policy)
        for value, field in ((n, "noiseScale"), (s0, "positiveScore"), (s_neg, "referenceNegativeScore")):
            bad = ~torch.isfinite(value)
            if bool(bad.any()):
                raise ADARError("overflow", field, f"row {int(bad.nonzero()[0])}, {field}: overflows")
        hardest = scores.argmax(-1)  # first on ties
        status, t, a_star, pi = _statuses(s0, s_neg, n, rho, tables)

    # S6: x⁻ = √ᾱ_t·x_0 + √(1 − ᾱ_t)·σ·ε; fallback rows (t = 0) take the hardest candidate.
    x_t = _forward(e_pos, epsilon, t, tables, sigma)
    hardest_embedding = e_pool[torch.arange(e_pool.shape[0], device=e_pool.device), hardest]
    x_neg = torch.where((status >= ALREADY_NEGATIVE).unsqueeze(-1), hardest_embedding, x_t)
    return SynthesisResult(x_neg, status, t, a_star, pi, hardest), epsilon, tables, sigma


def synthesize(e_u: Tensor, e_pos: Tensor, e_pool: Tensor, alpha_bar: Tensor, *, rho: float = 0.5,
               sigma: float = 1.0, policy: str = "max", noise: NoiseSpec = "philox", seed: int = 0,
               stream: int = 0, rows: Optional[Tensor] = None,
               generator: Optional[torch.Generator] = None) -> SynthesisResult:
    """ADAR's synthetic negatives for a batch (S3–S6).

    ``e_u``, ``e_pos`` [B, d], ``e_pool`` [B, M, d]; ``alpha_bar`` ᾱ_0 … ᾱ_T
    (``alpha_bar()``; float64 recommended). ``rho`` the retention level, ``sigma``
    the noise scale, ``policy`` S3's max / mean / first.

    ``noise="philox"``: ε from S8 with ``seed`` (uint64), ``stream`` (uint32, e.g.
    the epoch) and ``rows`` [B] (the global row numbers; default 0…B−1).
    ``noise="randn"``: ``torch.randn`` with ``generator``. A tensor [B, d]: ε itself.

    ``x_neg`` keeps the autograd graph S7 needs: ∂x⁻/∂x_0 = √ᾱ_t·I on
    transition/saturated rows and ∂x⁻/∂pool[hardest] = I on fallback rows;
    ``adar_loss`` detaches it unless ``gradient_flow="through"``."""
    return _synthesize(e_u, e_pos, e_pool, alpha_bar, rho, sigma, policy, noise, seed, stream, rows, generator)[0]


def attach_result(x_neg: Tensor, status: Tensor, t: Tensor, fallback_index: Tensor, e_pos: Tensor,
                  e_pool: Tensor, alpha_bar: Tensor, *, generator: str = "forward") -> SynthesisResult:
    """A SynthesisResult rebuilt from stored negatives (a cache, a results file,
    another implementation), with the autograd paths ``synthesize`` gives: the
    value is ``x_neg`` exactly; ∂x⁻/∂x_0 = √ᾱ_t·I (``generator="forward"``) or I
    (``"denoised"``, S9) on transition/saturated rows, ∂x⁻/∂pool[hardest] = I on
    fallback rows. ``a_star`` and ``pi`` are NaN (the loss does not read them)."""
    _check_choice(generator, "generator", ("forward", "denoised"))
    _check_finite(x_neg, "syntheticNegative")
    tables = _working_tables(alpha_bar, x_neg.dtype, x_neg.device)
    fallback = (status >= ALREADY_NEGATIVE).unsqueeze(-1)
    rows = torch.arange(e_pool.shape[0], device=e_pool.device)
    hardest = e_pool[rows, fallback_index]
    slope = tables.sqrt_alpha_bar[t].unsqueeze(-1) if generator == "forward" else 1
    # e − e.detach() is exactly 0 with gradient I: the value stays x_neg bit for bit.
    path = torch.where(fallback, hardest - hardest.detach(), slope * (e_pos - e_pos.detach()))
    nan = torch.full(status.shape, math.nan, dtype=x_neg.dtype, device=x_neg.device)
    return SynthesisResult(x_neg.detach() + path, status, t, nan, nan.clone(), fallback_index)


# ---------------------------------------------------------------------------
# S7. BPR with augmentation; its gradient is autograd's
# ---------------------------------------------------------------------------
def softplus(x: Tensor) -> Tensor:
    """softplus(x) = max(x, 0) + log1p(exp(−|x|)) (S7): torch.logaddexp(x, 0) computes
    exactly that, and its gradient exp(x − softplus(x)) = sigmoid(x) is exact at 0 too
    (a hand-written max + log1p form gets 1 there through autograd, not ½).
    F.softplus is not it: it returns x itself beyond x = 20."""
    return torch.logaddexp(x, torch.zeros_like(x))


def adar_loss(e_u: Tensor, e_pos: Tensor, e_j: Tensor, result: SynthesisResult, *, w: float = 1.0,
              l2: float = 0.0, fallback: str = "skip", gradient_flow: str = "detach",
              reduction: str = "mean") -> Tensor:
    """S7: softplus(−(s_0 − s_uj)) + w·softplus(−(s_0 − ⟨e_u, x⁻⟩)) + λ/2·(‖e_u‖² + ‖e_i‖² + ‖e_j‖²)
    per row, ``e_j`` [B, d] the sampled negative (the pool's first candidate).

    ``fallback="skip"`` drops the augmentation term on fallback rows, ``"hardest"``
    keeps it with the hardest candidate; ``gradient_flow="detach"`` treats x⁻ as a
    constant, ``"through"`` lets autograd follow result.x_neg's graph.
    ``reduction``: "mean" (default), "sum" or "none" (per row)."""
    _check_choice(fallback, "fallback", ("skip", "hardest"))
    _check_choice(gradient_flow, "gradientFlow", ("detach", "through"))
    _check_choice(reduction, "reduction", ("mean", "sum", "none"))
    w, l2 = float(w), float(l2)
    if not (math.isfinite(w) and w >= 0):
        raise _configuration_error("augmentationWeight", f"w = {w} must be finite and ≥ 0")
    if not (math.isfinite(l2) and l2 >= 0):
        raise _configuration_error("l2", f"λ = {l2} must be finite and ≥ 0")
    for value, field in ((e_u, "user"), (e_pos, "positive"), (e_j, "pool"), (result.x_neg, "syntheticNegative")):
        if tuple(value.shape) != tuple(e_u.shape):
            raise ADARError("shapeMismatch", field, f"{field}: expected {list(e_u.shape)}, got {list(value.shape)}")
        _check_finite(value, field)

    x_neg = result.x_neg if gradient_flow == "through" else result.x_neg.detach()
    s0 = _dot(e_u, e_pos)
    loss = softplus(-(s0 - _dot(e_u, e_j)))
    augmentation = w * softplus(-(s0 - _dot(e_u, x_neg)))
    if fallback == "skip":
        augmentation = torch.where(result.status >= ALREADY_NEGATIVE, torch.zeros_like(augmentation), augmentation)
    loss = loss + augmentation
    if l2 > 0:
        loss = loss + l2 / 2 * (_dot(e_u, e_u) + _dot(e_pos, e_pos) + _dot(e_j, e_j))
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()


# ---------------------------------------------------------------------------
# S9. PE(t), the noise-prediction network τ and its training
# ---------------------------------------------------------------------------
TAU_MAX_DIMENSION = 37837  # 3d² ≤ 2³²: the init counter word ⌊k/4⌋, k < 12d², fits 32 bits
_TAU_INIT_STREAM = 0xFFFFFFFE  # 2³² − 2
_TAU_TRAINING_STREAM = 2 ** 31  # ε′ and t′ of epoch E use stream 2³¹ + E


def _check_timesteps(t: Tensor, upper: Optional[int], kind: str = "invalidConfiguration") -> Tensor:
    """t as int64, refused when below 0 or, given ``upper``, above it."""
    t = torch.as_tensor(t, dtype=torch.int64)
    outside = (t < 0) if upper is None else (t < 0) | (t > upper)
    if bool(outside.any()):
        limit = "≥ 0" if upper is None else f"in 0…{upper}"
        raise ADARError(kind, "timestep", f"t = {int(t[outside][0])} must be {limit}")
    return t


def positional_encoding(t: Tensor, d: int, *, dtype=torch.float64) -> Tensor:
    """PE(t) [B, d]: sin(t·exp(−(k − k mod 2)/d·ln 10⁴)) for even k, cos for odd k,
    real division, binary64 rounded once (S9). ``t`` [B] int64, t ≥ 0."""
    t = _check_timesteps(t, None)
    if d < 1:
        raise ADARError("shapeMismatch", "dimension", "d must be at least 1")
    k = torch.arange(d, dtype=torch.int64, device=t.device)
    frequency = torch.exp(-((k - k % 2).double() / d) * math.log(10000.0))
    angle = t.double().unsqueeze(-1) * frequency
    return torch.where(k % 2 == 0, torch.sin(angle), torch.cos(angle)).to(dtype)


def _xavier_layer(layer: int, rows: int, columns: int, key, dtype, device) -> Tensor:
    """W_ℓ[r][c] = bound·(2u − 1), u = (w + ½)·2⁻³², w lane k mod 4 of Philox on
    counter (⌊k/4⌋, ℓ, 0, 2³² − 2), k = r·fan_in + c, bound = √(6/(fan_in + fan_out))."""
    count = rows * columns
    q = torch.arange((count + 3) // 4, dtype=torch.int64, device=device)
    words = philox4x32(q, torch.full_like(q, layer), torch.zeros_like(q), torch.full_like(q, _TAU_INIT_STREAM), *key)
    w = torch.stack(words, -1).reshape(-1)[:count]
    bound = math.sqrt(6 / (rows + columns))
    return (bound * (2 * ((w.double() + 0.5) * 2.0 ** -32) - 1)).reshape(rows, columns).to(dtype)


def tau_init(d: int, seed: int, *, dtype=torch.float64, device=None) -> "tuple[Tensor, Tensor, Tensor, Tensor]":
    """S9's initial τ: (W₁ [4d, 3d], b₁ [4d], W₂ [d, 4d], b₂ [d]), Xavier-uniform from Philox."""
    if d < 1:
        raise ADARError("shapeMismatch", "dimension", "d must be at least 1")
    if d > TAU_MAX_DIMENSION:
        raise _configuration_error("dimension", f"d = {d}: the initialisation counter needs d ≤ {TAU_MAX_DIMENSION}")
    key = _seed_key(seed)
    return (_xavier_layer(1, 4 * d, 3 * d, key, dtype, device), torch.zeros(4 * d, dtype=dtype, device=device),
            _xavier_layer(2, d, 4 * d, key, dtype, device), torch.zeros(d, dtype=dtype, device=device))


def _check_tau_shapes(w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, d: int) -> None:
    for value, field, shape in ((w1, "w1", (4 * d, 3 * d)), (b1, "b1", (4 * d,)),
                                (w2, "w2", (d, 4 * d)), (b2, "b2", (d,))):
        if tuple(value.shape) != shape:
            raise ADARError("shapeMismatch", field, f"{field}: expected {list(shape)} for d = {d}, got {list(value.shape)}")
        _check_finite(value.reshape(1, -1), field)


def tau_forward(w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, x_t: Tensor, t: Tensor, e_u: Tensor) -> Tensor:
    """ε̂ = W₂·SiLU(W₁·v + b₁) + b₂, v = [x_t ; PE(t) ; e_u] (S9); x_t, e_u [B, d], t [B]."""
    d = x_t.shape[-1]
    _check_tau_shapes(w1, b1, w2, b2, d)
    v = torch.cat([x_t, positional_encoding(t, d, dtype=x_t.dtype).to(x_t.device), e_u], -1)
    return F.linear(F.silu(F.linear(v, w1, b1)), w2, b2)


class TauNetwork(nn.Module):
    """τ_θ of S9 as a module; parameters initialised by ``tau_init``."""

    def __init__(self, d: int, *, seed: int = 0, dtype=torch.float32, device=None):
        super().__init__()
        w1, b1, w2, b2 = tau_init(d, seed, dtype=dtype, device=device)
        self.w1, self.b1, self.w2, self.b2 = (nn.Parameter(p) for p in (w1, b1, w2, b2))

    @classmethod
    def from_parameters(cls, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor) -> "TauNetwork":
        """τ with given weights (a checkpoint, a fixture): W₁ [4d, 3d], b₁ [4d], W₂ [d, 4d], b₂ [d]."""
        _check_tau_shapes(w1, b1, w2, b2, b2.shape[0])
        tau = cls.__new__(cls)
        nn.Module.__init__(tau)
        tau.w1, tau.b1, tau.w2, tau.b2 = (nn.Parameter(p.detach().clone()) for p in (w1, b1, w2, b2))
        return tau

    def parameters_tuple(self) -> "tuple[Tensor, Tensor, Tensor, Tensor]":
        return self.w1, self.b1, self.w2, self.b2

    def forward(self, x_t: Tensor, t: Tensor, e_u: Tensor) -> Tensor:
        return tau_forward(self.w1, self.b1, self.w2, self.b2, x_t, t, e_u)


def _ratio_table(tables: _Tables) -> Tensor:
    """r_t = √((1 − ᾱ_t)/ᾱ_t), binary64 (S9)."""
    return torch.sqrt((1 - tables.alpha_bar64) / tables.alpha_bar64)


def _reconstruction(x0: Tensor, epsilon: Tensor, epsilon_hat: Tensor, ratio64: Tensor, sigma: float) -> Tensor:
    """x̂_0 = x_0 + σ·r_t·(ε − ε̂), formed as written (the quotient form cancels in binary32)."""
    scale = torch.tensor(sigma, dtype=x0.dtype, device=x0.device) * ratio64.to(x0.dtype)
    return x0 + scale.unsqueeze(-1) * (epsilon - epsilon_hat)


def denoise(tau: TauNetwork, x0: Tensor, epsilon: Tensor, t: Tensor, e_u: Tensor, alpha_bar: Tensor, *,
            sigma: float = 1.0) -> "tuple[Tensor, Tensor, Tensor]":
    """One step of S9's denoised generator at given t (no r_max guard):
    (ε̂, x̂_0, r_t) with x_t = √ᾱ_t·x_0 + √(1 − ᾱ_t)·σ·ε."""
    sigma = _check_sigma(sigma)
    tables = _working_tables(alpha_bar, x0.dtype, x0.device)
    t = _check_timesteps(t, tables.alpha_bar.numel() - 1, kind="indexOutOfRange").to(x0.device)
    for value, field in ((x0, "x0"), (epsilon, "epsilon"), (e_u, "user")):
        if tuple(value.shape) != tuple(x0.shape):
            raise ADARError("shapeMismatch", field, f"{field}: expected {list(x0.shape)}, got {list(value.shape)}")
        _check_finite(value, field)
    x_t = _forward(x0, epsilon, t, tables, sigma)
    epsilon_hat = tau(x_t, t, e_u)
    ratio = _ratio_table(tables)[t]
    return epsilon_hat, _reconstruction(x0, epsilon, epsilon_hat, ratio, sigma), ratio.to(x0.dtype)


def synthesize_denoised(e_u: Tensor, e_pos: Tensor, e_pool: Tensor, alpha_bar: Tensor, tau: TauNetwork, *,
                        r_max: float = 10.0, rho: float = 0.5, sigma: float = 1.0, policy: str = "max",
                        noise: NoiseSpec = "philox", seed: int = 0, stream: int = 0, rows: Optional[Tensor] = None,
                        generator: Optional[torch.Generator] = None) -> DenoisedSynthesisResult:
    """S9's ``denoised`` generator: ``synthesize`` (same keywords), then on
    transition/saturated rows with r_t ≤ r_max (decided in binary64)
    x⁻ = x̂_0 = x_0 + σ·r_t·(ε − ε̂), ε̂ = τ(x_t, PE(t), e_u); rows with r_t > r_max
    keep x⁻ = x_t; fallback rows are unchanged. ε̂ and ε are constants for autograd,
    so under ``through`` ∂x⁻/∂x_0 = I on denoised rows."""
    r_max = math.nan if r_max is None else float(r_max)
    if not (math.isfinite(r_max) and r_max >= 0):
        raise _configuration_error("rMax", f"r_max = {r_max} must be finite and ≥ 0")
    d = e_u.shape[-1]
    _check_tau_shapes(*tau.parameters_tuple(), d)
    result, epsilon, tables, sigma = _synthesize(e_u, e_pos, e_pool, alpha_bar, rho, sigma, policy, noise, seed,
                                                 stream, rows, generator)
    ratio64 = _ratio_table(tables)[result.t]
    fallback = result.status >= ALREADY_NEGATIVE
    denoised = ~fallback & (ratio64 <= r_max)
    with torch.no_grad():
        epsilon_hat = tau(result.x_neg.detach(), result.t, e_u.detach())
    reconstruction = _reconstruction(e_pos, epsilon, epsilon_hat, ratio64, sigma)
    x_neg = torch.where(denoised.unsqueeze(-1), reconstruction, result.x_neg)
    negative_generator = torch.where(fallback, GENERATOR_FALLBACK,
                                     torch.where(denoised, GENERATOR_DENOISED, GENERATOR_FORWARD))
    return DenoisedSynthesisResult(x_neg, *result[1:], negative_generator)


def tau_training_draws(seed: int, epoch: int, rows: Tensor, d: int, T: int, *,
                       dtype=torch.float64) -> "tuple[Tensor, Tensor]":
    """S9's draws for training τ on row b of 1-based epoch E: (ε′ [B, d], t′ [B]) with
    ε′ the S8 normals (seed, 2³¹ + E, b) and t′ = 1 + ⌊w₀·T/2³²⌋, w₀ word 0 of Philox
    on counter (2³² − 1, low32(b), high32(b), 2³¹ + E)."""
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 1 <= epoch < 2 ** 31:
        raise _configuration_error("epoch", f"epoch = {epoch} must be an integer in 1…2³¹ − 1")
    if not 1 <= T <= 2 ** 31:
        raise _configuration_error("steps", f"T = {T} must lie in 1…2³¹")
    stream = _TAU_TRAINING_STREAM + epoch
    rows = rows.to(torch.int64)
    low, high = _row_words(rows)
    w0 = philox4x32(torch.full_like(low, _MASK32), low, high, torch.full_like(low, stream), *_seed_key(seed))[0]
    t = 1 + ((w0 * T) >> 32)  # w₀·T < 2⁶³ for T ≤ 2³¹: exact in int64
    return philox_normals(seed, stream, rows, d, dtype=dtype), t


def tau_loss(tau: TauNetwork, e_u: Tensor, e_pos: Tensor, epsilon: Tensor, t: Tensor, alpha_bar: Tensor, *,
             sigma: float = 1.0) -> Tensor:
    """The batch mean of L_τ = ‖ε′ − τ(x_t′, PE(t′), e_u)‖²/d (S9), with
    x_t′ = √ᾱ_t′·x_0 + √(1 − ᾱ_t′)·σ·ε′; e_u and x_0 = e_pos are detached.
    ``epsilon`` [B, d] and ``t`` [B] (1…T) are ε′ and t′ (``tau_training_draws``)."""
    sigma = _check_sigma(sigma)
    e_u, x0 = e_u.detach(), e_pos.detach()
    tables = _working_tables(alpha_bar, x0.dtype, x0.device)
    T = tables.alpha_bar.numel() - 1
    if bool(((t < 1) | (t > T)).any()):
        raise _configuration_error("timesteps", f"t′ must lie in 1…T = {T} (S9 draws t′ = 1 + ⌊w₀·T/2³²⌋)")
    for value, field in ((e_u, "users"), (x0, "positives"), (epsilon, "targetNoise")):
        _check_finite(value, field)
    x_t = _forward(x0, epsilon, t, tables, sigma)
    residual = epsilon - tau(x_t, t, e_u)
    return (_dot(residual, residual) / x0.shape[-1]).mean()


def tau_adam(tau: TauNetwork, lr: float) -> torch.optim.Adam:
    """S9's optimiser for τ: Adam, β₁ 0.9, β₂ 0.999, ε 1e-8, bias-corrected, no weight
    decay (torch.optim.Adam's defaults, spelled out; not AdamW, whose default decays)."""
    lr = math.nan if lr is None else float(lr)
    if not (math.isfinite(lr) and lr > 0):
        raise _configuration_error("learningRate", f"lr_τ = {lr} must be finite and > 0 (S9)")
    return torch.optim.Adam(tau.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)


def tau_step(tau: TauNetwork, optimizer: torch.optim.Optimizer, e_u: Tensor, e_pos: Tensor, alpha_bar: Tensor, *,
             sigma: float, seed: int, epoch: int, rows: Tensor) -> Tensor:
    """Step (2) of S9's batch: one optimiser step of τ on ``tau_loss`` with the S9
    draws of (seed, epoch, rows); returns the loss before the step. Keep one
    optimiser across epochs (S9: Adam's step count carries on)."""
    epsilon, t = tau_training_draws(seed, epoch, rows.to(e_pos.device), e_pos.shape[-1], alpha_bar.numel() - 1,
                                    dtype=e_pos.dtype)
    optimizer.zero_grad(set_to_none=True)
    loss = tau_loss(tau, e_u, e_pos, epsilon, t, alpha_bar, sigma=sigma)
    loss.backward()
    optimizer.step()
    return loss.detach()


# ---------------------------------------------------------------------------
# A module for training loops
# ---------------------------------------------------------------------------
class ADARSampler(nn.Module):
    """ADAR's negative synthesis with its schedule and options held as buffers and
    attributes, so ``.to(device)`` moves the table with the model.

        sampler = ADARSampler("cosine", 1000, rho=0.5, sigma=0.1, seed=7)
        result = sampler(e_u, e_pos, e_pool, stream=epoch, rows=row_ids)
        loss = sampler.loss(e_u, e_pos, e_pool[:, 0], result, l2=1e-4)
    """

    def __init__(self, schedule: str, T: int, *, rho: float = 0.5, sigma: float = 1.0, policy: str = "max",
                 noise: str = "philox", seed: int = 0, w: float = 1.0, fallback: str = "skip",
                 gradient_flow: str = "detach", **schedule_params):
        super().__init__()
        self.register_buffer("alpha_bar", alpha_bar(schedule, T, **schedule_params))
        self.rho, self.sigma, self.policy = _check_rho(rho), _check_sigma(sigma), policy
        self.noise, self.seed = noise, seed
        self.w, self.fallback, self.gradient_flow = w, fallback, gradient_flow

    def forward(self, e_u: Tensor, e_pos: Tensor, e_pool: Tensor, *, stream: int = 0,
                rows: Optional[Tensor] = None, generator: Optional[torch.Generator] = None) -> SynthesisResult:
        return synthesize(e_u, e_pos, e_pool, self.alpha_bar, rho=self.rho, sigma=self.sigma, policy=self.policy,
                          noise=self.noise, seed=self.seed, stream=stream, rows=rows, generator=generator)

    def loss(self, e_u: Tensor, e_pos: Tensor, e_j: Tensor, result: SynthesisResult, *, l2: float = 0.0,
             reduction: str = "mean") -> Tensor:
        return adar_loss(e_u, e_pos, e_j, result, w=self.w, l2=l2, fallback=self.fallback,
                         gradient_flow=self.gradient_flow, reduction=reduction)
