"""Scale-out on Dask: a 5-fold x 20-penalty ``dnn_path`` trained locally and with
``client=`` on a ``LocalCluster`` of this machine (overhead of the cluster path, target <= 20%),
and, from the chunk sizes and measured per-chunk times, the speed-up expected on N machines.

Data and network as ``bench_path.py`` (n = 20,000, p = 20, hidden (64, 64) ReLU, Adam,
batch 256, 10 epochs, 120 networks).  The cluster has 2 worker processes of 1 thread (this
machine's 2 cores), so the path splits into 2 chunks of 60 networks.

Expected time on N machines (each like this one, one worker per machine): the chunk of
M / N networks timed here with the engine alone, plus what stays on the client (designs and
metrics: the local run minus its engine call) and the cluster's own cost measured on the
LocalCluster (its wall time minus the client side and its longest chunk: scattering, tasks,
gathering, assembly).  The data sent is a few MB, so the network is not modelled.

Usage::

    .venv/bin/python benchmarks/bench_dask.py            # full run (~3 min on 2 idle cores)
    .venv/bin/python benchmarks/bench_dask.py --quick    # n = 2,000, 3 penalties, 2 epochs
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # benchmarks/ (for common) and the repo root
import common  # noqa: E402  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)

HIDDEN = (64, 64)
BATCH = 256
SEED = 1
FOLDS = 5
MACHINES = (1, 2, 4, 8, 16)


def path_call(dl: Any, df: Any, n_penalties: int, epochs: int, **extra: Any) -> Any:
    return dl.dnn_path("y ~ .", df, n_penalties=n_penalties, folds=FOLDS, hidden=HIDDEN,
                       batch_size=BATCH, epochs=epochs, seed=SEED, verbose=0, **extra)


def recorded_job(dl: Any, df: Any, n_penalties: int, epochs: int) -> Any:
    """The StackJob of the path's engine call (captured, not timed)."""
    from dlstat.fitting import blocks

    jobs = []
    train = blocks.train_stack
    blocks.train_stack = lambda job: jobs.append(job) or train(job)
    try:
        path_call(dl, df, n_penalties, 1)
    finally:
        blocks.train_stack = train
    job = jobs[0]
    job.epochs = epochs
    return job


def chunk_seconds(job: Any, machines: tuple[int, ...]) -> dict[int, dict[str, Any]]:
    """Engine seconds of the first chunk of the path split over each number of machines."""
    from dlstat.engine import train_stack
    from dlstat.engine.chunks import chunk_sizes, split_job

    out = {}
    for n in machines:
        sizes = chunk_sizes(job.size, n)
        chunk = split_job(job, sizes)[0]
        gc.collect()
        seconds, _ = common.timed(lambda c=chunk: train_stack(c))
        out[n] = {"chunks": len(sizes), "chunk_networks": sizes[0], "chunk_seconds": seconds}
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n=2,000, 3 penalties, 2 epochs")
    parser.add_argument("--out", default=None, help="result file under benchmarks/results/")
    args = parser.parse_args(argv)
    n, n_pen, epochs = (2_000, 3, 2) if args.quick else (20_000, 20, 10)
    out = args.out or ("dask_quick.json" if args.quick else "dask.json")

    from distributed import Client, LocalCluster, get_task_stream

    data = common.make_regression_data(n=n, p=20, seed=0)
    df = common.to_frame(common.standardize(data.X), data.y)
    info = common.machine_info()
    load_start = common.load_average()
    gflops = common.matmul_gflops()
    print(f"machine: {info['cpu_usable']} CPUs ({info['cpu_model']}), TF {info['tensorflow']}; "
          f"float32 matmul peak [64,256,64]x[64,64]: {gflops:.1f} GFLOP/s")
    print(f"data: n={n}, p=20; {HIDDEN} relu, batch {BATCH}, {epochs} epochs; {FOLDS} folds x "
          f"{n_pen} penalties = {n_pen * (FOLDS + 1)} networks\n")

    import dlstat as dl

    common.use_graph_cache(False)
    path_call(dl, df, n_pen, 1)  # warm-up: TF import and the trace, untimed
    gc.collect()
    local_s, local = common.timed(lambda: path_call(dl, df, n_pen, epochs))
    print(f"local dnn_path:                 {local_s:7.2f} s")

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=40)
    client = Client(cluster)
    try:
        path_call(dl, df, n_pen, 1, client=client)  # warm-up of every worker, untimed
        gc.collect()
        with get_task_stream(client) as stream:
            cluster_s, remote = common.timed(lambda: path_call(dl, df, n_pen, epochs,
                                                               client=client))
        tasks = [t for t in stream.data if "run_chunk" in str(t["key"])]
        computes = [sum(s["stop"] - s["start"] for s in t["startstops"]
                        if s["action"] == "compute") for t in tasks]
    finally:
        client.close()
        cluster.close()
    same = all(np.array_equal(a.params[k], b.params[k])
               for a, b in zip(local.fits, remote.fits) for k in a.params)
    overhead = cluster_s / local_s - 1
    print(f"dnn_path(client=LocalCluster):  {cluster_s:7.2f} s  ({len(tasks)} chunks computing "
          f"{', '.join(f'{c:.2f}' for c in computes)} s)")
    print(f"overhead of the cluster path: {100 * overhead:+.1f}% (target <= 20%); results "
          f"identical to local: {same}\n")

    job = recorded_job(dl, df, n_pen, epochs)
    chunks = chunk_seconds(job, tuple(m for m in MACHINES if m <= job.size // 2 or m == 1))
    # What stays on the client (designs, metrics) and what the cluster adds (scatter, tasks,
    # gather, assembly) beyond its longest chunk.
    client_side = local_s - chunks[1]["chunk_seconds"]
    fixed = max(0.0, cluster_s - client_side - max(computes))
    print(f"engine alone (120 networks, one stack): {chunks[1]['chunk_seconds']:.2f} s; "
          f"client side (designs, metrics): {client_side:.2f} s; cluster's own cost: "
          f"{fixed:.2f} s")
    print("machines  chunks x networks  chunk s  expected s  speed-up vs local")
    for m, row in chunks.items():
        row["expected_seconds"] = client_side + fixed + row["chunk_seconds"]
        row["speed_up"] = local_s / row["expected_seconds"]
        print(f"{m:8d}  {row['chunks']:6d} x {row['chunk_networks']:<8d}  "
              f"{row['chunk_seconds']:7.2f}  {row['expected_seconds']:10.2f}  "
              f"{row['speed_up']:8.2f}x")
    report = {
        "benchmark": "dask", "config": {"n": n, "p": 20, "hidden": list(HIDDEN),
                                        "batch_size": BATCH, "epochs": epochs, "folds": FOLDS,
                                        "n_penalties": n_pen, "networks": job.size,
                                        "cluster": "LocalCluster(n_workers=2, "
                                                   "threads_per_worker=1, processes=True)"},
        "machine": {**info, "matmul_gflops": gflops},
        "local_seconds": local_s, "cluster_seconds": cluster_s, "overhead": overhead,
        "chunk_compute_seconds": computes, "client_side_seconds": client_side,
        "cluster_fixed_seconds": fixed, "identical": same,
        "machines": chunks,
    }
    return common.finish_report(report, info, load_start, out)


if __name__ == "__main__":
    main()
