"""Same-weights check of the SASRec backbone (issue 11 §3): the Swift SASRec (`adar sasrec-gradient`, hidden) and the
PyTorch peer (sasrec.py's model and loss) on identical weights and one fixed batch, dropout off.

1. Gradients. Swift initialises the weights (its own seeded init) and computes the BCE loss and every parameter's
   gradient in binary32; the peer loads those weights (the flat array is `model.parameters()` concatenated: the two
   layouts are the same, docs/LAYERS.md) and computes the same in binary32 and binary64. Per tensor the error is
   normwise, ‖g − g₆₄‖∞/‖g₆₄‖∞, for Swift and for torch's own binary32. Tolerance, from the usual forward-error
   argument: each value is reached through at most D rounded layers (D = 8·blocks + 8, forward and backward), each
   a sum of at most N products (N = the batch's rows B·L, the weight gradients' reduction), so a binary32 result
   is off by at most about D·N·u times the magnitudes summed, u = 2⁻²⁴; the normwise error is then below D·N·u
   unless sums cancel far beyond their scale, which the seeds here do not. A structural difference (mask, norm
   placement, scaling, padding) is off by O(1). Every LayerMutation of the Swift side must fail the same check.
2. Evaluation. The validation ranking (leave-one-out, history excluded, HR/NDCG@10/20) of the same weights on a
   synthetic set: Swift's `SASRecTrainer.evaluate` against sasrec.py's `evaluate`, to the same ranks; the peer with
   the history included must differ.
3. Adam steps. Swift's `SASRecTrainer` (as `adar train --model sasrec` trains: epoch order, S10's rows, uniform
   negatives, dropout masks, Adam with SASRec.pytorch's betas, the gradient buffer reused across steps) takes K steps
   from its initial weights over two epochs of a synthetic set; the peer takes the same K steps (sasrec.py's loss and
   torch.optim.Adam as in sasrec.py, Swift's rows, negatives and masks) from the same weights. Checked independently
   of Swift: each epoch's users are a permutation of the users with a training item, each step's rows are the last
   L + 1 training items left-padded, every negative lies outside the user's training items (and is not padding); and
   sasrec_swift_streams.py (sasrec.py --swift-streams) must reproduce the order and every negative bit for bit.
   Compared after each step: the parameters' change since the start, normwise against torch's binary64 run, Swift's
   error beside torch's own binary32 error; Swift must stay within 10× torch's binary32 error (floored at 1e-4).
   Left out: the key projection's bias, whose gradient is exactly zero in exact arithmetic (a softmax does not see a
   shift common to all keys) — Adam's m/√v turns its rounding-level binary32 gradient into steps of up to lr in either
   direction, in torch's binary32 as in Swift's, with no effect on any output. Planted: the peer with β₂ = 0.999 and
   the peer without bias correction must disagree.
4. Initial distribution. For ML-100K's shape, Swift's initial tensors and the peer's (torch's RNG) must agree:
   constants exactly, random tensors by a two-sample Kolmogorov–Smirnov test at α = 10⁻³ (the test must reject the
   peer's item table against PyTorch's default Embedding init, N(0, 1)).

    python3 Bench/pytorch/sasrec_same_weights.py .build/debug/adar

Exit status 0 when everything agrees and every planted bug is caught; 1 otherwise.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "examples", "ports", "pytorch")]
from sasrec import SASRec, adam, backward, bce_loss, draw_outside, evaluate, left_padded, train_step  # noqa: E402
from adar_torch import philox4x32  # noqa: E402
from sasrec_swift_streams import epoch_order, negative as swift_negative  # noqa: E402

UNIT_ROUNDOFF = 2.0 ** -24
MUTATIONS = ["embeddingWithoutScale", "causalMaskOffByOne", "layerNormUnbiasedVariance", "leakyFeedForward",
             "negativeTermSignFlipped"]


def fixed_batch(seed, items, length, training_lengths):
    """S10's rows of one sequence per training length (distinct items; longer than L + 1 is truncated): ids, positives,
    negatives (one item outside the sequence per row, 0 on padding rows)."""
    rng = np.random.default_rng(seed)
    ids, positives, negatives = [], [], []
    for n in training_lengths:
        sequence = [int(i) for i in rng.choice(np.arange(1, items + 1), size=n, replace=False)]
        slots = left_padded(sequence, length + 1)
        ids.append(slots[:-1])
        positives.append(slots[1:])
        negatives.append([0 if p == 0 else int(draw_outside(rng, items, set(sequence), 1)[0]) for p in slots[1:]])
    return ids, positives, negatives


def swift(adar, request, mutation=None):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(request, handle)
        path = handle.name
    try:
        command = [adar, "sasrec-gradient", "--input", path] + (["--mutation", mutation] if mutation else [])
        done = subprocess.run(command, capture_output=True, text=True)
    finally:
        os.unlink(path)
    if done.returncode != 0:
        sys.exit(f"sasrec_same_weights: `{' '.join(command)}` exited {done.returncode}: {done.stderr.strip()}")
    return json.loads(done.stdout)


class SwiftDropout(torch.nn.Module):
    """Swift's training masks (Sources/ADARLayers/Dropout.swift) in place of one of the peer's nn.Dropout: component k
    of global row b at site σ in epoch E is kept iff lane k mod 4 of Philox (S8) on counter
    (⌊k/4⌋, b mod 2³², E, 0xD0000000 + σ) with the seed's key is ≥ ⌊rate·2³²⌉. Rows are (sequence, slot) = s·L + p;
    for the attention weights (B, heads, L, L) the row is the query's and the component h·L + key. `sites` are the
    sites of the module's successive calls in one forward (a block's one module serves three)."""

    def __init__(self, spec, sites):
        super().__init__()
        self.spec, self.sites, self.calls = spec, sites, 0
        self.threshold = min(math.floor(spec["rate"] * 2 ** 32 + 0.5), 2 ** 32 - 1)

    def keep(self, rows, components, site):
        b = (torch.arange(rows, dtype=torch.int64) + self.spec["rowOffset"]) & 0xFFFFFFFF
        k = torch.arange(components, dtype=torch.int64)
        shape = (rows, components)
        counter = [(k // 4).expand(shape), b[:, None].expand(shape), torch.full(shape, self.spec["epoch"], dtype=torch.int64),
                   torch.full(shape, 0xD0000000 + site, dtype=torch.int64)]
        seed = self.spec["seed"]
        words = torch.stack(philox4x32(*counter, seed & 0xFFFFFFFF, seed >> 32), dim=-1)
        return words.gather(-1, (k % 4).expand(shape)[..., None])[..., 0] >= self.threshold

    def forward(self, x):
        site = self.sites[self.calls % len(self.sites)]
        self.calls += 1
        if x.dim() == 3:  # (B, L, width)
            keep = self.keep(x.shape[0] * x.shape[1], x.shape[2], site).view(x.shape)
        else:  # attention weights (B, heads, L, L)
            batch, heads, length, _ = x.shape
            keep = self.keep(batch * length, heads * length, site).view(batch, length, heads, length).transpose(1, 2)
        return x * (keep.to(x.dtype) * (1.0 / (1.0 - self.spec["rate"])))


def peer(shape, parameters, batch, dtype, dropout=None):
    """Loss, h (of the same training-mode forward) and per-tensor gradients of the peer at the given flat weights;
    `dropout` ({"rate", "seed", "epoch", "rowOffset"}) puts Swift's masks in place of torch's."""
    torch.manual_seed(0)  # the init is overwritten; only the module's shapes matter
    rate = dropout["rate"] if dropout else 0.0
    model = SASRec(shape["items"], shape["dimension"], shape["length"], shape["blocks"], shape["heads"], rate).to(dtype)
    if dropout:
        model.embedding_dropout = SwiftDropout(dropout, [0])
        for i, block in enumerate(model.blocks):
            block.dropout = SwiftDropout(dropout, [1 + 3 * i, 2 + 3 * i, 3 + 3 * i])
    flat = torch.tensor(parameters, dtype=torch.float32).to(dtype)
    count = sum(p.numel() for p in model.parameters())
    if flat.numel() != count:
        sys.exit(f"sasrec_same_weights: Swift's layout has {flat.numel()} parameters, the peer {count}: the layouts differ")
    torch.nn.utils.vector_to_parameters(flat, model.parameters())
    ids, positives, negatives = (torch.tensor(x) for x in batch)
    loss = bce_loss(model, ids, positives, negatives, 0.0)
    backward(model, loss)
    with torch.no_grad():
        hidden = model(ids)
    return (float(loss.detach()), hidden.double().flatten(),
            [(name, p.grad.double().flatten()) for name, p in model.named_parameters()])


def normwise(value, reference):
    scale = float(reference.abs().max())
    difference = float((value - reference).abs().max())
    return difference / scale if scale > 0 else (0.0 if difference == 0 else math.inf)


def compare(shape, answer, batch, dropout=None):
    """Worst normwise error of Swift and of torch's binary32 against torch's binary64, per quantity."""
    loss32, hidden32, grads32 = peer(shape, answer["parameters"], batch, torch.float32, dropout)
    loss64, hidden64, grads64 = peer(shape, answer["parameters"], batch, torch.float64, dropout)
    swift_gradient = torch.tensor(answer["gradient"], dtype=torch.float64)
    rows = []
    rows.append(("loss", abs(answer["loss"] - loss64) / abs(loss64), abs(loss32 - loss64) / abs(loss64)))
    rows.append(("h (final layer norm)", normwise(torch.tensor(answer["hidden"], dtype=torch.float64), hidden64),
                 normwise(hidden32, hidden64)))
    offset = 0
    for (name, g64), (_, g32) in zip(grads64, grads32):
        rows.append((f"∂L/∂{name}", normwise(swift_gradient[offset:offset + g64.numel()], g64), normwise(g32, g64)))
        offset += g64.numel()
    return rows


def gradient_check(adar, shape, seed, training_lengths, dropout=None):
    ids, positives, negatives = fixed_batch(seed, shape["items"], shape["length"], training_lengths)
    request = dict(shape, seed=seed, ids=ids, positives=positives, negatives=negatives)
    if dropout:
        request["dropout"] = dropout
    rows_summed = len(ids) * shape["length"]
    depth = 8 * shape["blocks"] + 8
    tolerance = depth * rows_summed * UNIT_ROUNDOFF
    answer = swift(adar, request)
    table = compare(shape, answer, (ids, positives, negatives), dropout)
    worst = max(table, key=lambda row: row[1])
    print(f"shape {shape}, {len(ids)} sequences (training lengths {training_lengths}), {answer['rows']} rows, "
          f"Swift's init seed {seed}, dropout {dropout or 'off'}; tolerance D·N·u = {depth}·{rows_summed}·2⁻²⁴ = {tolerance:.2e}")
    print(f"  {'quantity':<46} {'Swift vs f64':>13} {'torch f32 vs f64':>17}")
    for name, swift_error, torch_error in table:
        print(f"  {name:<46} {swift_error:13.2e} {torch_error:17.2e}")
    passed = worst[1] <= tolerance
    print(f"  worst: {worst[0]} {worst[1]:.2e} {'≤' if passed else '>'} {tolerance:.2e}: "
          f"{'AGREE' if passed else 'DISAGREE'}")
    caught_all = True
    if dropout:  # the masks must matter: the peer with another epoch's masks disagrees
        other = dict(dropout, epoch=dropout["epoch"] + 1)
        worst_other = max(compare(shape, answer, (ids, positives, negatives), other), key=lambda row: row[1])
        caught_all &= worst_other[1] > tolerance
        print(f"  peer with epoch {other['epoch']}'s masks: worst {worst_other[0]} {worst_other[1]:.2e}: "
              f"{'caught' if worst_other[1] > tolerance else 'NOT CAUGHT'}")
    for mutation in MUTATIONS:
        broken = compare(shape, swift(adar, request, mutation), (ids, positives, negatives), dropout)
        worst_broken = max(broken, key=lambda row: row[1])
        caught = worst_broken[1] > tolerance
        caught_all &= caught
        print(f"  planted bug {mutation}: worst {worst_broken[0]} {worst_broken[1]:.2e}: "
              f"{'caught' if caught else 'NOT CAUGHT'}")
    return passed and caught_all


def evaluation_check(adar, shape, seed, users):
    """The validation ranking (leave-one-out, history excluded, HR/NDCG@10/20) of the same weights: Swift's
    `SASRecTrainer.evaluate` (through sasrec-gradient's "evaluation") against sasrec.py's `evaluate`. Scores are
    binary32 dot products summed in different orders, so a rank may flip only between two items whose scores
    differ by a few ulps: none is expected, and each would move a metric by at most 1/users."""
    rng = np.random.default_rng(seed)
    sequences = [[int(i) for i in rng.choice(np.arange(1, shape["items"] + 1), size=int(n), replace=False)]
                 for n in rng.integers(3, 2 * shape["length"], size=users)]
    ids, positives, negatives = fixed_batch(seed, shape["items"], shape["length"], [3])
    answer = swift(adar, dict(shape, seed=seed, ids=ids, positives=positives, negatives=negatives,
                              evaluation=dict(sequences=sequences)))
    torch.manual_seed(0)
    model = SASRec(shape["items"], shape["dimension"], shape["length"], shape["blocks"], shape["heads"], 0.0)
    torch.nn.utils.vector_to_parameters(torch.tensor(answer["parameters"], dtype=torch.float32), model.parameters())
    train, validation = [s[:-2] for s in sequences], [s[-2] for s in sequences]
    both = evaluate(model, shape["items"], train, validation, shape["length"], 128)
    theirs = both["historyExcluded"]
    print(f"validation ranking of Swift's initial weights, shape {shape}, {users} users (history excluded):")
    worst = 0.0
    for metric in ("hr@10", "ndcg@10", "hr@20", "ndcg@20"):
        difference = abs(answer["validation"][metric] - theirs[metric])
        worst = max(worst, difference)
        print(f"  {metric:<8} Swift {answer['validation'][metric]:.6f}  peer {theirs[metric]:.6f}  |Δ| {difference:.1e}")
    passed = worst <= 1e-9
    print(f"  {'AGREE' if passed else 'DISAGREE'} (|Δ| ≤ 1e-9: the same ranks)")
    # The check must see a convention change: the peer ranking the history too.
    included = max(abs(answer["validation"][m] - both["historyIncluded"][m]) for m in theirs)
    print(f"  negative case: the peer with the history included: worst |Δ| {included:.1e}: "
          f"{'caught' if included > 1e-9 else 'NOT CAUGHT'}")
    return passed and included > 1e-9


ADAM_FACTOR, ADAM_FLOOR = 10.0, 1e-4


def peer_steps(shape, initial, steps, dtype, rate, lr, betas=(0.9, 0.98), bias_correction=True):
    """The peer's parameters after each of Swift's training steps (its rows, negatives and masks), flat, in `dtype`."""
    torch.manual_seed(0)  # the init is overwritten
    model = SASRec(shape["items"], shape["dimension"], shape["length"], shape["blocks"], shape["heads"], rate).to(dtype)
    torch.nn.utils.vector_to_parameters(torch.tensor(initial, dtype=torch.float32).to(dtype), model.parameters())
    optimizer = adam(model, lr, betas)
    length, after = shape["length"], []
    for step in steps:
        spec = dict(rate=rate, seed=shape["seed"], epoch=step["epoch"], rowOffset=step["rowOffset"])
        model.embedding_dropout = SwiftDropout(spec, [0])
        for i, block in enumerate(model.blocks):
            block.dropout = SwiftDropout(spec, [1 + 3 * i, 2 + 3 * i, 3 + 3 * i])
        ids, positives, negatives = (torch.tensor(step[k]).view(-1, length) for k in ("ids", "positives", "negatives"))
        if bias_correction:
            train_step(model, optimizer, bce_loss(model, ids, positives, negatives, 0.0))
        else:  # the planted bug: Adam without its bias corrections
            optimizer.zero_grad()
            backward(model, bce_loss(model, ids, positives, negatives, 0.0))
            with torch.no_grad():
                for p in model.parameters():
                    state = optimizer.state.setdefault(p, {"m": torch.zeros_like(p), "v": torch.zeros_like(p)})
                    state["m"].mul_(betas[0]).add_(p.grad, alpha=1 - betas[0])
                    state["v"].mul_(betas[1]).addcmul_(p.grad, p.grad, value=1 - betas[1])
                    p.sub_(lr * state["m"] / (state["v"].sqrt() + 1e-8))
        after.append(torch.nn.utils.parameters_to_vector(model.parameters()).detach().double())
    return after


def key_bias(shape):
    """The flat mask of every block's key-projection bias (the middle third of input_projection.bias)."""
    model = SASRec(shape["items"], shape["dimension"], shape["length"], shape["blocks"], shape["heads"], 0.0)
    mask, d = [], shape["dimension"]
    for name, parameter in model.named_parameters():
        part = torch.zeros(parameter.numel(), dtype=torch.bool)
        if name.endswith("input_projection.bias"):
            part[d:2 * d] = True
        mask.append(part)
    return torch.cat(mask)


def independent_rows(shape, sequences, steps, batch):
    """What the Swift steps must be, derived here: each epoch's order a permutation of the users with a training
    item, batches of `batch` in that order, rows = left_padded(train, L + 1), negatives outside the training items.
    Returns the first problem found, or None."""
    length, train = shape["length"], [s[:-2] if len(s) >= 3 else s for s in sequences]
    trained = sorted(u for u in range(len(train)) if train[u])
    by_epoch = {}
    for number, step in enumerate(steps):
        by_epoch.setdefault(step["epoch"], []).append(step)
        slots = [left_padded(train[u], length + 1) for u in step["users"]]
        if step["ids"] != [i for s in slots for i in s[:-1]] or step["positives"] != [i for s in slots for i in s[1:]]:
            return f"step {number + 1}: the rows are not the users' last L + 1 training items left-padded"
        for r, (positive, negative) in enumerate(zip(step["positives"], step["negatives"])):
            user = step["users"][r // length]
            if (positive == 0) != (negative == 0) or (negative != 0 and negative in train[user]):
                return f"step {number + 1}, row {r}: negative {negative} for user {user} (positive {positive})"
    for epoch, epoch_steps in by_epoch.items():
        users = [u for step in epoch_steps for u in step["users"]]
        offsets = [step["rowOffset"] for step in epoch_steps]
        if offsets != [i * batch * length for i in range(len(epoch_steps))]:
            return f"epoch {epoch}: row offsets {offsets} are not s·L for the batches' first sequences"
        if len(set(users)) != len(users) or not set(users) <= set(trained):
            return f"epoch {epoch}: the users {users} are not part of a permutation of the users with a training item"
        if len(epoch_steps) * batch >= len(trained) and sorted(users) != trained:
            return f"epoch {epoch}: a full epoch did not visit every user with a training item once"
    return None


def adam_steps_check(adar, shape, seed, users, batch, steps_count, rate=0.2, lr=1e-3):
    rng = np.random.default_rng(seed)
    sequences = [[int(i) for i in rng.choice(np.arange(1, shape["items"] + 1), size=int(n), replace=False)]
                 for n in rng.integers(3, 2 * shape["length"], size=users)]
    ids, positives, negatives = fixed_batch(seed, shape["items"], shape["length"], [3])
    request = dict(shape, seed=seed, ids=ids, positives=positives, negatives=negatives,
                   dropout=dict(rate=rate, seed=seed, epoch=1, rowOffset=0),
                   training=dict(sequences=sequences, batchSize=batch, steps=steps_count, learningRate=lr))
    answer = swift(adar, request)
    steps = answer["training"]
    initial = answer["parameters"]
    print(f"Adam steps, shape {shape}, {users} users, batch {batch}, {steps_count} steps (epochs "
          f"{sorted(set(s['epoch'] for s in steps))}), dropout {rate}, lr {lr}, seed {seed}:")
    problem = independent_rows(dict(shape, seed=seed), sequences, steps, batch)
    print(f"  order, rows and negatives derived independently: {problem or 'as expected'}")
    # sasrec.py --swift-streams must draw what Swift draws: the order and every negative, bit for bit.
    train = [q[:-2] if len(q) >= 3 else q for q in sequences]
    trained = [u for u in range(len(train)) if train[u]]
    length = shape["length"]
    same_streams = all(
        [u for t in steps if t["epoch"] == e for u in t["users"]]
        == epoch_order(seed, e, trained)[:sum(len(t["users"]) for t in steps if t["epoch"] == e)]
        for e in {t["epoch"] for t in steps}) and all(
        swift_negative(seed, t["epoch"], t["rowOffset"] + r, set(train[t["users"][r // length]]), shape["items"]) == n
        for t in steps for r, n in enumerate(t["negatives"]) if n != 0)
    print(f"  sasrec_swift_streams.py's order and negatives against Swift's: {'the same' if same_streams else 'DIFFERENT'}")
    # The derivation must see a negative drawn from the user's training items.
    first = steps[0]
    row = next(r for r, p in enumerate(first["positives"]) if p != 0)
    planted_negative = [dict(first, negatives=first["negatives"][:row] + [first["positives"][row]] + first["negatives"][row + 1:])]
    caught_negative = independent_rows(dict(shape, seed=seed), sequences, planted_negative, batch) is not None
    print(f"  planted: a training item as a negative: {'caught' if caught_negative else 'NOT CAUGHT'}")
    shape = dict(shape, seed=seed)
    keys = key_bias(shape)
    start = torch.tensor(initial, dtype=torch.float64)[~keys]
    reference = peer_steps(shape, initial, steps, torch.float64, rate, lr)
    single = peer_steps(shape, initial, steps, torch.float32, rate, lr)
    planted = {"β₂ = 0.999": peer_steps(shape, initial, steps, torch.float32, rate, lr, betas=(0.9, 0.999)),
               "no bias correction": peer_steps(shape, initial, steps, torch.float32, rate, lr, bias_correction=False)}
    print(f"  {'step':>4} {'epoch':>5} {'Swift vs f64':>13} {'torch f32 vs f64':>17} {'bound':>9}  "
          + "  ".join(f"{name:>18}" for name in planted))
    passed, caught = problem is None, {name: False for name in planted}
    for number, step in enumerate(steps):
        moved = reference[number][~keys] - start
        swift_error = normwise(torch.tensor(step["parameters"], dtype=torch.float64)[~keys] - start, moved)
        torch_error = normwise(single[number][~keys] - start, moved)
        bound = max(ADAM_FACTOR * torch_error, ADAM_FLOOR)
        planted_errors = {name: normwise(after[number][~keys] - start, moved) for name, after in planted.items()}
        for name, error in planted_errors.items():
            caught[name] |= error > bound
        passed &= swift_error <= bound
        print(f"  {number + 1:>4} {step['epoch']:>5} {swift_error:13.2e} {torch_error:17.2e} {bound:9.2e}  "
              + "  ".join(f"{planted_errors[name]:18.2e}" for name in planted))
    print(f"  {'AGREE' if passed else 'DISAGREE'} (Swift's change ≤ max(10 × torch f32's, 1e-4) at every step)")
    for name, was in caught.items():
        print(f"  planted bug, the peer with {name}: {'caught' if was else 'NOT CAUGHT'}")
    return passed and same_streams and caught_negative and all(caught.values())


def ks_statistic(a, b):
    a, b = np.sort(a), np.sort(b)
    values = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, values, side="right") / len(a)
                               - np.searchsorted(b, values, side="right") / len(b))))


def ks_critical(n, m, alpha=1e-3):
    return math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))


