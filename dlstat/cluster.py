"""Trusting a Dask cluster with a fit: a bounded connection, and workers that run this code.

``client=`` may be a scheduler address typed by a user or taken from a stranger.  Dask's own
``Client`` bounds the TCP connect but not the handshake that follows, and it allocates a
buffer of whatever length the peer announces: an endpoint that accepts and stays silent hangs
it for good, an HTTP server's ``HTTP/1.1`` read as a length asks NumPy for 3 EiB.  So before
``distributed`` sees a ``tcp://`` address, :func:`probe_scheduler` speaks the first step of
Dask's protocol itself — send a greeting, read the peer's, at most ``MAX_GREETING`` bytes,
decoded as plain msgpack — within one deadline; the connection that follows is bounded by the
same deadline.  Every failure is a :class:`~dlstat.errors.ClusterError` naming the address,
what happened there and the fix.

The probe tells a wrong or hostile address from a scheduler; it cannot make a hostile
*scheduler* safe: once connected, Dask unpickles what the scheduler and workers send (results
travel that way), so ``client=`` is for clusters you run or trust.

Bit-for-bit equality with local training needs every worker to run the same engine:
:func:`check_workers` asks each worker (``client.run``, bounded by ``IDENTITY_TIMEOUT``) for
its dlstat version, TensorFlow version and a digest of the engine's sources, and refuses a
cluster where any differs from this session; each chunk checks its worker again before it
trains (:func:`check_here`), which covers workers that join later.
"""

from __future__ import annotations

import hashlib
import socket
import struct
import sys
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ClusterError, DlstatError, OptionError

CONNECT_TIMEOUT = 10.0  # seconds for the probe, the handshake and the scheduler's identity
IDENTITY_TIMEOUT = 30.0  # seconds for every worker to report what it runs
# A scheduler's greeting is a ~60-byte msgpack map; nothing longer is read from a stranger.
MAX_GREETING = 64 * 1024
_LENGTH = struct.Struct("Q")  # Dask frames its messages with native unsigned 64-bit lengths

START_ONE = ("Start one with `dask scheduler` (it prints its address, e.g. tcp://10.0.0.5:8786) "
             "and workers with `dask worker <address>`, or pass a distributed.Client.")


def connect(address: str) -> Any:
    """A ``distributed.Client`` connected to the scheduler at ``address`` within
    ``CONNECT_TIMEOUT`` seconds, or a :class:`~dlstat.errors.ClusterError`."""
    try:
        from distributed import Client
    except ImportError:
        raise DlstatError("client= needs Dask's distributed scheduler, which could not be "
                          "imported; install it with: pip install 'dlstat[dask]'.") from None
    deadline = time.monotonic() + CONNECT_TIMEOUT
    probe_scheduler(address, deadline)
    return _within(deadline, address, lambda: Client(address, timeout=max(_left(deadline), 1.0),
                                                     set_as_default=False))


def probe_scheduler(address: str, deadline: float) -> None:
    """Check, before the deadline (``time.monotonic()``), that a Dask scheduler answers at
    ``address``: connect, send a Dask greeting and read the peer's, reading no more than
    ``MAX_GREETING`` bytes and decoding nothing but plain msgpack.

    Addresses of other comms (``tls://``, ``ws://``, ``ucx://``, ``inproc://``) are left to
    ``distributed``, within the same deadline.
    """
    location = _tcp_location(address)
    if location is None:
        return
    try:
        sock = socket.create_connection(location, timeout=max(_left(deadline), 1e-3))
    except socket.gaierror as exc:
        raise _refused(address, f"its host name does not resolve ({exc.strerror})",
                       "Check the address for typos.") from None
    except TimeoutError:
        raise _refused(address, f"no connection within {CONNECT_TIMEOUT:g} s (a firewall, or "
                       "a host that is down)", START_ONE) from None
    except OSError as exc:
        raise _refused(address, f"no Dask scheduler answered there ({exc.strerror or exc})",
                       START_ONE) from None
    with sock:
        try:
            sock.sendall(_greeting())
            head = _receive(sock, _LENGTH.size, deadline)
            _check_greeting(address, sock, head, deadline)
        except TimeoutError:
            raise _refused(address, f"it accepted the connection but sent no Dask handshake "
                           f"within {CONNECT_TIMEOUT:g} s: not a Dask scheduler, or a stalled "
                           "one", START_ONE) from None
        except (EOFError, OSError) as exc:
            raise _refused(address, f"it closed the connection during the Dask handshake "
                           f"({exc}): not a Dask scheduler", START_ONE) from None


