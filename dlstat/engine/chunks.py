"""Splitting a stack of networks into chunks and assembling the chunks' results (pure NumPy).

A network's numbers do not depend on the other networks of its stack (per-network seeds,
masks and stopping; batched ops), so the networks of one ``StackJob`` can train in several
smaller stacks — on the workers of a cluster — and the assembled ``StackResult`` equals the
one-call result bit for bit.  Two limits keep that true:

- a chunk never holds a single network cut from a larger stack: an engine call with M == 1
  may take a different kernel (e.g. a convolution's native path), so chunks hold two or more;
- full-batch L-BFGS minimises the *sum* of the networks' objectives with one line search and
  one stopping rule, so its stack is never split.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .job import StackJob, StackResult

MIN_CHUNK = 2
# The per-network fields of a StackJob (leading axis M); everything else is shared.
PER_NETWORK = ("train_weights", "penalty", "mixture", "learning_rate", "seeds", "output_bias",
               "val_weights", "train_repeats", "family_parameter", "learning_rate_decay",
               "max_norm", "dropout")


def chunk_sizes(M: int, slots: int, min_size: int = MIN_CHUNK) -> list[int]:
    """Sizes of at most ``slots`` balanced chunks of ``M`` networks, each of at least
    ``min_size`` networks (one chunk when ``M`` cannot give two such chunks).

    >>> chunk_sizes(120, 2), chunk_sizes(5, 4), chunk_sizes(3, 8)
    ([60, 60], [3, 2], [3])
    """
    n = max(1, min(int(slots), M // min_size))
    base, extra = divmod(M, n)
    return [base + (i < extra) for i in range(n)]


def network_bytes(job: StackJob) -> int:
    """About what one network of ``job`` adds to a chunk's memory: its per-row weights and
    repeats, and its parameters with the optimizer's moments and the best weights kept."""
    n = job.train_weights.shape[1]
    row_arrays = 1 + (job.val_weights is not None) + (job.train_repeats is not None)
    return 8 * (row_arrays * n + 4 * job.topology.n_parameters())


def split_job(job: StackJob, sizes: list[int]) -> list[StackJob]:
    """``job`` as consecutive chunks of ``sizes`` networks; the data arrays are shared, not
    copied, and no chunk reports epochs (a callback does not travel to a worker)."""
    if sum(sizes) != job.size or min(sizes) < 1:
        raise ValueError(f"chunk sizes {sizes} do not split a stack of {job.size} networks")
    bounds = np.cumsum([0, *sizes])
    lengths = row_lengths(job)
    chunks = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        part = {name: None if getattr(job, name) is None else getattr(job, name)[start:stop]
                for name in PER_NETWORK}
        chunks.append(replace(job, on_epoch=None, row_lengths=lengths, **part))
    return chunks


def row_lengths(job: StackJob) -> tuple[int, int]:
    """The most training rows (counting repeats) and validation rows of any network."""
    listed = job.train_weights > 0
    counts = listed if job.train_repeats is None else np.where(listed, job.train_repeats, 0)
    val = 0 if job.val_weights is None else int((job.val_weights > 0).sum(axis=1).max())
    given = job.row_lengths or (0, 0)
    return max(int(counts.sum(axis=1).max()), given[0]), max(val, given[1])


ROW_ARRAYS = ("train_weights", "val_weights", "train_repeats")  # [M, n] each


def packed(job: StackJob) -> tuple[StackJob, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """``job`` without its data and ``[M, n]`` row arrays, and those arrays stored once per
    distinct row (``rows[inverse]`` gives them back exactly): a path's networks share their
    block's rows, so a chunk travels as a few rows instead of one per network."""
    parts = {}
    for name in ROW_ARRAYS:
        values = getattr(job, name)
        if values is not None:
            parts[name] = _distinct_rows(values)
    empty = np.empty((0, 0))
    bare = replace(job, X=empty, Y=empty, offset=None, train_weights=empty,
                   **{name: None for name in ROW_ARRAYS[1:]})
    return bare, parts


def _distinct_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` [M, n] as its distinct rows and each row's index among them (rows equal in
    every byte count as one: hashing bytes is far faster than ``np.unique``'s row sort)."""
    seen: dict[bytes, int] = {}
    inverse = np.array([seen.setdefault(row.tobytes(), len(seen)) for row in values], np.int64)
    _, firsts = np.unique(inverse, return_index=True)
    return values[firsts], inverse


def unpacked(job: StackJob, parts: dict[str, tuple[np.ndarray, np.ndarray]], X: np.ndarray,
             Y: np.ndarray, offset: np.ndarray | None) -> StackJob:
    """The job :func:`packed` took apart, on the data ``X``, ``Y``, ``offset``."""
    arrays = {name: rows[inverse] for name, (rows, inverse) in parts.items()}
    return replace(job, X=X, Y=Y, offset=offset, **arrays)


def assemble(results: list[StackResult]) -> StackResult:
    """One ``StackResult`` from the chunks' results, in chunk order.

    Each chunk's records run for as many epochs as its longest-training network; shorter
    ones are padded with NaN, which is what the one-call stack records for a network that
    has stopped.
    """
    epochs = max(len(r.loss) for r in results)
    params = {name: np.concatenate([r.params[name] for r in results])
              for name in results[0].params}
    has_val = results[0].val_loss is not None
    notes = list(dict.fromkeys(note for r in results for note in r.notes))
    return StackResult(
        params=params,
        loss=np.concatenate([_pad_epochs(r.loss, epochs) for r in results], axis=1),
        val_loss=np.concatenate([_pad_epochs(r.val_loss, epochs) for r in results], axis=1)
        if has_val else None,
        epochs_run=np.concatenate([r.epochs_run for r in results]),
        best_epoch=np.concatenate([r.best_epoch for r in results]),
        diverged=np.concatenate([r.diverged for r in results]),
        notes=notes,
        network_notes=None if all(r.network_notes is None for r in results) else
        [note for r in results for note in (r.network_notes or [[]] * len(r.epochs_run))],
    )


def _pad_epochs(record: np.ndarray, epochs: int) -> np.ndarray:
    """``record`` [epochs_run, m] extended with NaN rows to ``epochs`` rows."""
    missing = epochs - len(record)
    if missing == 0:
        return record
    return np.vstack([record, np.full((missing, record.shape[1]), np.nan, record.dtype)])


def chunks_for_memory(job: StackJob, memory_limit: float) -> int:
    """How many chunks keep each chunk within a quarter of a worker's ``memory_limit`` bytes
    (0 or less: no limit)."""
    if not memory_limit or memory_limit <= 0:
        return 1
    return max(1, math.ceil(job.size * network_bytes(job) / (memory_limit / 4)))
