"""Times round statistics from the call to an Arrow table in Python.

Make a store first, then time it (the bar of QUALITY.md: at most 50 ms at 1 M students):

    cargo run --release --example synthetic_store -- /tmp/synthetic.redb 1000000
    python crates/stagematch-py/bench/round_stats.py /tmp/synthetic.redb
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime

import polars as pl
import pyarrow as pa

import stagematch as sm


def main(path: str, runs: int = 30) -> None:
    started = time.perf_counter()
    store = sm.Store.open(path)
    opened = time.perf_counter() - started
    print(f"opened {store.student_count()} students in {opened:.2f} s")

    at = datetime(2025, 10, 8)
    cases = {
        "round_stats -> pyarrow.Table": lambda: pa.table(store.round_stats(at=at)),
        "round_stats -> polars.DataFrame": lambda: pl.DataFrame(store.round_stats(at=at)),
    }
    for label, run in cases.items():
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            rows = len(run())
            times.append((time.perf_counter() - start) * 1e3)
        median = statistics.median(times)
        print(
            f"{label}: median {median:.1f} ms, min {min(times):.1f} ms ({rows} rows, {runs} runs)"
        )


if __name__ == "__main__":
    main(sys.argv[1])
