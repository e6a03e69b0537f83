#!/usr/bin/env python3
"""The `adar conform` protocol (docs/PORTING.md §3) in front of adar_torch.py.

A thin adapter: it turns each request's JSON into tensors of shape [1, …],
calls the functions a PyTorch user calls (alpha_bar, synthesize, adar_loss with
loss.backward(), TauNetwork, …) and writes their answers back. Gradients come
from autograd, never from a formula written here.

    python3 adar_conform.py [--precision binary64|binary32] [--bug NAME]
        protocol on stdin/stdout
    python3 adar_conform.py [--precision …] --fixtures DIR --write-results FILE
        answers for `adar conform --results FILE` (a GPU job, a notebook)

--precision picks the working dtype (float64 or float32) and what the
handshake declares; --device the torch device (default cpu). --bug switches on one deliberate misconception (BUGS below)
by replacing one internal function of adar_torch: the checks that `adar conform`
fails such a port and names the mistake.
"""

import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adar_torch as adar  # noqa: E402

OPERATIONS = ["schedule", "forward", "transition", "synthesize", "philox", "normals", "loss",
              "pe", "tauInit", "tauForward", "denoise", "synthesizeDenoised", "tauStep"]

# ---------------------------------------------------------------------------
# Deliberate misconceptions, each one replaced function of adar_torch, and the
# misconception `adar conform` should name (docs/PORTING.md §6).
# ---------------------------------------------------------------------------


def _bug_amplitude_for_alpha_bar_star():
    search = adar._discrete_timestep
    # S4.f searched with a* = √ᾱ* where ᾱ* = a*² belongs: the ᾱ/√ᾱ confusion.
    adar._discrete_timestep = lambda alpha_bar_star, tables: search(torch.sqrt(alpha_bar_star), tables)


def _bug_alpha_bar_for_sqrt_alpha_bar():
    tables_of = adar._working_tables
    # ᾱ_t read where √ᾱ_t belongs (x_t = ᾱ_t·x_0 + …, and in π_t).
    adar._working_tables = lambda table, dtype, device: tables_of(table, dtype, device)._replace(
        sqrt_alpha_bar=tables_of(table, dtype, device).alpha_bar)


def _bug_detach_ignored():
    loss_of = adar.adar_loss
    # gradient_flow="detach" not honoured: x⁻ keeps its graph into x_0.
    adar.adar_loss = lambda *args, gradient_flow="detach", **kwargs: loss_of(*args, gradient_flow="through", **kwargs)


def _bug_box_muller_lanes_swapped():
    pair = adar._box_muller
    # (r sin θ, r cos θ) instead of (r cos θ, r sin θ).
    adar._box_muller = lambda w0, w1, dtype: pair(w0, w1, dtype)[::-1]


BUGS = {
    "amplitude-for-alpha-bar-star": (_bug_amplitude_for_alpha_bar_star, "amplitudeForAlphaBarStar"),
    "alpha-bar-for-sqrt-alpha-bar": (_bug_alpha_bar_for_sqrt_alpha_bar, None),
    "detach-ignored": (_bug_detach_ignored, "gradientFlowSwapped"),
    "box-muller-lanes-swapped": (_bug_box_muller_lanes_swapped, "boxMullerLanesSwapped"),
}

DTYPE = torch.float64


# ---------------------------------------------------------------------------
# JSON → tensors (the shapes a row of the fixtures has, checked as the reference does)
# ---------------------------------------------------------------------------
def number(value):
    """A JSON number; null stands for NaN."""
    return math.nan if value is None else float(value)


def scalar(value, field):
    value = number(value)
    if not math.isfinite(value):
        raise adar.ADARError("nonFinite", field, f"row 0, field {field}: value is not finite (S5)")
    return value


def vector(values, field, length=None):
    """A [d] list as a binary64 tensor (every fixture input is exact in the working precision)."""
    if length is not None and len(values) != length:
        raise adar.ADARError("shapeMismatch", field, f"field {field}: expected {length} values, got {len(values)}")
    return torch.tensor([number(v) for v in values], dtype=torch.float64)


