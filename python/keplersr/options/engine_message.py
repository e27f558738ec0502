"""The estimator's parameters -> the engine's options message (JSON-able dict).

Every ``direct`` option of the declaration travels under its own name after
validation; the ``custom`` ones (operators, loss, constraints, mutation
weights, seed, units) are translated here. Nothing here touches Julia, so a
bad value is a ``ValueError`` naming the option before any search starts.
See docs/PROTOCOL.md for the message.

Layer: above the declaration and the operator spec.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from sklearn.utils._param_validation import validate_parameter_constraints

from .declaration import LOSSES, MUTATION_KINDS, OPTIONS, defaults, option, parameter_constraints
from .operator_spec import OperatorSpec, build_operator_spec

PARAMETER_CONSTRAINTS = parameter_constraints()

__all__ = ["validate_params", "engine_options", "default_engine_options", "seed_from", "units_options"]


def validate_params(params: Mapping[str, Any]) -> dict:
    """The one validation of the estimator's parameters.

    Every scalar option against its scikit-learn constraint (``InvalidParameterError``, a
    ``ValueError``, naming the option), plus the checks across options; returns the parameters
    normalised to plain Python values. The structured options (operators, constraints, mutation
    weights, loss source, units) are checked where they are translated, in :func:`engine_options`.
    """
    validate_parameter_constraints(PARAMETER_CONSTRAINTS, dict(params), caller_name="SymbolicRegressor")
    out = dict(params)
    for o in OPTIONS:
        out[o.name] = o.normalise(params[o.name])
    if out["tournament_selection_n"] > out["population_size"]:
        raise ValueError(f"tournament_selection_n ({out['tournament_selection_n']}) must be <= "
                         f"population_size ({out['population_size']})")
    if out["deterministic"] and out["random_state"] is None:
        raise ValueError("deterministic=True needs random_state (a seed)")
    out["hosts"] = _hosts(params["hosts"])
    if out["parallelism"] != "multiprocessing" and (out["hosts"] or out["cluster_manager"]):
        raise ValueError(f"hosts and cluster_manager need parallelism='multiprocessing', "
                         f"got parallelism={out['parallelism']!r}")
    if out["hosts"] and out["cluster_manager"]:
        raise ValueError("give either hosts or cluster_manager='slurm', not both")
    return out


def _hosts(hosts) -> list:
    """``hosts``: None, a machine file path, or a list of "host" / "host:n" strings -> a list of strings.

    Every entry is ``[user@]host[:n]`` with a user and host made of letters,
    digits, ``.``, ``-`` and ``_``, not beginning with ``-`` (``ssh`` would
    take ``-oProxyCommand=...`` for an option); a machine file is read here
    and each of its lines checked the same way (``[n*][user@]host[:port]``).
    """
    if hosts is None or (isinstance(hosts, (list, tuple)) and len(hosts) == 0):
        return []
    if isinstance(hosts, str):
        import os
        if not os.path.isfile(hosts):
            raise ValueError(f"hosts: {hosts!r} is not a file; give a list like ['node1', 'node2:4'] "
                             "or the path of a Julia machine file")
        _check_machine_file(hosts)
        return [os.path.abspath(hosts)]
    if not isinstance(hosts, (list, tuple)):
        raise ValueError(f"hosts must be a list of 'host' or 'host:n' strings, got {hosts!r}")
    out = []
    for h in hosts:
        if not isinstance(h, str) or not h.strip():
            raise ValueError(f"hosts entries must be non-empty strings, got {h!r}")
        entry = h.strip()
        address, colon, n = entry.partition(":")
        problem = host_problem(address)
        if problem is None and colon and not (n.isdigit() and int(n) >= 1):
            problem = "the process count after ':' must be an integer >= 1"
        if problem is not None:
            raise ValueError(f"hosts entry {h!r}: {problem} (expected 'host', 'host:n' or 'user@host:n' "
                             "with n >= 1)")
        out.append(entry)
    return out


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


def _name_problem(name: str, what: str):
    """Why ``name`` (a host or user name) is refused, or None."""
    if not name:
        return f"the {what} is empty"
    if name.startswith("-"):
        return f"the {what} {name!r} begins with '-' (ssh would read it as an option)"
    if any(c.isspace() for c in name):
        return f"the {what} {name!r} contains whitespace"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return f"the {what} {name!r} contains a control character"
    bad = sorted({c for c in name if c not in _NAME_CHARS})
    if bad:
        return (f"the {what} {name!r} contains {''.join(bad)!r}; host and user names may use letters, digits, "
                "'.', '-' and '_'")
    return None


def host_problem(address: str):
    """Why ``address`` (``host`` or ``user@host``, without ``:n``) is refused as an SSH host, or None.

    The same rules as the engine's ``parse_hosts`` (julia/parallel/host_names.jl).
    """
    user, at, host = address.rpartition("@")
    if at:
        if "@" in user:
            return f"{address!r} has more than one '@'"
        problem = _name_problem(user, "user")
        if problem is not None:
            return problem
    return _name_problem(host, "host")


def _check_machine_file(path: str) -> None:
    """Check every line of the Julia machine file ``path`` (``[n*][user@]host[:port]``, ``#`` comments)."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"hosts: cannot read the machine file {path}: {err}") from None
    found = False
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"hosts: machine file {path}, line {number}: {raw.strip()!r}"
        count, star, rest = line.partition("*") if "*" in line else ("", "", line)
        if star and not (count.strip().isdigit() and int(count.strip()) >= 1):
            raise ValueError(f"{where}: the count before '*' must be an integer >= 1")
        # Julia's machine-file line: the host, then optionally the address workers bind to (not used)
        words = rest.split()
        problem = ("no host" if not words else "more than a host and a bind address" if len(words) > 2
                   else None)
        for k, word in enumerate(words if problem is None else []):
            address, colon, port = word.partition(":")
            problem = host_problem(address) if k == 0 else _name_problem(address, "bind address")
            if problem is None and colon and not (port.isdigit() and 1 <= int(port) <= 65535):
                problem = f"the port after ':' in {word!r} must be an integer from 1 to 65535"
            if problem is not None:
                break
        if problem is not None:
            raise ValueError(f"{where}: {problem} (expected '[n*][user@]host[:port]')")
        found = True
    if not found:
        raise ValueError(f"hosts: the machine file {path} names no host")


def seed_from(random_state) -> int:
    """The engine's seed: ``random_state`` itself, or a fresh one when it is ``None``."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0] & 0x7FFFFFFF)
    return int(random_state)


def _op_index(spec: OperatorSpec, name, where):
    if name in spec.binary:
        return 2, spec.binary.index(name) + 1
    if name in spec.unary:
        return 1, spec.unary.index(name) + 1
    raise ValueError(f"{where} names operator {name!r}, which is not in binary_operators or unary_operators")


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def _loss(d, loss):
    if not isinstance(loss, str) or not loss.strip():
        raise ValueError(f"elementwise_loss must be one of {', '.join(map(repr, LOSSES))} or Julia source, "
                         f"got {loss!r}")
    if loss in LOSSES:
        d["loss"] = loss
    elif "=" in loss or "->" in loss:
        d["loss"] = "custom"
        d["elementwise_loss_source"] = loss
    else:
        raise ValueError(
            f"unknown elementwise_loss {loss!r}: use {', '.join(map(repr, LOSSES))} or a Julia function "
            "of (prediction, target), e.g. 'myloss(p, t) = abs(p - t)^1.5'")


def _complexities(d, spec, complexity_of_operators):
    cb = [1] * len(spec.binary)
    cu = [1] * len(spec.unary)
    for name, c in (complexity_of_operators or {}).items():
        kind, idx = _op_index(spec, name, "complexity_of_operators")
        c = _check_int(f"complexity_of_operators[{name!r}]", c, low=1)
        (cb if kind == 2 else cu)[idx - 1] = c
    d["complexity_of_binops"] = cb
    d["complexity_of_unaops"] = cu


def _constraints(d, spec, constraints, nested_constraints):
    # argument-size constraints, PySR style: {"^": (-1, 1), "sin": 5}
    bc = [[-1, -1] for _ in spec.binary]
    uc = [-1 for _ in spec.unary]
    for name, lim in (constraints or {}).items():
        kind, idx = _op_index(spec, name, "constraints")
        if kind == 2:
            if not (isinstance(lim, (tuple, list)) and len(lim) == 2):
                raise ValueError(
                    f"constraints[{name!r}] for a binary operator must be a pair (left, right), got {lim!r}")
            bc[idx - 1] = [_check_int(f"constraints[{name!r}]", v, low=-1) for v in lim]
        else:
            uc[idx - 1] = _check_int(f"constraints[{name!r}]", lim, low=-1)
    d["bin_constraints"] = bc
    d["una_constraints"] = uc
    nested = []
    for outer, inner_map in (nested_constraints or {}).items():
        okind, oidx = _op_index(spec, outer, "nested_constraints")
        if not isinstance(inner_map, dict):
            raise ValueError(
                f"nested_constraints[{outer!r}] must be a dict like {{'sin': 0}}, got {inner_map!r}")
        for inner, mx in inner_map.items():
            ikind, iidx = _op_index(spec, inner, f"nested_constraints[{outer!r}]")
            nested.append([okind, oidx, ikind, iidx,
                           _check_int(f"nested_constraints[{outer!r}][{inner!r}]", mx, low=0)])
    d["nested_constraints"] = nested


def _mutation_weights(d, mutation_weights):
    weights = {}
    for k, v in (mutation_weights or {}).items():
        if k not in MUTATION_KINDS:
            raise ValueError(
                f"unknown mutation kind {k!r} in mutation_weights; kinds are {', '.join(MUTATION_KINDS)}")
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            raise ValueError(f"mutation_weights[{k!r}] must be a finite number, got {v!r}")
        if v < 0:
            raise ValueError(f"mutation_weights[{k!r}] must be >= 0, got {v}")
        weights[k] = float(v)
    d["mutation_weights"] = weights


def engine_options(p: Mapping[str, Any], spec: OperatorSpec | None = None) -> dict:
    """Translate the validated parameters (:func:`validate_params`) into the engine's options message.

    The seed and the units are added by ``fit`` (they depend on the call, not
    only on the parameters).
    """
    if spec is None:
        spec = build_operator_spec(p["binary_operators"], p["unary_operators"], p["extra_sympy_mappings"])
    d = {
        "binary_operators": list(spec.binary),
        "unary_operators": list(spec.unary),
        "extra_operator_sources": list(spec.sources),
    }
    for o in OPTIONS:
        if o.engine == "direct":
            d[o.name] = o.engine_value(p[o.name])
    _loss(d, p["elementwise_loss"])
    _complexities(d, spec, p["complexity_of_operators"])
    _constraints(d, spec, p["constraints"], p["nested_constraints"])
    _mutation_weights(d, p["mutation_weights"])
    # procs: local worker processes with multiprocessing (0: one per Julia thread of the worker);
    # with multithreading it sets the worker's threads instead (keplersr.estimator)
    d["procs"] = (p["procs"] or 0) if p["parallelism"] == "multiprocessing" else 0
    d["hosts"] = p["hosts"]
    return d


def default_engine_options() -> dict:
    """The options message a default ``SymbolicRegressor`` sends (without the seed)."""
    return engine_options(validate_params(defaults()))


def units_options(X_units, y_units, nfeatures: int, noutputs: int, params: Mapping[str, Any]) -> dict:
    """Units of the features / target -> the engine's units keys (exponent vectors over m, s, kg, T, V).

    ``params``: validated (:func:`validate_params`)."""
    if X_units is None and y_units is None:
        return {}
    from ..units import BASE_UNITS, parse_units

    def vec(u, what):
        if isinstance(u, str):
            try:
                dim = parse_units(u)
            except ValueError as err:
                raise ValueError(f"{what}: {err}") from None
        else:
            dim = tuple(u)
            if len(dim) != len(BASE_UNITS):
                raise ValueError(
                    f"{what} must be a unit string or {len(BASE_UNITS)} exponents over {BASE_UNITS}, got {u!r}")
        return [float(x) for x in dim]

    if X_units is None:
        raise ValueError("y_units was given without X_units: dimensional analysis needs both")
    if isinstance(X_units, str) or len(X_units) != nfeatures:
        raise ValueError(f"X_units must give one unit per feature ({nfeatures}), got {X_units!r}")
    out = {"X_units": [vec(u, f"X_units[{j}]") for j, u in enumerate(X_units)]}
    if y_units is not None:
        if noutputs > 1:
            raise ValueError("y_units with a 2-D y is not supported: fit each output separately")
        out["y_units"] = vec(y_units, "y_units")
    out["dimensional_constraint_penalty"] = params["dimensional_constraint_penalty"]
    out["dimensionless_constants_only"] = params["dimensionless_constants_only"]
    return out
