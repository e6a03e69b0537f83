"""One ADAR-augmented MF-BPR epoch on ML-100K in PyTorch: the peer of `adar-bench --epoch`, run by the bench in
the same invocation.

The training a PyTorch user would write with the port (examples/ports/pytorch/adar_torch.py) and ADARTraining's
defaults: an nn.Embedding of users then items (d = 64, N(0, 0.1²)), batches of 2048 training pairs in a random
order, a pool of M = 16 uniform non-interacted items per row with j = the pool's first candidate (S7), the port's
synthesize (cosine T = 1000, ρ = ½, σ = 0.1, max) under no_grad with noise="randn" (torch.randn, not S8's
Philox), its adar_loss (w = 1, λ = 1e-4, skip, detach; batch mean), autograd and torch.optim.Adam (lr 1e-3,
dense gradients, as the Swift trainer's Adam). float32; a fresh model for each of --threads
(torch.set_num_threads), one warm-up epoch, then --runs timed epochs.

--pairs: the training split adar-bench trains on, int32 (user, item) pairs, 0-based, native byte order.
Prints one JSON line (peer.py).
"""
import argparse

import peer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--items", type=int, required=True)
    args = peer.parse(parser)
    torch, adar = peer.load()
    pairs = peer.read(torch, args.pairs, torch.int32).view(-1, 2).long()
    seconds = peer.timed(torch, args.threads, args.runs, lambda: Trainer(torch, adar, args.users, args.items, pairs).epoch)
    peer.report(torch, seconds, rows=int(pairs.shape[0]), noise="randn")


class Trainer:
    def __init__(self, torch, adar, U, I, pairs, d=64, M=16, batch=2048, lr=1e-3, l2=1e-4, sigma=0.1, seed=1):
        self.torch, self.adar = torch, adar
        self.U, self.I, self.pairs, self.M, self.batch, self.l2, self.sigma = U, I, pairs, M, batch, l2, sigma
        self.generator = torch.Generator().manual_seed(seed)
        self.embedding = torch.nn.Embedding(U + I, d)
        torch.nn.init.normal_(self.embedding.weight, std=0.1, generator=self.generator)
        self.optimizer = torch.optim.Adam(self.embedding.parameters(), lr=lr)
        self.interacted = torch.zeros(U, I, dtype=torch.bool)
        self.interacted[pairs[:, 0], pairs[:, 1]] = True
        self.alpha_bar = adar.alpha_bar("cosine", 1000)

    def candidates(self, users):
        """M uniform items per row that the user has not interacted with (redrawn until none is)."""
        torch = self.torch
        c = torch.randint(0, self.I, (len(users), self.M), generator=self.generator)
        bad = self.interacted[users[:, None], c]
        while bool(bad.any()):
            c[bad] = torch.randint(0, self.I, (int(bad.sum()),), generator=self.generator)
            bad = self.interacted[users[:, None], c]
        return c

    def epoch(self):
        torch, adar, E = self.torch, self.adar, self.embedding
        order = torch.randperm(len(self.pairs), generator=self.generator)
        for start in range(0, len(order), self.batch):
            rows = self.pairs[order[start:start + self.batch]]
            users, items = rows[:, 0], rows[:, 1] + self.U
            pool = self.candidates(rows[:, 0]) + self.U
            e_u, e_pos, e_j = E(users), E(items), E(pool[:, 0])
            with torch.no_grad():
                result = adar.synthesize(e_u, e_pos, E.weight[pool], self.alpha_bar, rho=0.5, sigma=self.sigma,
                                         policy="max", noise="randn", generator=self.generator)
            loss = adar.adar_loss(e_u, e_pos, e_j, result, w=1.0, l2=self.l2)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()


if __name__ == "__main__":
    main()