def matrix(rows, field, row_count, column_count):
    """A [rows][columns] list: each row's length, then the number of rows."""
    for r, row in enumerate(rows):
        if len(row) != column_count:
            raise adar.ADARError("shapeMismatch", f"{field}[{r}]",
                                 f"field {field}[{r}]: expected {column_count} values, got {len(row)}")
    if len(rows) != row_count:
        raise adar.ADARError("shapeMismatch", field, f"field {field}: expected {row_count} rows, got {len(rows)}")
    return torch.tensor([[number(v) for v in row] for row in rows], dtype=torch.float64).reshape(row_count, column_count)


def working(tensor, field=None):
    """In the working precision, refusing non-finite values first (S5)."""
    if field is not None:
        adar._check_finite(tensor.reshape(1, -1), field)
    return tensor.to(DTYPE)


SCHEDULE_PARAMETERS = {"start": "start", "end": "end", "s": "s", "maxBeta": "max_beta", "scale": "scale",
                       "min": "min", "max": "max", "betas": "betas"}


def schedule_of(spec):
    """(kind, T, keyword parameters) of a fixture's schedule object."""
    kind = spec.get("kind")
    steps = spec.get("steps", len(spec.get("betas", [])) if kind == "custom" else None)
    if steps is None or float(steps) != int(steps):
        raise adar.ADARError("invalidSchedule", "steps", f"T = {steps}; T must be an integer ≥ 1")
    params = {SCHEDULE_PARAMETERS[k]: v for k, v in spec.items() if k in SCHEDULE_PARAMETERS}
    return kind, int(steps), params


def alpha_bar_of(spec):
    kind, T, params = schedule_of(spec)
    return adar.alpha_bar(kind, T, **params)


def tau_of(request, d):
    w1 = working(matrix(request["w1"], "w1", 4 * d, 3 * d), "w1")
    b1 = working(vector(request["b1"], "b1", 4 * d), "b1")
    w2 = working(matrix(request["w2"], "w2", d, 4 * d), "w2")
    b2 = working(vector(request["b2"], "b2", d), "b2")
    return adar.TauNetwork.from_parameters(w1, b1, w2, b2)


def row_of(request, with_epsilon=True):
    """user [1, d], positive [1, d], pool [1, M, d] (and ε [1, d]) of one row."""
    user, pool = request["user"], request["pool"]
    d = len(user)
    for m, candidate in enumerate(pool):
        if len(candidate) != d:
            raise adar.ADARError("shapeMismatch", f"pool[{m}]", f"field pool[{m}]: expected {d} values, got {len(candidate)}")
    positive = vector(request["positive"], "positive", d)
    pool = torch.tensor([[number(v) for v in c] for c in pool], dtype=torch.float64).reshape(1, len(pool), d)
    epsilon = vector(request["epsilon"], "epsilon", d).unsqueeze(0).to(DTYPE) if with_epsilon else None
    return vector(user, "user").unsqueeze(0).to(DTYPE), positive.unsqueeze(0).to(DTYPE), pool.to(DTYPE), epsilon


def timestep_in(request, T):
    t = int(request["timestep"])
    if not 0 <= t <= T:
        raise adar.ADARError("indexOutOfRange", "timestep", f"t = {t} is outside 0…{T}")
    return torch.tensor([t])


# ---------------------------------------------------------------------------
# Operations (docs/PORTING.md §2)
# ---------------------------------------------------------------------------
def op_schedule(request):
    kind, T, params = schedule_of(request["schedule"])
    beta = adar.betas(kind, T, **params)
    alpha_bar = adar.alpha_bar(kind, T, **params)
    at = torch.tensor([int(t) for t in request["timesteps"]])
    if bool(((at < 0) | (at > T)).any()):
        raise adar.ADARError("indexOutOfRange", "timesteps", f"a timestep is outside 0…{T}")
    return {"beta": beta[at].to(DTYPE), "alphaBar": alpha_bar[at].to(DTYPE),
            "sqrtAlphaBar": torch.sqrt(alpha_bar[at]).to(DTYPE),
            "sqrtOneMinusAlphaBar": torch.sqrt(1 - alpha_bar[at]).to(DTYPE)}


