"""Small statistics helpers for the benchmarks: medians of repeated runs, percentiles."""

import statistics
import time


def timed(func, repeat, warmup=3):
    """Run ``func`` ``warmup + repeat`` times; return the ``repeat`` durations in ms."""
    for _i in range(warmup):
        func()
    out = []
    for _i in range(repeat):
        start = time.perf_counter()
        func()
        out.append((time.perf_counter() - start) * 1000.0)
    return out


def median(values):
    return statistics.median(values)


def pct(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100.0 * (len(ordered) - 1))))
    return ordered[k]


def line(label, value, unit="ms", target=None, ok=None):
    verdict = ""
    if target is not None:
        verdict = f"  (target {target}: {'met' if ok else 'MISSED'})"
    return f"  {label:<58} {value:>10.3f} {unit}{verdict}"
