"""SASRec in PyTorch (CPU) with the Swift harness's data, split, rows, model and evaluation (docs/TRAINING.md "SASRec",
docs/LAYERS.md): the peer for issue 11's parity table. Uniform negatives only (the backbone's correctness anchor).

Same as the Swift side: sequences by timestamp with file-order ties; leave-one-out; S10's rows (the last L + 1 training
items left-padded; every slot whose target is an item is a row, the first item of a short sequence included); pre-norm
blocks, LayerNorm eps 1e-8, causal and key-padding masks (a query with no visible key outputs b_out), dropout on the
embedding, the attention weights and the FFN's two sites; one item table (input scaled by sqrt(d)); BCE over the rows'
mean plus l2·‖E‖²; Adam betas (0.9, 0.98); Xavier-normal init (tables counting items + 1 and L + 1 rows), FFN biases
U(±1/sqrt(d)); full ranking with the history excluded (and included), HR/NDCG@10/20; early stopping on validation
NDCG@10; the test evaluated once at the best epoch.
Different by necessity: the random streams (negatives, shuffles, dropout masks, init) are torch's, so runs agree with
the Swift ones in distribution, not bit for bit; a tie in scores counts the target below (Swift: the expectation).

    python3 Bench/pytorch/sasrec.py --dataset ml-100k --cache data --seed 1 --threads 2

    python3 Bench/pytorch/sasrec.py --dataset ml-100k --cache data --seed 1 --save-initial-weights torch-init-1.json

The second writes torch's initial weights for the seed and exits (for `adar train --model sasrec --initial-weights`).
Otherwise prints one JSON line: per evaluation the epoch, mean loss, epoch seconds and validation metrics; the test metrics.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

from sasrec_swift_streams import epoch_order, negative as swift_negative


def read_rows(path, id_offset):
    rows = []
    with open(path) as handle:
        for line_number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 4:
                sys.exit(f"{path}, line {line_number}: expected 4 tab-separated fields, found {len(fields)}")
            rows.append((int(fields[0]) - id_offset, int(fields[1]) - id_offset, int(fields[3])))
    return rows


def sequences(dataset, cache):
    folder = os.path.join(cache, dataset)
    if dataset == "ml-100k":
        rows = read_rows(os.path.join(folder, "u.data"), 1)
    else:
        rows = read_rows(os.path.join(folder, "train.rating"), 0) + read_rows(os.path.join(folder, "test.rating"), 0)
    users = max(r[0] for r in rows) + 1
    items = max(r[1] for r in rows) + 1
    per_user = [[] for _ in range(users)]
    for row_number, (user, item, timestamp) in enumerate(rows):
        per_user[user].append((timestamp, row_number, item + 1))
    ordered = [[item for _, _, item in sorted(entries)] for entries in per_user]
    train, validation, test = [], [], []
    for items_of_user in ordered:
        if len(items_of_user) < 3:
            train.append(items_of_user); validation.append(0); test.append(0)
        else:
            train.append(items_of_user[:-2]); validation.append(items_of_user[-2]); test.append(items_of_user[-1])
    return items, train, validation, test


def left_padded(items, length):
    kept = items[-length:] if length > 0 else []
    return [0] * (length - len(kept)) + list(kept)


class Block(torch.nn.Module):
    def __init__(self, d, heads, dropout):
        super().__init__()
        self.heads = heads
        self.attention_norm = torch.nn.LayerNorm(d, eps=1e-8)
        self.input_projection = torch.nn.Linear(d, 3 * d)
        self.output_projection = torch.nn.Linear(d, d)
        self.feed_forward_norm = torch.nn.LayerNorm(d, eps=1e-8)
        self.first = torch.nn.Linear(d, d)
        self.second = torch.nn.Linear(d, d)
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, x, visible):
        batch, length, d = x.shape
        dh = d // self.heads
        q, k, v = self.input_projection(self.attention_norm(x)).split(d, dim=-1)
        q, k, v = (t.view(batch, length, self.heads, dh).transpose(1, 2) for t in (q, k, v))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
        scores = scores.masked_fill(~visible[:, None], float("-inf"))
        weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)  # a query with no visible key: all zero
        context = (self.dropout(weights) @ v).transpose(1, 2).reshape(batch, length, d)
        x = x + self.output_projection(context)
        hidden = self.dropout(torch.relu(self.first(self.feed_forward_norm(x))))
        return x + self.dropout(self.second(hidden))


class SASRec(torch.nn.Module):
    def __init__(self, items, d, length, blocks, heads, dropout):
        super().__init__()
        self.d = d
        self.items = torch.nn.Embedding(items + 1, d)
        self.positions = torch.nn.Embedding(length, d)
        self.embedding_dropout = torch.nn.Dropout(dropout)
        self.blocks = torch.nn.ModuleList(Block(d, heads, dropout) for _ in range(blocks))
        self.final_norm = torch.nn.LayerNorm(d, eps=1e-8)
        causal = torch.tril(torch.ones(length, length, dtype=torch.bool))
        self.register_buffer("causal", causal)
        with torch.no_grad():
            for name, parameter in self.named_parameters():
                if parameter.dim() >= 2:
                    fan_out = parameter.shape[0] + (1 if name == "positions.weight" else 0)
                    std = math.sqrt(2.0 / (parameter.shape[1] + fan_out))
                    parameter.normal_(0.0, std)
            self.items.weight[0].zero_()
            for block in self.blocks:
                for bias in (block.input_projection.bias, block.output_projection.bias):
                    bias.zero_()
                for bias in (block.first.bias, block.second.bias):
                    bias.uniform_(-1 / math.sqrt(d), 1 / math.sqrt(d))

    def forward(self, ids):
        present = ids != 0
        x = (self.items(ids) * math.sqrt(self.d) + self.positions.weight[None]) * present[..., None]
        x = self.embedding_dropout(x)
        visible = self.causal[None] & present[:, None, :]
        for block in self.blocks:
            x = block(x, visible)
        return self.final_norm(x)


def bce_terms(h, table, positives, negatives):
    """Per training row (positive ≠ 0), in row order: softplus(-<h, e_pos>) + softplus(<h, e_neg>) (S10)."""
    mask = positives != 0
    positive_scores = (h * table[positives]).sum(-1)[mask]
    negative_scores = (h * table[negatives]).sum(-1)[mask]
    return torch.nn.functional.softplus(-positive_scores) + torch.nn.functional.softplus(negative_scores)


def bce_loss(model, ids, positives, negatives, l2, extra_terms=None):
    """S10's backbone loss: the mean of bce_terms over the rows whose target is an item, plus l2·‖E‖²
    (SASRec.pytorch's l2_emb). `extra_terms(h, table, mask)`, if given, adds a term per row before the mean (the
    ADAR term of sasrec_epoch.py)."""
    table = model.items.weight
    h = model(ids)
    terms = bce_terms(h, table, positives, negatives)
    if extra_terms is not None:
        terms = terms + extra_terms(h, table, positives != 0)
    return terms.mean() + l2 * (table ** 2).sum()


def adam(model, lr, betas=(0.9, 0.98)):
    """The optimiser of every SASRec peer here: SASRec.pytorch's Adam (betas (0.9, 0.98), eps 1e-8)."""
    return torch.optim.Adam(model.parameters(), lr=lr, betas=betas, eps=1e-8)