def op_forward(request):
    alpha_bar = alpha_bar_of(request["schedule"])
    t = timestep_in(request, alpha_bar.numel() - 1)
    x0 = vector(request["x0"], "x0")
    epsilon = vector(request["epsilon"], "epsilon", x0.numel())
    sigma = number(request["sigma"])
    return {"xt": adar.forward_sample(working(x0, "x0").unsqueeze(0), working(epsilon, "epsilon").unsqueeze(0),
                                      t, alpha_bar, sigma)[0]}


def op_transition(request):
    alpha_bar = alpha_bar_of(request["schedule"])
    rho, sigma = adar._check_rho(number(request["rho"])), adar._check_sigma(number(request["sigma"]))
    s0 = torch.tensor([scalar(request["s0"], "s0")], dtype=DTYPE)
    s_neg = torch.tensor([scalar(request["sNeg"], "sNeg")], dtype=DTYPE)
    norm = scalar(request["userNorm"], "userNorm")
    n = torch.tensor([sigma], dtype=DTYPE) * torch.tensor([norm], dtype=DTYPE)  # S2: n = σ·‖e_u‖
    if not bool(torch.isfinite(n).all()):
        raise adar.ADARError("overflow", "noiseScale", "row 0, noiseScale: σ·‖e_u‖ overflows")
    if norm < 0:
        raise adar.ADARError("invalidConfiguration", "userNorm", f"‖e_u‖ = {norm} must be ≥ 0")
    status, t, a_star, pi = adar.transition(s0, s_neg, n, alpha_bar, rho=rho)
    return {"status": adar.STATUS_NAMES[int(status[0])], "timestep": int(t[0]), "aStar": a_star[0], "retention": pi[0]}


def synthesis_output(request, result, user, positive, pool):
    """The synthesize fields of one row: the result, and the scores it was decided on."""
    config = request.get("configuration", {})
    s0 = adar._dot(user, positive)
    scores = adar._dot(user.unsqueeze(1), pool)
    s_neg = adar._reference_negative_score(scores, config.get("policy", "max"))
    return {"status": adar.STATUS_NAMES[int(result.status[0])], "timestep": int(result.t[0]),
            "aStar": result.a_star[0], "retention": result.pi[0], "positiveScore": s0[0],
            "referenceNegativeScore": s_neg[0], "syntheticScore": adar._dot(user, result.x_neg)[0],
            "hardestCandidate": int(result.fallback_index[0]), "syntheticNegative": result.x_neg[0]}


def synthesis_keywords(request):
    config = request.get("configuration", {})
    return {"rho": number(config.get("rho", 0.5)), "sigma": number(config.get("sigma", 1.0)),
            "policy": config.get("policy", "max")}


def op_synthesize(request):
    alpha_bar = alpha_bar_of(request["schedule"])
    user, positive, pool, epsilon = row_of(request)
    result = adar.synthesize(user, positive, pool, alpha_bar, noise=epsilon, **synthesis_keywords(request))
    return synthesis_output(request, result, user, positive, pool)


def op_synthesize_denoised(request):
    alpha_bar = alpha_bar_of(request["schedule"])
    user, positive, pool, epsilon = row_of(request)
    tau = tau_of(request, user.shape[1])
    result = adar.synthesize_denoised(user, positive, pool, alpha_bar, tau, r_max=number(request["rMax"]),
                                      noise=epsilon, **synthesis_keywords(request))
    return {**synthesis_output(request, result, user, positive, pool),
            "negativeGenerator": adar.GENERATOR_NAMES[int(result.negative_generator[0])]}