def _check_greeting(address: str, sock: socket.socket, head: bytes, deadline: float) -> None:
    """Refuse the peer unless ``head`` (its first 8 bytes) and what follows are a greeting."""
    if all(32 <= b < 127 or b in b"\t\r\n" for b in head):  # a length < 2**48 has zeros
        kind = "an HTTP server" if head.startswith((b"HTTP/", b"<")) else "a text protocol"
        raise _refused(address, f"{kind} answered ({head.decode()!r}...), not a Dask scheduler "
                       "(a scheduler's web dashboard usually listens on port 8787, the "
                       "scheduler itself on 8786)", "Use the address the scheduler prints at "
                       "start (`Scheduler at: tcp://...`).")
    (size,) = _LENGTH.unpack(head)
    if size > MAX_GREETING:
        raise _refused(address, f"the peer announced a first message of {size:,} bytes where "
                       f"a Dask scheduler's greeting takes under {MAX_GREETING // 1024} KiB; "
                       "nothing was allocated for it: not a Dask scheduler", START_ONE)
    greeting = _greeting_of(_receive(sock, size, deadline))
    if greeting is None:
        raise _refused(address, "the peer's first message is not a Dask handshake: not a Dask "
                       "scheduler", START_ONE)


def _greeting_of(body: bytes) -> dict[str, Any] | None:
    """The peer's handshake map (Dask's frames: a count, the lengths, msgpack) if ``body`` is
    one made of plain values only — no pickled or serialised objects — else None."""
    import msgpack

    if len(body) < _LENGTH.size:
        return None
    (n_frames,) = _LENGTH.unpack_from(body)
    start = _LENGTH.size * (1 + n_frames)
    if not 1 <= n_frames <= 16 or start > len(body):
        return None
    lengths = struct.unpack_from(f"{n_frames}Q", body, _LENGTH.size)
    if sum(lengths) != len(body) - start:
        return None
    try:
        message = msgpack.unpackb(body[start:start + lengths[0]], raw=False,
                                  strict_map_key=False)
    except Exception:  # any malformed msgpack: not a greeting
        return None
    return message if _plain_greeting(message) else None


def _plain_greeting(message: Any) -> bool:
    """Whether ``message`` is a map with a Dask handshake's keys and nothing but plain values
    (a ``{"__Pickled__": ...}`` reference would be unpickled by ``distributed``)."""
    plain = (type(None), bool, int, float, str)
    return (isinstance(message, dict)
            and {"compression", "python", "pickle-protocol"} <= message.keys()
            and all(isinstance(key, str) for key in message)
            and all(isinstance(value, plain) or (isinstance(value, list)
                                                 and all(isinstance(x, plain) for x in value))
                    for value in message.values()))


def _greeting() -> bytes:
    """This side's Dask handshake (what ``distributed`` sends, framed as Dask frames it); a
    scheduler sees a client that greets and leaves.  The extra entry ends in blank lines so
    that an HTTP server answers at once instead of waiting for the end of a request line."""
    import pickle

    import msgpack

    frame = msgpack.packb({"compression": None, "python": list(sys.version_info[:3]),
                           "pickle-protocol": pickle.HIGHEST_PROTOCOL,
                           "dlstat-probe": "\r\n\r\n"}, use_bin_type=True)
    prelude = _LENGTH.pack(1) + _LENGTH.pack(len(frame))
    return _LENGTH.pack(len(prelude) + len(frame)) + prelude + frame


def _receive(sock: socket.socket, n: int, deadline: float) -> bytes:
    """Exactly ``n`` bytes (``n`` bounded by the caller) before the deadline."""
    buffer = bytearray()
    while len(buffer) < n:
        left = _left(deadline)
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        chunk = sock.recv(min(n - len(buffer), 65536))
        if not chunk:
            raise EOFError(f"after {len(buffer)} of {n} bytes")
        buffer += chunk
    return bytes(buffer)


