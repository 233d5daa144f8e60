#!/usr/bin/env python3
"""Memory read bandwidth of this machine, the roofline of token generation: each generated token reads every weight
once, so tok/s can be at most bandwidth / model bytes (docs/performance.md).

    /usr/bin/python3 scripts/read-bandwidth.py

Reads a 2 GiB array (far beyond any cache) with one and with all threads, best of 7 passes. Needs numpy (Debian:
python3-numpy). A copy benchmark such as mbw reports a lower figure: a copy also writes.
"""
import os
import threading
import time

import numpy as np

data = np.ones(2**31 // 4, dtype=np.float32)  # 2 GiB, written once so that every page is real


def best_rate(threads):
    parts = np.array_split(data, threads)
    best = 0.0
    for _ in range(7):
        workers = [threading.Thread(target=np.add.reduce, args=(part,)) for part in parts]
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        best = max(best, data.nbytes / (time.perf_counter() - start) / 1e9)
    return best


for threads in sorted({1, os.cpu_count() or 1}):
    print(f"read bandwidth, {threads} thread{'s' if threads > 1 else ''}: {best_rate(threads):.1f} GB/s")
