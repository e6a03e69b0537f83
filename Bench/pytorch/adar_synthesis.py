"""ADAR synthesis (or synthesis + S7 loss and its gradient) in PyTorch on adar-bench's workload: the peer of
`adar-bench`'s synthesis and "BPR+ADAR step" rows, run by the bench in the same invocation.

The bench writes its tables and index streams (binary32 and int32, native byte order) into --data:
users.f32 [users × d], items.f32 [items × d], user-ids.i32 [B], positive-ids.i32 [B], pool-ids.i32 [B × M].
A timed run gathers e_u, e_pos and the pool rows from those tables (index_select) and calls the port's
synthesize (cosine T = 1000, ρ = ½, σ = 0.1, policy max) with noise="randn": torch.randn, what a PyTorch
user picks for speed, not S8's Philox stream. --step adds adar_loss (w = 1, λ = 1e-4, skip, detach) and its
backward into the gathered user, positive and sampled-negative rows, as the bench's step computes those
gradients. float32, timed at each of --threads (torch.set_num_threads).

Prints one JSON line (peer.py).
"""
import argparse
import os

import peer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--dimension", type=int, required=True)
    parser.add_argument("--pool", type=int, required=True)
    parser.add_argument("--step", action="store_true")
    args = peer.parse(parser)
    torch, adar = peer.load()
    d, M = args.dimension, args.pool
    read = lambda name, dtype: peer.read(torch, os.path.join(args.data, name), dtype)

    user_table, item_table = read("users.f32", torch.float32).view(-1, d), read("items.f32", torch.float32).view(-1, d)
    users, positives = read("user-ids.i32", torch.int32).long(), read("positive-ids.i32", torch.int32).long()
    pool = read("pool-ids.i32", torch.int32).long()
    B = users.numel()
    sampled = pool.view(B, M)[:, 0].contiguous()
    alpha_bar = adar.alpha_bar("cosine", 1000)
    generator = torch.Generator().manual_seed(7)
    outcome = {}

    def synthesize(e_u, e_pos):
        with torch.no_grad():
            e_pool = torch.index_select(item_table, 0, pool).view(B, M, d)
            return adar.synthesize(e_u, e_pos, e_pool, alpha_bar, rho=0.5, sigma=0.1, policy="max",
                                   noise="randn", generator=generator)

    def run():
        if args.step:
            e_u = torch.index_select(user_table, 0, users).requires_grad_()
            e_pos = torch.index_select(item_table, 0, positives).requires_grad_()
            e_j = torch.index_select(item_table, 0, sampled).requires_grad_()
            result = synthesize(e_u, e_pos)
            adar.adar_loss(e_u, e_pos, e_j, result, w=1.0, l2=1e-4).backward()
        else:
            result = synthesize(torch.index_select(user_table, 0, users), torch.index_select(item_table, 0, positives))
        outcome["noisedRows"] = int((result.status <= adar.SATURATED).sum())

    seconds = peer.timed(torch, args.threads, args.runs, lambda: run)
    peer.report(torch, seconds, rows=B, noise="randn", **outcome)


if __name__ == "__main__":
    main()