def backward(model, loss):
    """Gradients of `loss`; the padding row (item 0) never trains."""
    loss.backward()
    model.items.weight.grad[0].zero_()


def train_step(model, optimizer, loss):
    """One training step of every SASRec peer here."""
    optimizer.zero_grad()
    backward(model, loss)
    optimizer.step()


def draw_outside(rng, items, excluded, count):
    out = rng.integers(1, items + 1, size=count)
    for i in range(count):
        while out[i] in excluded:
            out[i] = rng.integers(1, items + 1)
    return out


def evaluate(model, items, histories, targets, length, batch, cutoffs=(10, 20)):
    model.eval()
    users = [u for u in range(len(targets)) if targets[u] != 0]
    sums = {(exclude, k, name): 0.0 for exclude in (True, False) for k in cutoffs for name in ("hr", "ndcg")}
    with torch.no_grad():
        table = model.items.weight
        for first in range(0, len(users), batch):
            chunk = users[first:first + batch]
            ids = torch.tensor([left_padded(histories[u], length) for u in chunk])
            scores = model(ids)[:, -1] @ table.T
            for row, user in enumerate(chunk):
                s = scores[row].clone()
                s[0] = float("-inf")
                target = targets[user]
                for exclude in (True, False):
                    t = s.clone()
                    if exclude:
                        t[[i for i in set(histories[user]) if i != target]] = float("-inf")
                    rank = int((t > t[target]).sum())
                    for k in cutoffs:
                        if rank < k:
                            sums[(exclude, k, "hr")] += 1
                            sums[(exclude, k, "ndcg")] += 1 / math.log2(rank + 2)
    model.train()
    n = max(len(users), 1)
    return {("historyExcluded" if exclude else "historyIncluded"): {f"{name}@{k}": sums[(exclude, k, name)] / n
                                                                    for k in cutoffs for name in ("hr", "ndcg")}
            for exclude in (True, False)}