def _tcp_location(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of a TCP address (``tcp://host:port`` or ``host:port``), None for
    another comm."""
    scheme, _, location = address.rpartition("://")
    if scheme not in ("", "tcp"):
        return None
    host, _, port = location.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]  # an IPv6 literal
    if not (host and port.isdigit() and 0 < int(port) < 65536):
        raise OptionError(f"client={address!r} has no valid host and port; give the "
                          "scheduler's address as printed by `dask scheduler`, e.g. "
                          "'tcp://10.0.0.5:8786'.")
    return host, int(port)


def _within(deadline: float, address: str, make: Any) -> Any:
    """``make()`` (a blocking connection) if it returns before the deadline, else a
    ClusterError; a connection that completes after the deadline is closed as it arrives."""
    lock, done, box = threading.Lock(), threading.Event(), {}

    def attempt() -> None:
        try:
            outcome = ("client", make())
        except BaseException as exc:  # handed to the waiting thread
            outcome = ("error", exc)
        with lock:
            late = box.get("abandoned", False)
            if not late:
                box["outcome"] = outcome
        if late and outcome[0] == "client":
            outcome[1].close()
        done.set()

    threading.Thread(target=attempt, name=f"dlstat connecting to {address}", daemon=True).start()
    done.wait(max(_left(deadline), 0.0))
    with lock:
        outcome = box.get("outcome")
        box["abandoned"] = outcome is None
    if outcome is None:
        raise _refused(address, f"the scheduler did not complete Dask's handshake within "
                       f"{CONNECT_TIMEOUT:g} s", START_ONE)
    kind, value = outcome
    if kind == "client":
        return value
    if isinstance(value, DlstatError) or not isinstance(value, Exception):
        raise value
    raise _refused(address, f"connecting failed ({type(value).__name__}: {value})",
                   START_ONE) from None


def _left(deadline: float) -> float:
    return deadline - time.monotonic()


def _refused(address: str, what: str, fix: str) -> ClusterError:
    return ClusterError(f"client={address!r}: {what}. {fix}")


# ---------------------------------------------------------------- what the workers run

IDENTITY = {"dlstat": "dlstat", "tensorflow": "TensorFlow", "engine": "engine sources"}
MAX_LISTED = 5  # workers named in one error


def worker_identity() -> dict[str, str | None]:
    """What decides a chunk's numbers in this process: the dlstat and TensorFlow versions
    (None: not installed) and a digest of the engine's sources."""
    from . import __version__

    return {"dlstat": __version__, "tensorflow": _tensorflow_version(),
            "engine": engine_digest()}


@lru_cache(maxsize=1)
def engine_digest() -> str:
    """SHA-256 (16 hex digits) of every engine source the graph cache keys on, and of the
    task that runs a chunk: equal digests, the same code trains the networks."""
    from .engine.cache import sources_digest

    digest = hashlib.sha256(sources_digest())
    digest.update(Path(__file__).with_name("scale.py").read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def _tensorflow_version() -> str | None:
    # From the installed distribution, not ``import tensorflow`` (seconds per worker).
    from importlib import metadata

    for name in metadata.packages_distributions().get("tensorflow", []):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def check_workers(client: Any, workers: dict[str, Any]) -> dict[str, str | None]:
    """The identity every chunk must find on its worker: this session's, after checking that
    each of ``workers`` (the scheduler's ``{address: info}``) reports the same; one
    ClusterError names every worker that does not.

    Without TensorFlow here the workers must agree among themselves on it.
    """
    expected = worker_identity()
    try:
        reports = client.run(worker_identity, workers=list(workers), on_error="return",
                             callback_timeout=IDENTITY_TIMEOUT)
    except (TimeoutError, OSError) as exc:
        raise ClusterError(
            f"the workers of the Dask cluster did not report their dlstat and TensorFlow "
            f"versions within {IDENTITY_TIMEOUT:g} s ({type(exc).__name__}: {exc}); chunks are "
            "trained only on workers known to run this engine. Check that the workers are "
            "alive (the scheduler's dashboard), or train locally by leaving out client=."
        ) from None
    if expected["tensorflow"] is None:
        versions = {r.get("tensorflow") for r in reports.values() if isinstance(r, dict)}
        expected["tensorflow"] = versions.pop() if len(versions) == 1 else None
    problems = [_mismatch(expected, report, f"worker {address}")
                for address, report in sorted(reports.items())]
    problems = [p for p in problems if p]
    if problems:
        shown = problems[:MAX_LISTED] + ([f"and {len(problems) - MAX_LISTED} more workers"]
                                         if len(problems) > MAX_LISTED else [])
        raise ClusterError(f"{'; '.join(shown)}. Chunks trained there would not give the "
                           f"local numbers bit for bit. {_install(expected)}")
    return expected


def check_here(expected: dict[str, str | None]) -> None:
    """Refuse to train a chunk in this process (a worker) unless it runs ``expected``."""
    where = "this worker"
    try:
        from distributed import get_worker

        where = f"worker {get_worker().address}"
    except (ImportError, ValueError):
        pass
    check_identity(expected, worker_identity(), where)


def check_identity(expected: dict[str, str | None], found: Any, where: str) -> None:
    """A ClusterError naming ``where``, what it runs and the fix, unless ``found`` equals
    ``expected`` in every field of ``IDENTITY``."""
    problem = _mismatch(expected, found, where)
    if problem:
        raise ClusterError(f"{problem}. Chunks trained there would not give the local numbers "
                           f"bit for bit. {_install(expected)}")


def _mismatch(expected: dict[str, str | None], found: Any, where: str) -> str:
    """How ``found`` (a worker's report, or the error it raised) differs from ``expected``;
    empty when it does not."""
    if not isinstance(found, dict):
        return (f"{where} could not report what it runs ({type(found).__name__}: {found}): "
                f"it lacks dlstat {expected['dlstat']} or runs another version")
    differ = [k for k in IDENTITY if found.get(k) != expected.get(k)]
    if not differ:
        return ""
    return (f"{where} runs {_describe(found)}, this session {_describe(expected)}; they "
            f"differ in {', '.join(IDENTITY[k] for k in differ)}")


def _describe(identity: dict[str, Any]) -> str:
    return (f"dlstat {identity.get('dlstat')} (engine {identity.get('engine')}) with "
            f"TensorFlow {identity.get('tensorflow') or 'not installed'}")


def _install(expected: dict[str, Any]) -> str:
    tf = f" tensorflow=={expected['tensorflow']}" if expected.get("tensorflow") else ""
    return (f"Install the same versions on every worker (pip install dlstat=="
            f"{expected['dlstat']}{tf}, or the same source tree) and restart them, or train "
            "locally by leaving out client=.")
