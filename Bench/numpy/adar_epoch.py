"""One ADAR-augmented MF epoch on ML-100K in numpy: the comparison for `adar-bench --epoch`.

The same training as `adar train --sampler adar` (spec S3-S7, ADARTraining's defaults):
BPR with j = the pool's first candidate plus w * softplus(-(s0 - <e_u, x->)), pool of M uniform
non-interacted items, s- = max over the pool (S3), rho = 1/2 (so a* = s-/s0, S4.d), the cosine
schedule with T = 1000 (S1), t* by binary search (S4.f), statuses and skip-fallback (S5, S7),
x- detached, L2 lambda/2 (|e_u|^2 + |e_i|^2 + |e_j|^2) per row, batch mean, dense Adam;
binary32 throughout. The noise is numpy's normal generator rather than S8's Philox (drawing
S8's stream in numpy would only make this side slower). Vectorised per batch; no Python loop
over rows.

--pairs: the training split adar-bench trains on, int32 (user, item) pairs, 0-based, native byte order.
Prints one JSON line: {"seconds": [...], "rows": ..., "numpy": version}.
"""
import argparse, json, math, time
import numpy as np


def cosine_schedule(T, s=0.008, max_beta=0.999):
    f = lambda tau: math.cos((tau + s) / (1 + s) * math.pi / 2) ** 2
    betas = [min(1 - f(t / T) / f((t - 1) / T), max_beta) for t in range(1, T + 1)]
    alpha_bar = np.cumprod(1 - np.array(betas, dtype=np.float64))
    alpha_bar = np.concatenate([[1.0], alpha_bar])
    return alpha_bar.astype(np.float32), np.sqrt(alpha_bar).astype(np.float32), np.sqrt(1 - alpha_bar).astype(np.float32)


def softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


class Trainer:
    def __init__(self, U, I, pairs, d=64, M=16, batch=2048, lr=1e-3, l2=1e-4, sigma=0.1, w=1.0, seed=1):
        self.U, self.I, self.pairs, self.d, self.M, self.batch = U, I, pairs, d, M, batch
        self.lr, self.l2, self.sigma, self.w = np.float32(lr), np.float32(l2), np.float32(sigma), np.float32(w)
        self.rng = np.random.default_rng(seed)
        self.P = (self.rng.standard_normal(((U + I), d)) * 0.1).astype(np.float32)
        self.m = np.zeros_like(self.P)
        self.v = np.zeros_like(self.P)
        self.step = 0
        self.interacted = np.zeros((U, I), dtype=bool)
        self.interacted[pairs[:, 0], pairs[:, 1]] = True
        self.ab, self.sab, self.s1mab = cosine_schedule(1000)
        self.ab_rev = self.ab[::-1].copy()  # increasing, for searchsorted

    def candidates(self, users):
        c = self.rng.integers(0, self.I, size=(len(users), self.M))
        bad = self.interacted[users[:, None], c]
        while bad.any():
            c[bad] = self.rng.integers(0, self.I, size=bad.sum())
            bad = self.interacted[users[:, None], c]
        return c

    def epoch(self):
        order = self.rng.permutation(len(self.pairs))
        U, d = self.U, self.d
        for start in range(0, len(order), self.batch):
            rows = self.pairs[order[start:start + self.batch]]
            u, i = rows[:, 0], rows[:, 1] + U
            pool = self.candidates(rows[:, 0]) + U
            j = pool[:, 0]
            P = self.P
            eu, ei, ej = P[u], P[i], P[j]
            ec = P[pool]                                        # B x M x d
            s0 = np.einsum("bd,bd->b", eu, ei)
            sc = np.einsum("bd,bmd->bm", eu, ec)
            s_neg = sc.max(axis=1)                              # S3 max
            n = self.sigma * np.sqrt(np.einsum("bd,bd->b", eu, eu))
            fallback = (n == 0) | (s0 <= s_neg) | (s0 <= 0)     # S5
            # rho = 1/2: a* = s-/s0 where s- >= 0, else no crossing (saturated, t = T).
            with np.errstate(divide="ignore", invalid="ignore"):
                a_star = np.where(s_neg >= 0, s_neg / s0, np.nan)
            target = a_star * a_star
            # t* = min{t >= 1 : ab_t <= target}; ab decreasing.
            t = len(self.ab) - np.searchsorted(self.ab_rev, target, side="right")
            t = np.where(np.isnan(target) | (self.ab[-1] > target), len(self.ab) - 1, np.maximum(t, 1))
            eps = self.rng.standard_normal(eu.shape, dtype=np.float32)
            x_neg = self.sab[t][:, None] * ei + (self.s1mab[t] * self.sigma)[:, None] * eps
            s_syn = np.einsum("bd,bd->b", eu, x_neg)
            real_margin = s0 - sc[:, 0]
            syn_margin = s0 - s_syn
            augment = ~fallback
            real_w = sigmoid(-real_margin)
            syn_w = np.where(augment, self.w * sigmoid(-syn_margin), 0).astype(np.float32)
            B = len(u)
            gu = (-real_w[:, None] * (ei - ej) - syn_w[:, None] * (ei - x_neg) + self.l2 * eu) / B
            gi = ((-real_w - syn_w)[:, None] * eu + self.l2 * ei) / B
            gj = (real_w[:, None] * eu + self.l2 * ej) / B
            G = np.zeros_like(P)
            np.add.at(G, u, gu.astype(np.float32))
            np.add.at(G, i, gi.astype(np.float32))
            np.add.at(G, j, gj.astype(np.float32))
            self.adam(G)

    def adam(self, g, b1=np.float32(0.9), b2=np.float32(0.999), eps=np.float32(1e-8)):
        self.step += 1
        self.m *= b1
        self.m += (1 - b1) * g
        self.v *= b2
        self.v += (1 - b2) * g * g
        c1 = np.float32(1 - 0.9 ** self.step)
        c2 = np.float32(1 - 0.999 ** self.step)
        self.P -= self.lr * (self.m / c1) / (np.sqrt(self.v / c2) + eps)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    pairs = np.fromfile(args.pairs, dtype=np.int32).reshape(-1, 2).astype(np.int64)
    trainer = Trainer(args.users, args.items, pairs)
    trainer.epoch()  # warm-up
    seconds = []
    for _ in range(args.runs):
        start = time.perf_counter()
        trainer.epoch()
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds": seconds, "rows": int(len(pairs)), "numpy": np.__version__}))


if __name__ == "__main__":
    main()
