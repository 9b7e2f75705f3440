"""Soak the local stack with race rounds (issue 9) and print the violations (0 expected).

Each round runs on a fresh tenant through the real state machines of a private local stack:
rapid re-uploads, duplicate and reordered event deliveries, deletes at every step, deletes
followed by the upload's late event, delete + re-upload, and executions killed mid-way that
the reconciler must converge (tests/support/races.py). After each round the invariant is
checked: the index holds exactly the current version's points (ids and count), deleted keys
have none, nothing is processing while nothing runs. Prints a table; asserts nothing.

    .venv/bin/python bench/soak_races.py [--rounds 100] [--seed 1] [--max-minutes 60]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "CRITICAL")

from tests.support.races import ROUNDS, Harness, run_round  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-minutes", type=float, default=60, help="stop starting rounds after this long")
    args = parser.parse_args()

    from ragline_local.runtime import DevStack, LocalConfig, free_port

    os.environ["RAGLINE_STUCK_AFTER_S"] = "0"  # the kill rounds: nothing runs, so it is stuck
    rng = random.Random(args.seed)
    names = sorted(ROUNDS)
    times: dict[str, list[float]] = defaultdict(list)
    failures: list[tuple[int, str, str, list[str]]] = []
    with tempfile.TemporaryDirectory() as home:
        config = LocalConfig(home=Path(home), aws_port=free_port(), embedder="hash", log_level="CRITICAL")
        with DevStack(config, gateway_port=free_port()) as stack:
            harness = Harness(stack.aws.client, stack.endpoints())
            started = time.monotonic()
            done = 0
            for number in range(1, args.rounds + 1):
                if time.monotonic() - started > args.max_minutes * 60:
                    break
                name = names[(number - 1) % len(names)] if number <= len(names) else rng.choice(names)
                what, violations, seconds = run_round(harness, name, rng)
                times[name].append(seconds)
                done += 1
                if violations:
                    failures.append((number, name, what, violations))
                print(f"round {number:3d} {name:24s} {seconds:6.1f}s  {len(violations)} violation(s)  {what}",
                      flush=True)
            total = time.monotonic() - started

    print()
    print(f"| round kind | rounds | violations | median s | max s |")
    print(f"|---|---:|---:|---:|---:|")
    for name in names:
        if not times[name]:
            continue
        bad = sum(1 for f in failures if f[1] == name)
        print(f"| {name} | {len(times[name])} | {bad} | {statistics.median(times[name]):.1f} | {max(times[name]):.1f} |")
    print(f"\n{done} rounds in {total:.0f} s ({total / max(done, 1):.1f} s a round); "
          f"rounds with violations: {len(failures)}")
    for number, name, what, violations in failures:
        print(f"  round {number} {name} ({what}):")
        for violation in violations:
            print(f"    - {violation}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
