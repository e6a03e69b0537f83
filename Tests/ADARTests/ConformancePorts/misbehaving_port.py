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
"""
import json
import sys
import time

mode = sys.argv[1]


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
        send({"name": f"misbehaving ({mode})", "precision": "binary64",
              "operations": ["schedule", "forward", "transition", "synthesize", "philox", "normals", "loss"]})
        continue
    if mode == "hang":
        time.sleep(3600)
    if mode == "crash" and answered == 1:
        sys.exit(3)
    if mode == "garbage":
        sys.stdout.write("this is not json\n")
        sys.stdout.flush()
    elif mode == "out-of-order":
        send({"id": previous, "output": {}})
        previous = request["id"]
    elif mode == "wrong":
        send({"id": request["id"], "output": zeros(request["input"])})
    else:
        send({"id": request["id"], "output": {}})
    answered += 1
