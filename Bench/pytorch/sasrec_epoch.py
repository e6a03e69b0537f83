"""adar-bench's SASRec epoch peer (issue 11 §3 speed): one training epoch of sasrec.py's model, loss and training
step (bce_loss, adam, train_step: the parity-checked peer's) on the training sequences adar-bench wrote, uniform or
with ADAR.

Rows as S10 (the last L + 1 items left-padded; every slot whose target is an item), batches of `--batch`
sequences in a torch-shuffled order, negatives drawn uniformly outside the user's training sequence (vectorised
rejection). ADAR: the port's `synthesize` (noise="randn", ρ = ½, σ = 0.1, max policy, cosine T = 1000) on every
training row with e_u = h_p, x_0 the positive's row and M = 16 candidates (j the first); the term
w·softplus(⟨h_p, x⁻⟩) (x⁻ detached, fallback rows skipped, w = 1) joins the rows' mean. Prints one JSON line (peer.py)
with the peak resident set size of this process.
"""
import argparse
import resource

import peer
from sasrec import SASRec, adam, bce_loss, train_step


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lengths", required=True, help="int32 per user: the training sequence's length")
    parser.add_argument("--sequences", required=True, help="int32: the training sequences, concatenated (items 1…I)")
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--max-length", type=int, required=True)
    parser.add_argument("--sampler", choices=["uniform", "adar"], required=True)
    parser.add_argument("--batch", type=int, default=128)
    args = peer.parse(parser)
    torch, adar = peer.load()
    lengths = peer.read(torch, args.lengths, torch.int32).long()
    items = peer.read(torch, args.sequences, torch.int32).long()
    seconds = peer.timed(torch, args.threads, args.runs,
                         lambda: Trainer(torch, adar, lengths, items, args.items, args.max_length, args.sampler, args.batch).epoch)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kB
    peer.report(torch, seconds, sampler=args.sampler, peakRSSBytes=peak, noise="randn")


class Trainer:
    def __init__(self, torch, adar, lengths, sequences, items, length, sampler, batch, seed=1, pool=16):
        self.torch, self.adar, self.items, self.sampler, self.batch = torch, adar, items, sampler, batch
        self.pool = pool if sampler == "adar" else 1
        torch.manual_seed(seed)
        self.generator = torch.Generator().manual_seed(seed)
        self.model = SASRec(items, 50, length, 2, 1, 0.2)
        self.optimizer = adam(self.model, 1e-3)
        users = len(lengths)
        self.rows = torch.zeros(users, length + 1, dtype=torch.long)
        self.interacted = torch.zeros(users, items + 1, dtype=torch.bool)
        self.interacted[:, 0] = True  # padding is never drawn
        offsets = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)])
        for user in range(users):
            sequence = sequences[offsets[user]:offsets[user + 1]]
            kept = sequence[-(length + 1):]
            self.rows[user, length + 1 - len(kept):] = kept
            self.interacted[user, sequence] = True
        self.trained = torch.nonzero(lengths > 0).flatten()
        self.alpha_bar = adar.alpha_bar("cosine", 1000)

    def candidates(self, owners):
        """`pool` items per row outside its user's training sequence (redrawn until none is)."""
        torch = self.torch
        c = torch.randint(1, self.items + 1, (len(owners), self.pool), generator=self.generator)
        bad = self.interacted[owners[:, None], c]
        while bool(bad.any()):
            c[bad] = torch.randint(1, self.items + 1, (int(bad.sum()),), generator=self.generator)
            bad = self.interacted[owners[:, None], c]
        return c

    def epoch(self):
        torch, adar, model = self.torch, self.adar, self.model
        order = self.trained[torch.randperm(len(self.trained), generator=self.generator)]
        for start in range(0, len(order), self.batch):
            users = order[start:start + self.batch]
            slots = self.rows[users]
            ids, positives = slots[:, :-1], slots[:, 1:]
            mask = positives != 0
            pool = self.candidates(users[:, None].expand_as(positives)[mask])
            negatives = torch.zeros_like(positives)
            negatives[mask] = pool[:, 0]
            extra = self.adar_terms(pool, positives) if self.sampler == "adar" else None
            train_step(model, self.optimizer, bce_loss(model, ids, positives, negatives, 0.0, extra))

    def adar_terms(self, pool, positives):
        """The ADAR term per training row, w·softplus(⟨h_p, x⁻⟩) with x⁻ detached and fallback rows zero, for
        sasrec.py's bce_loss."""
        torch, adar = self.torch, self.adar

        def terms(h, table, mask):
            e_u = h[mask]
            with torch.no_grad():
                result = adar.synthesize(e_u.detach(), table.detach()[positives[mask]], table.detach()[pool],
                                         self.alpha_bar, rho=0.5, sigma=0.1, policy="max", noise="randn",
                                         generator=self.generator)
            augmentation = torch.nn.functional.softplus((e_u * result.x_neg).sum(-1))
            return torch.where(result.status >= adar.ALREADY_NEGATIVE, torch.zeros_like(augmentation), augmentation)
        return terms


if __name__ == "__main__":
    main()
