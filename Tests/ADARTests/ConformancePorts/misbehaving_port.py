#!/usr/bin/env python3
"""A port that misbehaves in one chosen way, for ConformanceRunnerTests.

usage: misbehaving_port.py MODE
  crash         answers the handshake and one case, then exits with status 3
  hang          answers the handshake, then never answers
  silent        never answers, not even the handshake
  out-of-order  answers each request with the id of the one before
  garbage       answers every request with a line that is not JSON
  wrong         answers every request with an output of zeros
  accept-all    answers every request, invalid ones too, with an empty output
  garbage-handshake      answers the handshake with a line that is not JSON
  stderr-exit            writes two lines to stderr and exits with status 2 before the handshake
  huge-answer            answers every request with a well-formed 10 MB line (an output of 10⁶ reals)
  too-long               answers its first request with a 17 MiB line, then every request with an empty output
  hang-with-child FILE   ignores SIGTERM, starts a child that ignores it too, writes "PID CHILD_PID" to FILE,
                         answers the handshake, then never answers
"""
import json
import os
import signal
import subprocess
import sys
import time

mode = sys.argv[1]

if mode == "stderr-exit":
    sys.stderr.write("loading the model\nfatal: no weights in ./weights.bin\n")
    sys.exit(2)
if mode == "hang-with-child":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c",
                              "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(3600)"])
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(f"{os.getpid()} {child.pid}\n")
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def zeros(value):
    if isinstance(value, dict):
        return {k: zeros(v) for k, v in value.items()}
    if isinstance(value, list):
        return [zeros(v) for v in value]
    return 0


previous = "none#0"
answered = 0
for line in sys.stdin:
    request = json.loads(line)
    if request["op"] == "hello":
        if mode == "silent":
            time.sleep(3600)
        if mode == "garbage-handshake":
            sys.stdout.write("hello there\n")
            sys.stdout.flush()
            continue
        send({"name": f"misbehaving ({mode})", "precision": "binary64",
              "operations": ["schedule", "forward", "transition", "synthesize", "philox", "normals", "loss",
                             "pe", "tauInit", "tauForward", "denoise", "synthesizeDenoised", "tauStep"]})
        continue
    if mode in ("hang", "hang-with-child"):
        time.sleep(3600)
    if mode == "crash" and answered == 1:
        sys.exit(3)
    if mode == "garbage":
        sys.stdout.write("this is not json\n")
        sys.stdout.flush()
    elif mode == "out-of-order":
        send({"id": previous, "output": {}})
        previous = request["id"]
    elif mode == "huge-answer":
        send({"id": request["id"], "output": {"xt": [0.123456789] * 1_000_000}})
    elif mode == "too-long" and answered == 0:
        send({"id": request["id"], "output": {"xt": [0.123456789] * 1_700_000}})
    elif mode == "wrong":
        send({"id": request["id"], "output": zeros(request["input"])})
    else:
        send({"id": request["id"], "output": {}})
    answered += 1