def op_loss(request):
    """S7 through autograd: the fixture's S6 outcome becomes a SynthesisResult
    (attach_result), adar_loss gives the loss, backward() the gradients."""
    alpha_bar = alpha_bar_of(request["schedule"])
    config = request.get("configuration", {})
    user, positive, pool, _ = row_of(request, with_epsilon=False)
    status = request["status"]
    if status not in adar.STATUS_NAMES:
        raise adar.ADARError("malformedRequest", "status", f"{status!r} is not an S5 status")
    t = timestep_in(request, alpha_bar.numel() - 1)
    hardest = int(request["hardestCandidate"])
    if not 0 <= hardest < pool.shape[1]:
        raise adar.ADARError("indexOutOfRange", "hardestCandidate", f"{hardest} is outside 0..<{pool.shape[1]}")
    x_neg = vector(request["syntheticNegative"], "syntheticNegative", user.shape[1]).unsqueeze(0).to(DTYPE)
    leaves = [x.clone().requires_grad_() for x in (user, positive, pool)]
    user, positive, pool = leaves
    result = adar.attach_result(x_neg, torch.tensor([adar.STATUS_NAMES.index(status)]), t,
                                torch.tensor([hardest]), positive, pool, alpha_bar)
    loss = adar.adar_loss(user, positive, pool[:, 0], result, w=number(config.get("augmentationWeight", 1.0)),
                          l2=number(config.get("l2", 0.0)), fallback=config.get("fallback", "skip"),
                          gradient_flow=config.get("gradientFlow", "detach"), reduction="sum")
    loss.backward()
    return {"loss": loss.detach(), "userGradient": leaves[0].grad[0], "positiveGradient": leaves[1].grad[0],
            "poolGradient": leaves[2].grad[0]}


def op_philox(request):
    counter, key = [int(w) for w in request["counter"]], [int(w) for w in request["key"]]
    if len(counter) != 4 or len(key) != 2 or not all(0 <= w <= 0xFFFFFFFF for w in counter + key):
        raise adar.ADARError("malformedRequest", "counter", "philox needs 4 counter and 2 key words of 32 bits")
    words = adar.philox4x32(*(torch.tensor([c]) for c in counter), *key)
    return {"words": [int(w[0]) for w in words]}


def op_normals(request):
    row = int(request["row"])
    if not 0 <= row < 2 ** 64:
        raise adar.ADARError("malformedRequest", "row", f"row {row} is not an unsigned 64-bit integer")
    rows = torch.tensor([row - 2 ** 64 if row >= 2 ** 63 else row])  # uint64 bits in int64
    epsilon = adar.philox_normals(int(request["seed"]), int(request["stream"]), rows, int(request["dimension"]),
                                  dtype=DTYPE)
    return {"epsilon": epsilon[0]}


def op_pe(request):
    return {"encoding": adar.positional_encoding(torch.tensor([int(request["timestep"])]), int(request["dimension"]),
                                                 dtype=DTYPE)[0]}


def op_tau_init(request):
    w1, b1, w2, b2 = adar.tau_init(int(request["dimension"]), int(request["seed"]), dtype=DTYPE)
    return {"w1": w1, "b1": b1, "w2": w2, "b2": b2}


def op_tau_forward(request):
    xt = vector(request["xt"], "xt")
    if xt.numel() < 1:
        raise adar.ADARError("shapeMismatch", "xt", "field xt: d must be at least 1")
    d = xt.numel()
    user = vector(request["user"], "user", d)
    tau = tau_of(request, d)
    t = torch.tensor([int(request["timestep"])])
    return {"epsilonHat": tau(working(xt, "xt").unsqueeze(0), t, working(user, "user").unsqueeze(0))[0]}


