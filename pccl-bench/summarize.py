#!/usr/bin/env python3
"""Pools the all-reduce samples of every library over all rounds of one run-benchmarks.sh run, and checks the
targets of the all-reduce issue against the better baseline.

Usage: python3 pccl-bench/summarize.py LOG [LOG ...]

Reads the result lines of ../shared/baselines/run_mpi.sh and run_gloo.sh ("MPI ranks=.. size_mib=.. samples=..",
"GLOO world=.. size_mib=.. samples=..") and of `pccl-bench allreduce --print-samples` ("PCCL world=.. size_mib=..
samples=.."); every sample is the time of one timed call in seconds, the maximum over ranks. Per library, world size
and buffer size: the median over all samples of all rounds (as the baselines' own summarize.py does), and the range
of the per-round medians. busbw = bytes / t * 2(W-1)/W, in GB/s (1e9 B/s).
"""
import collections
import statistics
import sys

KINDS = ("MPI", "GLOO", "PCCL")


def load(paths):
    rounds = collections.defaultdict(list)
    for path in paths:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if not parts or parts[0] not in KINDS:
                    continue
                kv = dict(x.split("=", 1) for x in parts[1:] if "=" in x)
                world = int(kv.get("ranks", kv.get("world")))
                mib = float(kv["size_mib"])
                rounds[(parts[0], world, mib)].append([float(x) for x in kv["samples"].split(",")])
    return rounds


def busbw(mib, world, seconds):
    return mib * 2 ** 20 / seconds / 1e9 * 2 * (world - 1) / world


def main(paths):
    rounds = load(paths)
    if not rounds:
        print("no result lines found in", " ".join(paths))
        return 1
    med = {k: statistics.median([t for r in v for t in r]) for k, v in rounds.items()}
    rng = {k: (min(statistics.median(r) for r in v), max(statistics.median(r) for r in v)) for k, v in rounds.items()}
    count = {k: sum(len(r) for r in v) for k, v in rounds.items()}
    rows = sorted({(w, mib) for (_, w, mib) in rounds})
    print("| W | size MiB | Gloo | Open MPI | pccl-java | pccl-java / better baseline | samples (Gloo/MPI/pccl) "
          "| pccl per-round medians |")
    print("|---|---|---|---|---|---|---|---|")
    verdicts = []
    for w, mib in rows:
        keys = {k: (k, w, mib) for k in KINDS}
        have = {k: keys[k] in med for k in KINDS}
        label = f"{mib:g}"
        if mib <= 1:
            cell = {k: f"{med[keys[k]] * 1e3:.2f} ms" if have[k] else "-" for k in KINDS}
            ratio = (f"{med[keys['PCCL']] / med[keys['GLOO']]:.2f}x Gloo's time"
                     if have["PCCL"] and have["GLOO"] else "-")
            if w == 2 and mib == 1 and have["PCCL"] and have["GLOO"]:
                r = med[keys["PCCL"]] / med[keys["GLOO"]]
                verdicts.append(f"W=2 1 MiB time {med[keys['PCCL']] * 1e3:.2f} ms = {r:.2f}x Gloo's "
                                f"{med[keys['GLOO']] * 1e3:.2f} ms (target <= 2): {'met' if r <= 2 else 'NOT met'}")
            spread = (f"{rng[keys['PCCL']][0] * 1e3:.2f}-{rng[keys['PCCL']][1] * 1e3:.2f} ms"
                      if have["PCCL"] else "-")
        else:
            bw = {k: busbw(mib, w, med[keys[k]]) for k in KINDS if have[k]}
            cell = {k: f"{bw[k]:.3f}" if k in bw else "-" for k in KINDS}
            base = [bw[k] for k in ("GLOO", "MPI") if k in bw]
            ratio = "-"
            if "PCCL" in bw and base:
                r = bw["PCCL"] / max(base)
                ratio = f"**{r:.2f}**"
                if mib in (64, 256):
                    verdicts.append(f"W={w} {label} MiB busbw {bw['PCCL']:.3f} / {max(base):.3f} = {r:.2f} "
                                    f"(target >= 1): {'met' if r >= 1 else 'NOT met'}")
            spread = (f"{busbw(mib, w, rng[keys['PCCL']][1]):.3f}-{busbw(mib, w, rng[keys['PCCL']][0]):.3f}"
                      if have["PCCL"] else "-")
        n = "/".join(str(count.get(keys[k], 0)) for k in ("GLOO", "MPI", "PCCL"))
        print(f"| {w} | {label} | {cell['GLOO']} | {cell['MPI']} | {cell['PCCL']} | {ratio} | {n} | {spread} |")
    print()
    for v in verdicts:
        print("-", v)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