def save_initial_weights(model, args, items, length):
    """torch's initial weights, flat in model.parameters() order (= SASRecLayout's); the values are binary32, written as
    the binary64 numbers equal to them, so a reader rounding to binary32 gets them back bit for bit."""
    flat = torch.nn.utils.parameters_to_vector(model.parameters()).detach()
    shape = {"items": items, "dimension": args.dim, "length": length, "blocks": args.blocks, "heads": args.heads}
    with open(args.save_initial_weights, "w") as handle:
        json.dump({"seed": args.seed, "dataset": args.dataset, "torch": torch.__version__, **shape,
                   "parameters": flat.double().tolist()}, handle, allow_nan=False)
        handle.write("\n")
    print(f"sasrec.py: torch's initial weights for seed {args.seed} ({flat.numel()} parameters) written to "
          f"{args.save_initial_weights}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=["ml-100k", "ml-1m"], default="ml-100k")
    parser.add_argument("--cache", default="data")
    parser.add_argument("--max-length", type=int)
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--heads", type=int, default=1)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--l2", type=float, default=0.0)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--eval-every", type=int, default=5)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--swift-streams", action="store_true", help="draw the epoch order and the negatives as the "
                        "Swift trainer does (sasrec_swift_streams.py), not from numpy; dropout stays torch's")
    parser.add_argument("--initial-weights", help="start from these weights instead of torch's init: the JSON line "
                        "`adar sasrec-gradient` prints (its \"parameters\", SASRecLayout's order = model.parameters())")
    parser.add_argument("--save-initial-weights", metavar="FILE", help="write torch's initial weights for --seed (and the "
                        "data's shape) to FILE as {\"parameters\": [...]} in that same order, which `adar train --model "
                        "sasrec --initial-weights FILE` and --initial-weights read, then exit without training")
    args = parser.parse_args()
    if args.save_initial_weights and args.initial_weights:
        parser.error("--save-initial-weights writes torch's own init; leave out --initial-weights")
    length = args.max_length or (200 if args.dataset == "ml-1m" else 50)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    items, train, validation, test = sequences(args.dataset, args.cache)
    model = SASRec(items, args.dim, length, args.blocks, args.heads, args.dropout)
    if args.initial_weights:
        with open(args.initial_weights) as handle:
            flat = torch.tensor(json.load(handle)["parameters"], dtype=torch.float32)
        if flat.numel() != sum(p.numel() for p in model.parameters()):
            sys.exit(f"{args.initial_weights}: {flat.numel()} parameters, the model has {sum(p.numel() for p in model.parameters())}")
        torch.nn.utils.vector_to_parameters(flat, model.parameters())
    if args.save_initial_weights:
        save_initial_weights(model, args, items, length)
        return
    optimizer = adam(model, args.lr)
    trained_users = [u for u in range(len(train)) if train[u]]
    training_sets = [set(t) for t in train]
    rows = {u: (left_padded(train[u], length + 1)) for u in trained_users}
    best, best_epoch, best_state, without, evaluations = -1.0, 0, None, 0, []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = epoch_order(args.seed, epoch, trained_users) if args.swift_streams else rng.permutation(trained_users)
        loss_sum, row_count = 0.0, 0
        for first in range(0, len(order), args.batch):
            chunk = order[first:first + args.batch]
            slots = torch.tensor([rows[u] for u in chunk])
            ids, positives = slots[:, :-1], slots[:, 1:]
            mask = positives != 0
            negatives = torch.zeros_like(positives)
            for row, user in enumerate(chunk):
                count = int(mask[row].sum())
                if args.swift_streams:  # S10's row number b = s·L + p, s the sequence's place in the epoch's order
                    negatives[row, length - count:] = torch.tensor([
                        swift_negative(args.seed, epoch, (first + row) * length + p, training_sets[user], items)
                        for p in range(length - count, length)])
                else:
                    negatives[row, length - count:] = torch.from_numpy(draw_outside(rng, items, training_sets[user], count))
            loss = bce_loss(model, ids, positives, negatives, args.l2)
            train_step(model, optimizer, loss)
            loss_sum += float(loss) * int(mask.sum())
            row_count += int(mask.sum())
        seconds = time.perf_counter() - start
        if epoch % args.eval_every == 0 or epoch == args.epochs:
            metrics = evaluate(model, items, train, validation, length, args.batch)
            value = metrics["historyExcluded"]["ndcg@10"]
            evaluations.append({"epoch": epoch, "loss": loss_sum / max(row_count, 1), "epochSeconds": seconds, "validation": metrics})
            print(f"sasrec.py: epoch {epoch} loss {loss_sum / max(row_count, 1):.4f} {seconds:.1f} s val N@10 {value:.4f}",
                  file=sys.stderr, flush=True)
            if value > best:
                best, best_epoch, without = value, epoch, 0
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
            else:
                without += 1
                if without >= args.patience:
                    break
    model.load_state_dict(best_state)
    histories = [train[u] + ([validation[u]] if validation[u] else []) for u in range(len(train))]
    result = evaluate(model, items, histories, test, length, args.batch)
    print(json.dumps({"dataset": args.dataset, "seed": args.seed, "maxLength": length, "bestEpoch": best_epoch,
                      "bestValidationNDCG@10": best, "test": result, "evaluations": evaluations,
                      "torch": torch.__version__, "threads": args.threads, "swiftStreams": args.swift_streams,
                      "initialWeights": args.initial_weights}))


if __name__ == "__main__":
    main()
