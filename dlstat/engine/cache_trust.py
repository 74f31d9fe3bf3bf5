"""Whether an entry of the graph cache may be run: whose directory it is, and who wrote it.

A SavedModel is a program: loading one and calling it runs whatever operations it holds (a
file write included).  So :mod:`dlstat.engine.cache` runs an entry only when

- the cache directory is this user's, writable by no one else, and so is every directory above
  it up to the root (each owned by this user or root and not writable by group or others, as
  ssh asks of ``~/.ssh``; a sticky directory such as ``/tmp`` is allowed above it, since no
  one can rename or remove what another user made in it), and
- its authentication code matches: HMAC-SHA256, under a secret only this user can read, over
  the entry's name and every file and directory of it (names and bytes).  The code is
  checked on a private copy, made while it is computed, and the copy is what is loaded: bytes
  changed after the check are never run.

The secret is 32 random bytes in ``$XDG_CONFIG_HOME/dlstat/graph-cache.key`` (by default
``~/.config/dlstat``), outside every cache directory, made with mode 0600 on first use and
refused when it is readable by anyone else or not this user's.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

# Owners, modes and links as POSIX has them (not on Windows, where the cache is not used).
SUPPORTED = hasattr(os, "geteuid") and hasattr(os, "O_NOFOLLOW")
MAC_FILE = "dlstat.mac"  # in an entry's directory; the one file its code does not cover
SECRET_BYTES = 32
MAX_ENTRY_BYTES = 1 << 28  # a traced trainer is well under a megabyte; a CNN's a few
MAX_ENTRY_ITEMS = 256
_CHUNK = 1 << 20
_MAC_FORMAT = b"dlstat graph cache entry v1\0"


class Untrusted(Exception):
    """A directory, secret or entry the cache must not use; the message says why and the fix."""


def _describe(st: os.stat_result) -> str:
    return f"mode {stat.S_IMODE(st.st_mode):04o}, owner uid {st.st_uid}"


def _writable_by_others(st: os.stat_result) -> bool:
    return bool(st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def check_directory(path: Path) -> None:
    """Raise :class:`Untrusted` unless only this user (or root) can change what ``path``
    (followed through symbolic links) holds."""
    real = Path(os.path.realpath(path))
    st = os.stat(real)
    if not stat.S_ISDIR(st.st_mode):
        raise Untrusted(f"{real} is not a directory")
    if st.st_uid != os.geteuid() or _writable_by_others(st):
        raise Untrusted(f"{real} ({_describe(st)}) can be written by others than you "
                        f"(uid {os.geteuid()})")
    _check_above(real)


def _check_above(real: Path) -> None:
    """Raise :class:`Untrusted` if another user could rename ``real`` (an absolute path
    without links) or a directory above it: each must be this user's or root's, and not
    writable by others unless sticky."""
    for parent in real.parents:
        st = os.stat(parent)
        sticky = bool(st.st_mode & stat.S_ISVTX)
        if st.st_uid not in (os.geteuid(), 0) or (_writable_by_others(st) and not sticky):
            raise Untrusted(f"{parent}, above {real} ({_describe(st)}), can be changed by "
                            f"other users")


def private_directory(path: Path) -> Path:
    """``path``, checked (:func:`check_directory`); the directories it lacks are made with mode
    0700, each after checking what lies above it."""
    path = Path(os.path.abspath(path))
    missing = []
    while not path.exists() and path.parent != path:
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        real = Path(os.path.realpath(directory.parent)) / directory.name
        _check_above(real)
        os.mkdir(real, 0o700)
    check_directory(missing[0] if missing else path)
    return missing[0] if missing else path


def secret_path() -> Path:
    """Where this user's secret lives: beside dlstat's settings, never in a cache directory."""
    config = os.path.expanduser(os.environ.get("XDG_CONFIG_HOME") or "~/.config")
    return Path(config) / "dlstat" / "graph-cache.key"


def user_secret() -> bytes:
    """This user's secret, made on first use (atomically: a complete file or none).

    Raises :class:`Untrusted` for a secret others could read or have written, ``OSError`` when
    it cannot be made (a read-only home: the cache is then simply not used)."""
    path = secret_path()
    private_directory(path.parent)
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, secrets.token_bytes(SECRET_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(draft, path)  # fails if another process made it first: then its secret is read
    except FileExistsError:
        pass
    finally:
        os.unlink(draft)
    return _read_secret(path)


def _open_plain(path: Path) -> tuple[int, os.stat_result]:
    """A descriptor of the plain file ``path`` for reading and its status; a link, a pipe or
    a device is refused (never followed, never waited on)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise Untrusted(f"{path} is not a plain file")
    return fd, st


