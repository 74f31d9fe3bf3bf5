"""Scale-out on Dask: a stack of networks trained in chunks on a cluster's workers.

``client=`` (a ``distributed.Client`` or a scheduler address) on ``dnn``, ``cv_dnn``,
``dnn_path`` and ``compare`` — or a default set with :func:`dlstat.dask_client` — sends every
engine call through ``train_on_cluster()``: the data are scattered to the workers once, the stack is
split into chunks sized to the workers (``dlstat.engine.chunks``), each chunk is one task
that runs the same engine, and the gathered results are assembled.  Since a network's numbers
do not depend on the other networks of its stack, the result equals the local one bit for bit.

A worker that dies has its chunk rerun elsewhere by the scheduler; a chunk that raises
(a user error) stops the run and the error is raised once, as it would be locally.  Before
anything is sent, an address is probed and connected to within a deadline and every worker
must run this session's dlstat, TensorFlow and engine (``dlstat.cluster``).  Nothing here
imports ``distributed`` until a client is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

from .cluster import check_here, check_workers, connect
from .engine.chunks import (
    assemble,
    chunk_sizes,
    chunks_for_memory,
    packed,
    split_job,
    unpacked,
)
from .engine.job import StackJob, StackResult
from .errors import ClusterError
from .progress import progress_bar

_DEFAULT: ContextVar[Any] = ContextVar("dlstat_dask_client", default=None)


@contextmanager
def dask_client(client: Any) -> Iterator[Any]:
    """Use ``client`` (a ``distributed.Client`` or a scheduler address) for every fit in the
    ``with`` block that is not given ``client=`` itself.

    Examples
    --------
    >>> with dl.dask_client("tcp://127.0.0.1:8786"):       # doctest: +SKIP
    ...     path = dl.dnn_path("y ~ .", data=df, folds=10)
    """
    from .options import option

    option("client").check(client)
    token = _DEFAULT.set(client)
    try:
        yield client
    finally:
        _DEFAULT.reset(token)


def active_client(given: Any) -> Any:
    """The client a fit uses: its own ``client=``, else the :func:`dlstat.dask_client` default."""
    return given if given is not None else _DEFAULT.get()


def train_on_cluster(job: StackJob, client: Any, verbose: int = 1) -> StackResult:
    """Train ``job`` on the workers of ``client`` (a Client or an address); the result equals
    ``train_stack(job)``."""
    if isinstance(client, str):
        with _connect(client) as connected:
            return _run(job, connected, verbose)
    return _run(job, client, verbose)


def run_chunk(job: StackJob, parts: dict[str, Any], X: np.ndarray, Y: np.ndarray,
              offset: np.ndarray | None, expected: dict[str, str | None]) -> StackResult:
    """A worker's task: train one chunk (see :func:`~dlstat.engine.chunks.packed`) on the
    scattered data, if this worker runs the ``expected`` engine (a worker may have joined
    after the cluster was checked)."""
    from .engine import train_stack

    check_here(expected)
    return train_stack(unpacked(job, parts, X, Y, offset))


def plan_chunks(job: StackJob, workers: dict[str, dict[str, Any]]) -> list[int]:
    """Chunk sizes for ``job`` on ``workers`` (the scheduler's ``{address: info}``): one chunk
    per worker thread, more when a chunk would not fit a quarter of the smallest worker's
    memory; never a single network cut from a larger stack."""
    threads = sum(int(w.get("nthreads", 1)) for w in workers.values()) or 1
    limits = [w.get("memory_limit") or 0 for w in workers.values()]
    memory = min(limits) if limits and min(limits) > 0 else 0
    return chunk_sizes(job.size, max(threads, chunks_for_memory(job, memory)))


def _run(job: StackJob, client: Any, verbose: int) -> StackResult:
    from distributed import as_completed

    workers = client.scheduler_info().get("workers", {})
    if not workers:
        raise ClusterError(f"the Dask cluster at {client.scheduler.address!r} has no workers; "
                           "start some with `dask worker <scheduler address>`, or train "
                           "locally by leaving out client=.")
    expected = check_workers(client, workers)
    sizes = plan_chunks(job, workers)
    chunks = split_job(job, sizes)
    # A chunk's own arrays travel with its task, so the scheduler can rerun it anywhere.
    shipped = [packed(c) for c in chunks]
    data = client.scatter([job.X, job.Y] + ([] if job.offset is None else [job.offset]),
                          broadcast=True)
    X, Y, offset = data[0], data[1], (data[2] if len(data) > 2 else None)
    futures = [client.submit(run_chunk, c, parts, X, Y, offset, expected, pure=False)
               for c, parts in shipped]
    order = {f.key: i for i, f in enumerate(futures)}
    results: list[StackResult | None] = [None] * len(futures)
    bar = progress_bar(verbose, len(futures), f"{job.size} networks in {len(futures)} chunks",
                       unit="chunk")
    try:
        for future in as_completed(futures, loop=client.loop):
            results[order[future.key]] = _result_of(future, order[future.key], sizes)
            if bar is not None:
                bar.update(1)
    except BaseException:
        client.cancel(futures)
        raise
    finally:
        if bar is not None:
            bar.close()
    return assemble(results)


def _result_of(future: Any, i: int, sizes: list[int]) -> StackResult:
    """The chunk's result; its error as the engine raised it (raised once: the caller
    cancels the other chunks), or a dlstat error when the cluster lost the chunk."""
    from distributed.scheduler import KilledWorker

    if future.status != "error":
        return future.result()
    exc = future.exception()
    if isinstance(exc, KilledWorker):
        first = sum(sizes[:i]) + 1
        raise ClusterError(
            f"chunk {i + 1} of {len(sizes)} (networks {first}–{first + sizes[i] - 1}) was lost "
            f"with every worker that ran it ({exc}); no partial result is returned. Workers "
            "that die on a chunk usually run out of memory: give them more "
            "(`dask worker --memory-limit`), or train fewer networks per call."
        ) from None
    raise exc.with_traceback(None)


@contextmanager
def _connect(address: str) -> Iterator[Any]:
    """A client connected to the scheduler at ``address`` for one run (bounded in time:
    :func:`dlstat.cluster.connect`)."""
    client = connect(address)
    try:
        yield client
    finally:
        client.close()
