"""The container of a model file: a zip of ``.npy`` arrays, read under a memory budget that the
file's own size sets, and written atomically.

A model file comes from a colleague or a download, so its headers are claims.  Reading checks
them in two steps, each before anything is allocated: the zip's central directory (sizes and
compression ratios; nothing is decompressed), then each array's ``.npy`` header (a few hundred
bytes decompressed).  Every value is held as a float64 once read, so a file may ask for at most
``BUDGET_RATIO`` bytes of memory per byte it holds, plus ``BUDGET_ALLOWANCE``: a 250 kB file of
compressed float16 zeros cannot ask for a gigabyte.  The writer keeps every file it writes
within that budget (it stores the arrays uncompressed when compression would exceed it), so a
file dlstat wrote always loads.

Writing goes to a temporary file in the target's directory, is flushed to disk, then renamed
over the target: a full disk or a file-size limit leaves the old model file as it was.
"""

from __future__ import annotations

import math
import os
import secrets
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from ..errors import ModelFileError

VALUE_BYTES = 8  # a value of any stored type is held as a float64 once read
BUDGET_RATIO = 16  # bytes of memory a file may ask for per byte it holds ...
BUDGET_ALLOWANCE = 64 * 2**20  # ... plus this much, whatever its size
MAX_BYTES = 8 * 2**30  # no dlstat network holds more, whatever the file's size
MAX_RATIO = 1100  # deflate cannot compress more than ~1032:1; a header claiming more lies
MAX_HEADER = 10_000  # bytes of one .npy header
HEADER_BYTES = 256  # what the writer counts for each member's headers


@dataclass(frozen=True)
class Member:
    """One array of the archive: its zip entry and what its ``.npy`` header claims."""

    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def name(self) -> str:
        return self.info.filename[:-4]


def budget(file_size: int) -> int:
    """The bytes of memory a file of ``file_size`` bytes may make dlstat allocate."""
    return min(BUDGET_RATIO * file_size + BUDGET_ALLOWANCE, MAX_BYTES)


def members(archive: zipfile.ZipFile, file_size: int, where: str) -> dict[str, Member]:
    """Every array of ``archive`` by name, its header read and every size checked against the
    budget of ``file_size`` before any array is decompressed or allocated."""
    infos: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = info.filename[:-4] if info.filename.endswith(".npy") else None
        if name is None or name in infos or info.compress_size > file_size or \
                info.file_size > MAX_RATIO * info.compress_size + 2**20:
            raise ModelFileError(f"{where!r} holds an unexpected or oversized member "
                                 f"{info.filename[:80]!r}; it is not a dlstat model file.")
        infos[name] = info
    _within_budget(sum(i.file_size for i in infos.values()), file_size, where,
                   "its members unpack to {}")
    found = {name: _header(archive, info, where) for name, info in infos.items()}
    _within_budget(VALUE_BYTES * sum(math.prod(m.shape) for m in found.values()), file_size,
                   where, "its arrays would take {} of memory once read")
    return found


def read_array(archive: zipfile.ZipFile, member: Member) -> np.ndarray:
    """The array of ``member`` (whose header was checked by :func:`members`)."""
    with archive.open(member.info) as fh:
        return np.lib.format.read_array(fh, allow_pickle=False,
                                        max_header_size=MAX_HEADER)