def op_denoise(request):
    alpha_bar = alpha_bar_of(request["schedule"])
    x0 = vector(request["x0"], "x0")
    if x0.numel() < 1:
        raise adar.ADARError("shapeMismatch", "x0", "field x0: d must be at least 1")
    d = x0.numel()
    epsilon, user = vector(request["epsilon"], "epsilon", d), vector(request["user"], "user", d)
    tau = tau_of(request, d)
    epsilon_hat, reconstruction, ratio = adar.denoise(
        tau, working(x0, "x0").unsqueeze(0), working(epsilon, "epsilon").unsqueeze(0),
        torch.tensor([int(request["timestep"])]), working(user, "user").unsqueeze(0), alpha_bar,
        sigma=number(request["sigma"]))
    return {"epsilonHat": epsilon_hat[0], "reconstruction": reconstruction[0], "ratio": ratio[0]}


def row_matrix(rows, field, d, count=None):
    """A [B][d] list of rows as a working-precision tensor, finite (S5)."""
    tensor = matrix(rows, field, len(rows) if count is None else count, d)
    return working(tensor, field)


def adam_moment(request, name, d):
    """An Adam moment {w1, b1, w2, b2} in τ's shapes; errors name `<name>.<field>`."""
    try:
        return tau_of(request[name], d).parameters_tuple()
    except adar.ADARError as error:
        raise adar.ADARError(error.kind, f"{name}.{error.field}", error.message)


def op_tau_step(request):
    """S9 step (2) on given rows (ε′ and t′ are inputs): tau_loss, backward(), and one
    torch.optim.Adam step resumed at step count `step` from the given moments."""
    alpha_bar = alpha_bar_of(request["schedule"])
    sigma = adar._check_sigma(number(request["sigma"]))
    positives = request["positives"]
    if len(positives) < 1:
        raise adar.ADARError("shapeMismatch", "positives", "field positives: at least one row")
    d = len(positives[0])
    if d < 1:
        raise adar.ADARError("shapeMismatch", "positives[0]", "field positives[0]: d must be at least 1")
    x0 = row_matrix(positives, "positives", d)
    users = row_matrix(request["users"], "users", d, x0.shape[0])
    targets = row_matrix(request["targetNoise"], "targetNoise", d, x0.shape[0])
    if len(request["timesteps"]) != x0.shape[0]:
        raise adar.ADARError("shapeMismatch", "timesteps", f"field timesteps: expected {x0.shape[0]} values")
    t = torch.tensor([int(v) for v in request["timesteps"]])
    tau = tau_of(request, d)
    first, second = adam_moment(request, "firstMoment", d), adam_moment(request, "secondMoment", d)
    for name, v in zip(("w1", "b1", "w2", "b2"), second):
        if bool((v < 0).any()):
            raise adar.ADARError("invalidConfiguration", f"secondMoment.{name}", "Adam's v is a running mean of squares: ≥ 0")
    step = int(request["step"])
    if step < 1:
        raise adar.ADARError("invalidConfiguration", "step", f"s = {step}: the step count after increment is ≥ 1")
    optimizer = adar.tau_adam(tau, number(request["learningRate"]))
    # Resume Adam as a checkpoint would: its state holds the step count before this step.
    for p, m, v in zip(tau.parameters_tuple(), first, second):
        optimizer.state[p] = {"step": torch.tensor(float(step - 1), dtype=torch.float64, device="cpu"),
                              "exp_avg": m.detach().clone(), "exp_avg_sq": v.detach().clone()}
    loss = adar.tau_loss(tau, users, x0, targets, t, alpha_bar, sigma=sigma)
    loss.backward()
    optimizer.step()
    names = ("w1", "b1", "w2", "b2")
    parameters = tau.parameters_tuple()
    return {"loss": loss.detach(), **{n: p.detach() for n, p in zip(names, parameters)},
            "firstMoment": {n: optimizer.state[p]["exp_avg"] for n, p in zip(names, parameters)},
            "secondMoment": {n: optimizer.state[p]["exp_avg_sq"] for n, p in zip(names, parameters)}}


