"""The worker protocol's framing: how messages travel between Python and Julia.

Layer 1: stands on ``keplersr.errors`` only. The bridge (``keplersr.bridge``)
uses it; the Julia side is the engine's protocol code (``PROTOCOL_VERSION``
and ``FRAME_MAGIC`` there must match the constants here), and
docs/PROTOCOL.md describes both.

A frame is the magic ``b"KSR1"``, the JSON header's length (uint32) and the
payload's length (uint64), both little-endian, the UTF-8 JSON header (an
object with a string ``type``), then the payload: raw little-endian float64
arrays, described in the header's ``arrays`` list (``f64_array``).

``PROTOCOL_VERSION`` is the version of the messages this package speaks; the
worker announces its own in its ``hello``, and ``check_protocol_version``
refuses a worker that speaks another one.
"""

from __future__ import annotations

import json
import struct

import numpy as np

from .errors import WorkerProtocolError

__all__ = [
    "MAGIC", "PROTOCOL_VERSION", "encode_frame", "read_frame", "read_exactly", "f64_array",
    "check_protocol_version",
]

MAGIC = b"KSR1"
PREFIX = struct.Struct("<IQ")    # JSON header length, payload length
PROTOCOL_VERSION = 1


def json_default(obj):
    """JSON for numpy scalars/arrays found in options (anything else: TypeError)."""
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (tuple, set, frozenset)):
        return list(obj)
    raise TypeError(f"cannot send a value of type {type(obj).__name__} to Julia: {obj!r}")


def encode_frame(msg: dict, payload: bytes = b"") -> bytes:
    """Bytes of one frame: magic, lengths, JSON header, payload."""
    header = json.dumps(msg, allow_nan=True, separators=(",", ":"),
                        default=json_default).encode("utf-8")
    return MAGIC + PREFIX.pack(len(header), len(payload)) + header + payload


def read_exactly(stream, n: int) -> bytes:
    """``n`` bytes from a binary stream; ``EOFError`` if it ends first."""
    chunks = []
    while n > 0:
        b = stream.read(n)
        if not b:
            raise EOFError
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def read_frame(stream) -> tuple[dict, bytes]:
    """Read one frame from a binary stream; ``EOFError`` at end of stream.

    Raises ``WorkerProtocolError`` for bytes that are not a frame.
    """
    pre = read_exactly(stream, len(MAGIC) + PREFIX.size)
    if pre[:4] != MAGIC:
        raise WorkerProtocolError(f"bad frame magic {pre[:4]!r} (stream desynchronised)")
    jlen, blen = PREFIX.unpack(pre[4:])
    header = read_exactly(stream, jlen)
    payload = read_exactly(stream, blen) if blen else b""
    msg = json.loads(header.decode("utf-8"))
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise WorkerProtocolError("frame header is not a JSON object with a 'type'")
    return msg, payload


def f64_array(name: str, a) -> tuple[dict, bytes]:
    """The header entry and payload bytes of one float64 array (2-D: column-major, for Julia)."""
    a = np.asarray(a, dtype="<f8")
    if a.ndim == 2:
        data = np.asfortranarray(a).tobytes(order="F")
    else:
        data = np.ascontiguousarray(a).tobytes()
    return {"name": name, "dtype": "float64", "shape": list(a.shape)}, data


def check_protocol_version(hello: dict, expected: int = PROTOCOL_VERSION) -> None:
    """Refuse a worker whose ``hello`` announces another protocol version.

    Raises ``WorkerProtocolError`` naming both versions: the Python package
    and the Julia engine it started come from different KeplerSR versions.
    """
    got = hello.get("protocol_version")
    if got == expected and type(got) is type(expected):
        return
    if got is None:
        what = "announces no protocol_version in its hello"
    else:
        what = f"speaks protocol version {got!r}"
    raise WorkerProtocolError(
        f"the Julia worker {what}, but this keplersr Python package speaks protocol "
        f"version {expected}: the Python package and the Julia engine sources it started "
        "come from different KeplerSR versions; reinstall KeplerSR so that both match "
        "(a stale KEPLERSR_SYSIMAGE image can also hold an old worker).")