def init_check(adar, shape, seed):
    ids, positives, negatives = fixed_batch(seed, shape["items"], shape["length"], [3])
    swift_parameters = np.array(swift(adar, dict(shape, seed=seed, ids=ids, positives=positives,
                                                 negatives=negatives))["parameters"], dtype=np.float64)
    torch.manual_seed(seed)
    model = SASRec(shape["items"], shape["dimension"], shape["length"], shape["blocks"], shape["heads"], 0.2)
    print(f"initial distribution, shape {shape}, seed {seed}: Swift's init against the peer's "
          f"(two-sample Kolmogorov–Smirnov, α = 1e-3; constants exactly)")
    passed, offset = True, 0
    for name, parameter in model.named_parameters():
        theirs = parameter.detach().double().flatten().numpy()
        ours = swift_parameters[offset:offset + theirs.size]
        offset += theirs.size
        if name == "items.weight":  # row 0 is padding: zero in both, the rest random
            constant_ok = not ours[:shape["dimension"]].any() and not theirs[:shape["dimension"]].any()
            ours, theirs = ours[shape["dimension"]:], theirs[shape["dimension"]:]
        else:
            constant_ok = True
        if np.all(theirs == theirs[0]):
            ok = constant_ok and np.array_equal(ours, theirs)
            print(f"  {name:<40} constant {theirs[0]:g}: {'same' if ok else 'DIFFERENT'}")
        else:
            statistic, critical = ks_statistic(ours, theirs), ks_critical(ours.size, theirs.size)
            ok = constant_ok and statistic <= critical
            print(f"  {name:<40} std Swift {ours.std():.4f} torch {theirs.std():.4f}; KS {statistic:.3f} "
                  f"{'≤' if statistic <= critical else '>'} {critical:.3f}: {'same' if ok else 'DIFFERENT'}")
        passed &= ok
    default_items = torch.nn.Embedding(shape["items"] + 1, shape["dimension"]).weight.detach().double().flatten().numpy()
    statistic = ks_statistic(swift_parameters[:default_items.size], default_items)
    rejects = statistic > ks_critical(default_items.size, default_items.size)
    print(f"  negative case: Swift's item table against nn.Embedding's default N(0, 1): KS {statistic:.3f}: "
          f"{'rejected' if rejects else 'NOT REJECTED'}")
    return passed and rejects


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("adar", help="the adar executable (e.g. .build/debug/adar)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    torch.set_num_threads(1)
    # Short sequences (a lone item: its only row reads padding), one of exactly L + 1 items and a truncated one.
    lengths = [1, 2, 5, 9, 13, 20]
    ok = gradient_check(args.adar, dict(items=40, dimension=8, length=12, blocks=2, heads=1), args.seed, lengths)
    ok &= gradient_check(args.adar, dict(items=40, dimension=8, length=12, blocks=2, heads=2), args.seed + 1, lengths)
    # Training mode: the peer's dropouts take Swift's masks, so placement and scaling are compared too.
    dropout = dict(rate=0.2, seed=args.seed, epoch=3, rowOffset=5 * 12)
    ok &= gradient_check(args.adar, dict(items=40, dimension=8, length=12, blocks=2, heads=2), args.seed + 2, lengths, dropout)
    ok &= evaluation_check(args.adar, dict(items=300, dimension=16, length=12, blocks=2, heads=1), args.seed, 400)
    # 11 users in batches of 4: three steps an epoch (the last one short), so 8 steps reach into epoch 3.
    ok &= adam_steps_check(args.adar, dict(items=60, dimension=8, length=12, blocks=2, heads=1), args.seed, 11, 4, 8)
    ok &= init_check(args.adar, dict(items=1682, dimension=50, length=50, blocks=2, heads=1), args.seed)
    print("same-weights check: " + ("PASS" if ok else "FAIL"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
