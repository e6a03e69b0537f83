#!/usr/bin/env python3
"""What the fixtures cannot see of adar_torch.py: they send one row per request,
and they check the loss gradient the adapter asks autograd for. This checks

  1. batching: one synthesize / synthesize_denoised call on a batch of mixed rows
     (every S5 status, every policy, S8 noise by row number) answers each row
     as a call on that row alone (integers exactly, reals to a few ulps);
  2. S7's gradient against numerical differentiation (torch.autograd.gradcheck):
     ``through`` is the derivative of the loss of a fresh synthesis (t and ε held,
     so x⁻ moves with x_0 as √ᾱ_t, or is the hardest candidate itself), ``detach``
     that of the loss with x⁻ a constant; for both fallback modes;
  3. the module wrappers (ADARSampler, TauNetwork with tau_step) run a step.

    python3 examples/ports/pytorch/selftest.py      # exits 1 on the first failed check
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adar_torch as adar  # noqa: E402

SEED = int(os.environ.get("ADAR_SEED", "20260101"))


def mixed_batch(dtype):
    """B rows covering every S5 status: transition/saturated rows, s_0 ≤ s⁻, s_0 ≤ 0, e_u = 0."""
    g = torch.Generator().manual_seed(SEED)
    B, M, d = 48, 5, 7
    e_u = torch.randn(B, d, generator=g, dtype=torch.float64)
    e_pos = e_u * 0.8 + 0.3 * torch.randn(B, d, generator=g, dtype=torch.float64)
    e_pool = 0.4 * torch.randn(B, M, d, generator=g, dtype=torch.float64)
    e_pos[1] = e_u[1]  # s_0 > 0 …
    e_pool[1] = (2 + 0.1 * torch.arange(M, dtype=torch.float64))[:, None] * e_u[1]  # … and each candidate
    # scores more (2·s_0, 2.1·s_0, …; no tie): alreadyNegative under every policy
    e_pool[6, 0] = e_pos[6]  # s_0 = s⁻ exactly under `first` (and s⁻ ≥ s_0 under `max`): alreadyNegative
    e_pos[2] = -e_pos[2]  # s_0 < 0
    e_pool[2] = -3 * e_u[2]  # … and s⁻ below it: nonPositiveScore
    e_u[3] = 0  # degenerateUser
    e_pool[4, 3] = e_pool[4, 1]  # tied hardest candidates: the first wins
    e_pos[5] = 30 * e_u[5]  # far above the pool: saturated
    return e_u.to(dtype), e_pos.to(dtype), e_pool.to(dtype)


def same(a, b):
    """Integers exactly; reals to a few ulps: torch's CPU sin, cos and log take SLEEF's
    vectorised path over most of a row and libm on its tail, so where a row's values
    fall in the tensor can move ε by an ulp (S8's binary64 tolerance is 1e-12)."""
    if not a.is_floating_point():
        return torch.equal(a, b)
    ulps = 16 * torch.finfo(a.dtype).eps
    return torch.allclose(a, b, rtol=ulps, atol=ulps, equal_nan=True)


def check_batching():
    alpha_bar = adar.alpha_bar("cosine", 1000)
    for dtype in (torch.float64, torch.float32):
        e_u, e_pos, e_pool = mixed_batch(dtype)
        rows = torch.arange(1000, 1000 + e_u.shape[0])
        tau = adar.TauNetwork(e_u.shape[1], seed=SEED, dtype=dtype)
        for policy in ("max", "mean", "first"):
            options = dict(rho=0.3, sigma=0.7, policy=policy, noise="philox", seed=SEED, stream=3)
            batch = adar.synthesize(e_u, e_pos, e_pool, alpha_bar, rows=rows, **options)
            denoised = adar.synthesize_denoised(e_u, e_pos, e_pool, alpha_bar, tau, r_max=5.0, rows=rows, **options)
            statuses = {adar.STATUS_NAMES[s] for s in batch.status.tolist()}
            if statuses != set(adar.STATUS_NAMES):
                fail(f"the mixed batch ({policy}, {dtype}) lacks statuses {set(adar.STATUS_NAMES) - statuses}")
            for b in range(e_u.shape[0]):
                one = slice(b, b + 1)
                alone = adar.synthesize(e_u[one], e_pos[one], e_pool[one], alpha_bar, rows=rows[one], **options)
                alone_denoised = adar.synthesize_denoised(e_u[one], e_pos[one], e_pool[one], alpha_bar, tau,
                                                          r_max=5.0, rows=rows[one], **options)
                for name, together, single in zip(batch._fields + denoised._fields,
                                                  list(batch) + list(denoised), list(alone) + list(alone_denoised)):
                    if not same(together[one], single):
                        fail(f"row {b} ({policy}, {dtype}): {name} in a batch {together[one].tolist()} "
                             f"≠ alone {single.tolist()}")
    print("ok   batching: every row of a mixed batch equals its single-row call (float64, float32, 3 policies)")


def check_gradients():
    alpha_bar = adar.alpha_bar("linear", 200, start=1e-4, end=0.05)
    # Rows away from every discontinuity: no exact ties, no e_u = 0 (a perturbation would
    # change their status), so t and the status are locally constant (checked below).
    smooth = [0, 1, 2, 5] + list(range(7, 15))
    e_u, e_pos, e_pool = (x[smooth] for x in mixed_batch(torch.float64))
    g = torch.Generator().manual_seed(SEED + 1)
    epsilon = torch.randn(e_u.shape, generator=g, dtype=torch.float64)
    synthesis = dict(rho=0.3, sigma=0.7, noise=epsilon)
    held = adar.synthesize(e_u, e_pos, e_pool, alpha_bar, **synthesis)
    for fallback in ("skip", "hardest"):
        def through(u, pos, pool):
            result = adar.synthesize(u, pos, pool, alpha_bar, **synthesis)
            # t and the status are held at their value at the checked point (S7: constants).
            if not (torch.equal(result.t, held.t) and torch.equal(result.status, held.status)):
                raise AssertionError("a perturbation moved a timestep: pick another seed")
            return adar.adar_loss(u, pos, pool[:, 0], result, w=0.7, l2=0.01, fallback=fallback,
                                  gradient_flow="through", reduction="sum")

        def detach(u, pos, pool):
            return adar.adar_loss(u, pos, pool[:, 0], held, w=0.7, l2=0.01, fallback=fallback,
                                  gradient_flow="detach", reduction="sum")

        for name, function in (("through", through), ("detach", detach)):
            inputs = tuple(x.clone().requires_grad_() for x in (e_u, e_pos, e_pool))
            if not torch.autograd.gradcheck(function, inputs, eps=1e-7, atol=1e-7, rtol=1e-6, raise_exception=False):
                fail(f"S7 gradient ({name}, {fallback}) differs from numerical differentiation")
    print("ok   S7 gradients: autograd = numerical differentiation (detach/through × skip/hardest)")


def check_modules():
    e_u, e_pos, e_pool = (x.requires_grad_() for x in mixed_batch(torch.float32))
    sampler = adar.ADARSampler("cosine", 1000, rho=0.5, sigma=0.5, seed=SEED, gradient_flow="through")
    result = sampler(e_u, e_pos, e_pool, stream=1, rows=torch.arange(e_u.shape[0]))
    sampler.loss(e_u, e_pos, e_pool[:, 0], result, l2=1e-4).backward()
    if not all(torch.isfinite(x.grad).all() for x in (e_u, e_pos, e_pool)):
        fail("ADARSampler: non-finite gradients")
    tau = adar.TauNetwork(e_u.shape[1], seed=SEED)
    before = tau.w1.detach().clone()
    optimizer = adar.tau_adam(tau, 1e-3)
    loss = adar.tau_step(tau, optimizer, e_u, e_pos, sampler.alpha_bar, sigma=0.5, seed=SEED, epoch=1,
                         rows=torch.arange(e_u.shape[0]))
    if not (torch.isfinite(loss) and not torch.equal(before, tau.w1.detach())):
        fail("tau_step: no finite loss or τ did not move")
    print("ok   modules: ADARSampler forward/loss/backward, TauNetwork + tau_step")


def fail(message):
    print(f"FAIL {message}\n     replay: ADAR_SEED={SEED} python3 {sys.argv[0]}")
    sys.exit(1)


if __name__ == "__main__":
    torch.set_num_threads(1)
    check_batching()
    check_gradients()
    check_modules()
