"""What adar-bench's PyTorch peers share: torch and the PyTorch port, the thread count, the timing, the JSON line.

Each peer prints exactly one JSON line on stdout: {"seconds": {"<threads>": [...], ...}, ...} when it
measured (one list per thread count asked for), or
{"skipped": "<why>"} (exit status 0) when torch or the port is not importable, so that adar-bench
prints one line and leaves the PyTorch columns out.
"""
import json
import os
import sys
import time

# The port is imported, never copied: the bench times exactly the code users get.
PORT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "ports", "pytorch"))


def load():
    """(torch, adar_torch); skips the peer when either is missing."""
    try:
        import torch
    except ImportError as error:
        skip(f"torch is not importable ({error}); install the CPU wheel: pip install \"torch==2.13.0+cpu\"")
    sys.path.insert(0, PORT)
    try:
        import adar_torch
    except ImportError as error:
        skip(f"the PyTorch port is not importable from {PORT} ({error})")
    return torch, adar_torch


def skip(reason):
    print(json.dumps({"skipped": reason}))
    sys.exit(0)


def timed(torch, thread_counts, runs, make_body):
    """Per thread count n: torch.set_num_threads(n), body = make_body(), then the seconds of `runs` calls of
    body after one warm-up call."""
    seconds = {}
    for threads in thread_counts:
        torch.set_num_threads(threads)
        body = make_body()
        body()
        seconds[str(threads)] = []
        for _ in range(runs):
            start = time.perf_counter()
            body()
            seconds[str(threads)].append(time.perf_counter() - start)
    return seconds


def report(torch, seconds, **details):
    print(json.dumps({"seconds": seconds, "torch": torch.__version__,
                      "ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY", "unset"), **details}))


def parse(parser):
    """The peer's arguments, with the --runs and --threads every peer takes."""
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--threads", type=lambda text: [int(n) for n in text.split(",")], required=True,
                        help="thread counts, e.g. 1,2")
    return parser.parse_args()


def read(torch, path, dtype):
    """A file adar-bench wrote (native byte order) as a flat tensor."""
    with open(path, "rb") as file:
        return torch.frombuffer(bytearray(file.read()), dtype=dtype)
