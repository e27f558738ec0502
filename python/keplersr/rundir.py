"""The run directory ``output_directory/<run_id>/``: the hall of fame is
written there while a search runs and when it ends, by atomic replacement
(write a temporary file in the same directory, then ``os.replace``), so a
crash never leaves a torn file. ``run.json`` holds everything needed to
rebuild a fitted model (``SymbolicRegressor.from_file``); constants are
stored as JSON numbers in Python's shortest round-trip form, so they reload
bit for bit. ``hall_of_fame.csv`` is the human-readable table."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import os
import secrets
import tempfile

RUN_FILE = "run.json"
TABLE_FILE = "hall_of_fame.csv"
CHECKPOINT_FILE = "checkpoint.json"


def checkpoint_path(run_dir: str, output: int, noutputs: int) -> str:
    """The checkpoint of output ``output`` (``checkpoint.json``; ``checkpoint_<k>.json`` for a 2-D y).

    The engine writes it atomically (julia/io/checkpoint.jl): the search state
    after the last completed iteration, which ``warm_start`` continues from.
    """
    name = CHECKPOINT_FILE if noutputs == 1 else f"checkpoint_{output}.json"
    return os.path.join(run_dir, name)
FORMAT_VERSION = 1


def new_run_id() -> str:
    """Sortable, unique run id: timestamp plus random suffix."""
    return _dt.datetime.now().strftime("%Y%m%d_%H%M%S_") + secrets.token_hex(3)


def atomic_write_text(path: str, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (same-directory temp file + os.replace)."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _json_safe(x):
    if hasattr(x, "item") and callable(x.item) and getattr(x, "ndim", None) == 0:
        x = x.item()                      # numpy scalars (e.g. niterations=np.int64(40))
    if isinstance(x, float) and x != x:
        return "NaN"
    if isinstance(x, float) and x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    return x


def _json_restore(x):
    if isinstance(x, str) and x in ("NaN", "Infinity", "-Infinity"):
        return float(x.replace("Infinity", "inf"))
    if isinstance(x, dict):
        return {k: _json_restore(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_json_restore(v) for v in x]
    return x


def write_run(run_dir: str, state: dict) -> None:
    """Write ``run.json`` and ``hall_of_fame.csv`` for ``state``.

    ``state`` keys: status, params, variable_names, binary_operators,
    unary_operators, outputs (list of lists of records, one list per output).
    """
    state = dict(state, format_version=FORMAT_VERSION)
    atomic_write_text(os.path.join(run_dir, RUN_FILE), json.dumps(_json_safe(state), indent=1))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["output", "complexity", "loss", "score", "equation", "constants", "constants_stderr"])
    for k, recs in enumerate(state.get("outputs", [])):
        for r in recs:
            w.writerow([k, r["complexity"], repr(r["loss"]), repr(r.get("score", 0.0)), r["equation"],
                        " ".join(repr(c) for c in r.get("constants", [])),
                        " ".join(repr(c) for c in r.get("constants_stderr", []))])
    atomic_write_text(os.path.join(run_dir, TABLE_FILE), buf.getvalue())


def read_run(run_dir: str) -> dict:
    """Read back the state written by :func:`write_run`."""
    path = os.path.join(run_dir, RUN_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no {RUN_FILE} in {run_dir!r}: not a KeplerSR run directory")
    with open(path, encoding="utf-8") as fh:
        state = _json_restore(json.load(fh))
    if state.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported run format {state.get('format_version')!r}")
    return state