def _header(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> Member:
    """The shape and type an array's header claims; its size must be the member's size."""
    with archive.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read(fh, max_header_size=MAX_HEADER)
        size = fh.tell() + math.prod(shape) * dtype.itemsize
    if dtype.hasobject or size != info.file_size:
        raise ModelFileError(f"array {info.filename[:60]!r} in {where!r} claims shape {shape} "
                             f"of {dtype}, which is not what the member holds; the file is "
                             "damaged or was edited.")
    return Member(info, tuple(shape), dtype)


def _within_budget(need: int, file_size: int, where: str, what: str) -> None:
    allowed = budget(file_size)
    if need > allowed:
        raise ModelFileError(
            f"{where!r} is {_bytes(file_size)}, but {what.format(_bytes(need))}; a model "
            f"file may ask dlstat for at most {BUDGET_RATIO} times its size plus "
            f"{_bytes(BUDGET_ALLOWANCE)} ({_bytes(allowed)}). A file written by fit.save() "
            "always passes: this one was edited or built to exhaust memory. If it is a genuine "
            "model of mostly zero weights from an older dlstat, unzip it and zip it again "
            "without compression (zip -0), so that its size vouches for its arrays."
        )


def _bytes(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


# --------------------------------------------------------------------------------- writing


def write_arrays(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as a zip of ``.npy`` files to ``path``, atomically, compressed unless
    that would put the file over its own memory budget (see :func:`budget`)."""
    need = sum(VALUE_BYTES * a.size + HEADER_BYTES for a in arrays.values())

    def write(fh: IO[bytes]) -> None:
        np.savez_compressed(fh, **arrays)
        if need > budget(fh.tell()):  # mostly zeros, say: stored, the size vouches for them
            fh.seek(0)
            fh.truncate()
            np.savez(fh, **arrays)

    write_atomically(path, write)


def writable_target(path: str | os.PathLike, probe: bool = False) -> Path:
    """The file a model saved to ``path`` will be, or a clear :class:`ModelFileError`: not a
    directory, nor a device; in a directory that exists (and, with ``probe``, in which a file
    can be created — tried, since permissions alone do not tell, e.g. for root)."""
    if not isinstance(path, (str, os.PathLike)):
        raise ModelFileError(f"a model file's path must be a file name such as "
                             f"'model.dlstat'; got {type(path).__name__}.")
    given = os.fspath(path)
    target = Path(os.path.realpath(given))  # a symbolic link is written through
    if target.is_dir():
        raise ModelFileError(f"cannot save the model to {given!r}: it is a directory. Give a "
                             f"file name, e.g. {os.path.join(given, 'model.dlstat')!r}.")
    if target.exists() and not target.is_file():
        raise ModelFileError(f"cannot save the model to {given!r}: it exists and is not a "
                             "regular file (a device or a pipe). Give a file name.")
    folder = target.parent
    if not folder.is_dir():
        raise ModelFileError(f"cannot save the model to {given!r}: there is no directory "
                             f"{str(folder)!r}. Create it first, or save elsewhere.")
    if probe:
        fd, temporary = _temporary(target, given)
        os.close(fd)
        os.unlink(temporary)
    return target


def write_atomically(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write`` on a temporary file beside ``path``, sync it and rename it to ``path``;
    on any failure the temporary file is removed and a file already at ``path`` is unchanged."""
    target = writable_target(path)
    fd, temporary = _temporary(target, os.fspath(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if target.exists():
            shutil.copymode(target, temporary)  # a replaced file keeps its permissions
        os.replace(temporary, target)
    except BaseException as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(exc, OSError):
            kept = " (the file already there is unchanged)" if target.exists() else ""
            raise ModelFileError(f"cannot save the model to {os.fspath(path)!r}: "
                                 f"{exc.strerror or exc}{kept}. Free disk space or save "
                                 "elsewhere.") from None
        raise
    _sync_directory(target.parent)


def _temporary(target: Path, given: str) -> tuple[int, str]:
    """A new file beside ``target`` (created with the permissions ``open()`` would give)."""
    for _ in range(100):
        name = str(target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                           getattr(os, "O_BINARY", 0), 0o666), name
        except FileExistsError:
            continue
        except OSError as exc:
            raise ModelFileError(f"cannot save the model to {given!r}: cannot create a file "
                                 f"in {str(target.parent)!r} ({exc.strerror or exc}). Save "
                                 "where you can write.") from None
    raise ModelFileError(f"cannot save the model to {given!r}: no free temporary name in "
                         f"{str(target.parent)!r}.")  # pragma: no cover


def _sync_directory(folder: Path) -> None:
    """Make the rename durable (POSIX; elsewhere a no-op)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