HANDLERS = {
    "schedule": op_schedule, "forward": op_forward, "transition": op_transition, "synthesize": op_synthesize,
    "philox": op_philox, "normals": op_normals, "loss": op_loss, "pe": op_pe, "tauInit": op_tau_init,
    "tauForward": op_tau_forward, "denoise": op_denoise, "synthesizeDenoised": op_synthesize_denoised,
    "tauStep": op_tau_step,
}


# ---------------------------------------------------------------------------
# The protocol (docs/PORTING.md §3)
# ---------------------------------------------------------------------------
def plain(value):
    """Tensors and numbers as JSON values; NaN and ±∞ become null."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, torch.Tensor):
        return plain(value.detach().cpu().tolist())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (bool, str, int)) or value is None:
        return value
    value = float(value)
    return value if math.isfinite(value) else None


def answer(request, name, precision):
    if request.get("op") == "hello":
        return {"name": name, "precision": precision, "operations": OPERATIONS}
    response = {"id": request.get("id")}
    handler = HANDLERS.get(request.get("op"))
    try:
        if handler is None:
            raise adar.ADARError("malformedRequest", "op", f"unknown op {request.get('op')!r}")
        response["output"] = plain(handler(request.get("input", {})))
    except adar.ADARError as error:
        response["error"] = {"kind": error.kind, "field": error.field, "message": error.message}
    except (KeyError, TypeError, ValueError, OverflowError, IndexError) as error:
        # A request the port cannot read: say so rather than pretend it is an ADAR refusal.
        response["error"] = {"kind": "malformedRequest", "field": str(error), "message": repr(error)}
    return response


def serve(name, precision):
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            response = answer(json.loads(line), name, precision)
        except json.JSONDecodeError as error:
            response = {"id": None, "error": {"kind": "malformedRequest", "field": "", "message": str(error)}}
        sys.stdout.write(json.dumps(response, ensure_ascii=False, allow_nan=False) + "\n")
        sys.stdout.flush()  # the runner waits for each line


def write_results(fixtures, path, name, precision):
    """One response line per test of this precision, after the handshake line."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps(answer({"op": "hello"}, name, precision), ensure_ascii=False) + "\n")
        for file_name in sorted(os.listdir(fixtures)):
            if not file_name.endswith(".json"):
                continue
            with open(os.path.join(fixtures, file_name), encoding="utf-8") as f:
                document = json.load(f)
            for group in document.get("testGroups", []):
                if group.get("precision") != precision:
                    continue
                for test in group["tests"]:
                    op = test.get("operation") or group.get("operation") or document.get("operation")
                    request = {"id": f"{file_name}#{test['tcId']}", "op": op, "input": test["input"]}
                    out.write(json.dumps(answer(request, name, precision), ensure_ascii=False, allow_nan=False) + "\n")


def main(argv):
    global DTYPE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--precision", choices=("binary64", "binary32"), default="binary64")
    parser.add_argument("--device", default="cpu",
                        help="torch device for every tensor (e.g. cuda, mps); the S1 tables stay binary64 on the CPU")
    parser.add_argument("--bug", choices=sorted(BUGS), help="switch on one deliberate misconception")
    parser.add_argument("--fixtures", help="fixture folder (with --write-results)")
    parser.add_argument("--write-results", help="write every answer to this file instead of serving stdin")
    options = parser.parse_args(argv)
    if (options.fixtures is None) != (options.write_results is None):
        parser.error("--fixtures and --write-results go together")
    DTYPE = torch.float64 if options.precision == "binary64" else torch.float32
    torch.set_num_threads(1)  # one row per request: threads only add overhead
    torch.set_default_device(options.device)  # every tensor this adapter makes, and so every result
    name = f"pytorch {torch.__version__}" + (f" ({options.bug})" if options.bug else "")
    if options.bug:
        BUGS[options.bug][0]()
    if options.write_results:
        write_results(options.fixtures, options.write_results, name, options.precision)
    else:
        serve(name, options.precision)


if __name__ == "__main__":
    main(sys.argv[1:])