def _read_secret(path: Path) -> bytes:
    try:
        fd, st = _open_plain(path)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        raise Untrusted(f"the graph cache's secret {path} is a symbolic link; fix: replace "
                        f"it by the file it points to, or delete it") from None
    try:
        if (st.st_uid != os.geteuid()
                or st.st_mode & 0o077 or st.st_size != SECRET_BYTES):
            raise Untrusted(
                f"the graph cache's secret {path} ({_describe(st)}, {st.st_size} bytes) must be "
                f"a {SECRET_BYTES}-byte file of yours that only you can read; fix: delete it "
                f"(dlstat makes a new one, and traces its graphs again once)")
        return os.read(fd, SECRET_BYTES)
    finally:
        os.close(fd)


def _items(entry: Path) -> list[tuple[str, Path, bool]]:
    """Every item of the entry directory (relative name, path, is a directory), sorted; any
    item that is neither a plain file nor a directory (a link, a pipe) is refused."""
    found, pending = [], [entry]
    while pending:
        with os.scandir(pending.pop()) as listing:
            for item in listing:
                path = Path(item.path)
                name = path.relative_to(entry).as_posix()
                if name == MAC_FILE:
                    continue
                if item.is_dir(follow_symlinks=False):
                    pending.append(path)
                elif not item.is_file(follow_symlinks=False):
                    raise Untrusted(f"{path} is neither a file nor a directory")
                found.append((name, path, item.is_dir(follow_symlinks=False)))
                if len(found) > MAX_ENTRY_ITEMS:
                    raise Untrusted(f"{entry} holds more than {MAX_ENTRY_ITEMS} items")
    return sorted(found)


def _authenticate(entry: Path, name: str, secret: bytes, copy_to: Path | None = None) -> bytes:
    """The code of the entry directory ``entry`` stored as ``name``; with ``copy_to``, the
    bytes read are written there too (the copy holds exactly what was authenticated)."""
    mac = hmac.new(secret, _MAC_FORMAT + name.encode() + b"\0", hashlib.sha256)
    if copy_to is not None:
        copy_to.mkdir(mode=0o700)
    total = 0
    for rel, path, is_dir in _items(entry):
        mac.update(b"d" if is_dir else b"f")
        mac.update(rel.encode("utf-8", "surrogateescape") + b"\0")
        if is_dir:
            if copy_to is not None:
                (copy_to / rel).mkdir(mode=0o700)
            continue
        fd, _ = _open_plain(path)
        try:
            out = open(copy_to / rel, "xb") if copy_to is not None else None
            try:
                length = 0
                while chunk := os.read(fd, _CHUNK):
                    length += len(chunk)
                    total += len(chunk)
                    if total > MAX_ENTRY_BYTES:
                        raise Untrusted(f"{entry} is larger than {MAX_ENTRY_BYTES} bytes")
                    mac.update(chunk)
                    if out is not None:
                        out.write(chunk)
                mac.update(b"\0" + length.to_bytes(8, "little"))
            finally:
                if out is not None:
                    out.close()
        finally:
            os.close(fd)
    return mac.digest()


def seal(entry: Path, name: str, secret: bytes) -> None:
    """Write the code of the just-saved entry directory ``entry`` (to be stored as ``name``)."""
    (entry / MAC_FILE).write_bytes(_authenticate(entry, name, secret).hex().encode())


def verified_copy(entry: Path, name: str, secret: bytes, copy_to: Path) -> None:
    """Copy the entry ``name`` to the new directory ``copy_to`` and check, on the bytes
    copied, that it is one this user's dlstat wrote; :class:`Untrusted` if not."""
    if not stat.S_ISDIR(os.lstat(entry).st_mode):
        raise Untrusted(f"{entry} is not a directory")
    try:
        fd, _ = _open_plain(entry / MAC_FILE)
    except FileNotFoundError:
        raise Untrusted(f"{entry} has no authentication code") from None
    try:
        stored = os.read(fd, 2 * hashlib.sha256().digest_size + 1)
    finally:
        os.close(fd)
    code = _authenticate(entry, name, secret, copy_to).hex().encode()
    if not hmac.compare_digest(code, stored):
        raise Untrusted(f"{entry}'s authentication code does not match")
