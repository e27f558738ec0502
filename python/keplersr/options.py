"""Validation of the estimator's parameters and their translation into the
engine's options message (see docs/PROTOCOL.md and docs/OPTIONS.md).

Everything here runs before Julia is touched, so a bad value is reported as a
``ValueError`` naming the parameter, and no search is started."""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field

BUILTIN_BINARY = ("+", "-", "*", "/", "^")
BUILTIN_UNARY = (
    "neg", "sin", "cos", "tan", "exp", "log", "sqrt", "abs", "square", "cube",
    "inv", "tanh", "sinh", "cosh", "asin", "acos", "atan",
)
MUTATION_KINDS = (
    "mutate_constant", "mutate_operator", "swap_operands", "add_node",
    "insert_node", "delete_node", "rotate_tree", "randomize", "simplify",
    "optimize", "do_nothing",
)
LOSSES = ("L2", "L1", "Huber")
MODEL_SELECTIONS = ("best", "accuracy", "score")

_DEF_RE = re.compile(r"^\s*(?:function\s+)?([A-Za-z_][A-Za-z0-9_!]*)\s*\(([^)]*)\)\s*(=|$)")


@dataclass
class OperatorSpec:
    """Operators of one search: names in engine order plus Julia sources of user operators."""

    binary: list = field(default_factory=list)
    unary: list = field(default_factory=list)
    sources: list = field(default_factory=list)
    user_names: list = field(default_factory=list)


def parse_operator_entry(entry, arity_hint):
    """Return (name, arity, julia_source or None) for one entry of an operator list."""
    if not isinstance(entry, str) or not entry.strip():
        raise ValueError(f"operator entries must be non-empty strings, got {entry!r}")
    if "(" in entry and "=" in entry:
        m = _DEF_RE.match(entry)
        if m is None:
            raise ValueError(
                f"cannot read the operator definition {entry!r}: write it as Julia, e.g. 'inv2(x) = 1/x^2'")
        name = m.group(1)
        args = [a for a in (s.strip() for s in m.group(2).split(",")) if a]
        if len(args) != arity_hint:
            kind = "binary" if arity_hint == 2 else "unary"
            raise ValueError(
                f"{kind} operator {name!r} must take {arity_hint} argument(s), its definition takes {len(args)}")
        return name, len(args), entry.strip()
    return entry.strip(), arity_hint, None


def build_operator_spec(binary_operators, unary_operators, extra_sympy_mappings):
    """Validate operator lists; user operators must come with a sympy mapping."""
    spec = OperatorSpec()
    mappings = dict(extra_sympy_mappings or {})
    for lst, arity, builtins, out, pname in (
        (binary_operators, 2, BUILTIN_BINARY, spec.binary, "binary_operators"),
        (unary_operators, 1, BUILTIN_UNARY, spec.unary, "unary_operators"),
    ):
        if lst is None:
            continue
        if isinstance(lst, str):
            raise ValueError(f"{pname} must be a list of strings, got the string {lst!r}")
        for entry in lst:
            name, _, src = parse_operator_entry(entry, arity)
            if name in out:
                raise ValueError(f"{pname} lists {name!r} twice")
            if src is not None:
                if name not in mappings:
                    raise ValueError(
                        f"user operator {name!r} needs a sympy mapping: pass "
                        f"extra_sympy_mappings={{{name!r}: lambda ...}}")
                spec.sources.append(src)
                spec.user_names.append(name)
            elif name not in builtins and name not in mappings:
                raise ValueError(
                    f"unknown {'binary' if arity == 2 else 'unary'} operator {name!r} in {pname}; "
                    f"built-ins are {', '.join(builtins)}, or define one as Julia source like "
                    f"'{'myop(x, y) = x*y' if arity == 2 else 'inv2(x) = 1/x^2'}'")
            elif src is None and name not in builtins:
                raise ValueError(
                    f"operator {name!r} is not built in: give its Julia definition in {pname}, "
                    f"e.g. '{name}(x) = ...'")
            out.append(name)
    if not spec.binary and not spec.unary:
        raise ValueError("at least one operator is needed in binary_operators or unary_operators")
    return spec


def _check_int(name, value, low=None, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def _check_float(name, value, low=None, high=None, allow_none=False, strict_low=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    value = float(value)
    if low is not None and (value < low or (strict_low and value == low)):
        raise ValueError(f"{name} must be {'>' if strict_low else '>='} {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


def _op_index(spec, name, where):
    if name in spec.binary:
        return 2, spec.binary.index(name) + 1
    if name in spec.unary:
        return 1, spec.unary.index(name) + 1
    raise ValueError(f"{where} names operator {name!r}, which is not in binary_operators or unary_operators")


def engine_options(est, spec):
    """Translate a validated estimator into the engine's options dict (JSON-able)."""
    maxsize = _check_int("maxsize", est.maxsize, low=1)
    maxdepth = _check_int("maxdepth", est.maxdepth, low=1, allow_none=True)
    populations = _check_int("populations", est.populations, low=1)
    population_size = _check_int("population_size", est.population_size, low=2)
    niterations = _check_int("niterations", est.niterations, low=1)
    ncycles = _check_int("ncycles_per_iteration", est.ncycles_per_iteration, low=1)
    tourn = _check_int("tournament_selection_n", est.tournament_selection_n, low=1)
    if tourn > population_size:
        raise ValueError(
            f"tournament_selection_n ({tourn}) must be <= population_size ({population_size})")
    d = {
        "binary_operators": list(spec.binary),
        "unary_operators": list(spec.unary),
        "extra_operator_sources": list(spec.sources),
        "maxsize": maxsize,
        "maxdepth": maxdepth or 0,
        "populations": populations,
        "population_size": population_size,
        "niterations": niterations,
        "ncycles_per_iteration": ncycles,
        "tournament_selection_n": tourn,
        "tournament_selection_p": _check_float("tournament_selection_p", est.tournament_selection_p, 0.0, 1.0),
        "parsimony": _check_float("parsimony", est.parsimony, low=0.0),
        "adaptive_parsimony_scaling": _check_float("adaptive_parsimony_scaling", est.adaptive_parsimony_scaling, low=0.0),
        "use_frequency": bool(est.use_frequency),
        "annealing": bool(est.annealing),
        "alpha": _check_float("alpha", est.alpha, low=0.0, strict_low=True),
        "crossover_probability": _check_float("crossover_probability", est.crossover_probability, 0.0, 1.0),
        "optimize_probability": _check_float("optimize_probability", est.optimize_probability, 0.0, 1.0),
        "optimizer_iterations": _check_int("optimizer_iterations", est.optimizer_iterations, low=1),
        "optimizer_nrestarts": _check_int("optimizer_nrestarts", est.optimizer_nrestarts, low=0),
        "fraction_replaced": _check_float("fraction_replaced", est.fraction_replaced, 0.0, 1.0),
        "fraction_replaced_hof": _check_float("fraction_replaced_hof", est.fraction_replaced_hof, 0.0, 1.0),
        "topn": _check_int("topn", est.topn, low=1),
        "perturbation_factor": _check_float("perturbation_factor", est.perturbation_factor, low=0.0),
        "should_simplify": bool(est.should_simplify),
        "complexity_of_constants": _check_int("complexity_of_constants", est.complexity_of_constants, low=1),
        "complexity_of_variables": _check_int("complexity_of_variables", est.complexity_of_variables, low=1),
        "deterministic": bool(est.deterministic),
        "linear_scaling": bool(est.linear_scaling),
        "enumerate_max_complexity": _check_int(
            "enumerate_max_complexity", est.enumerate_max_complexity, low=0),
        "enumerate_max_candidates": _check_int(
            "enumerate_max_candidates", est.enumerate_max_candidates, low=1),
        "enumerate_time_budget": _check_float(
            "enumerate_time_budget", est.enumerate_time_budget, low=0.0),
        "progress_interval": _check_float("progress_interval", est.progress_interval, low=0.05),
    }
    # stopping rules
    t = _check_float("timeout_in_seconds", est.timeout_in_seconds, low=0.0, allow_none=True, strict_low=True)
    d["timeout_in_seconds"] = t or 0.0
    d["max_evals"] = _check_int("max_evals", est.max_evals, low=1, allow_none=True) or 0
    esc = _check_float("early_stop_condition", est.early_stop_condition, allow_none=True)
    d["early_stop_condition"] = esc   # None -> NaN (no early stop) in the engine
    if est.deterministic and est.random_state is None:
        raise ValueError("deterministic=True needs random_state (a seed)")
    # loss
    loss = est.elementwise_loss
    if not isinstance(loss, str) or not loss.strip():
        raise ValueError(f"elementwise_loss must be 'L2', 'L1', 'Huber' or Julia source, got {loss!r}")
    if loss in LOSSES:
        d["loss"] = loss
    elif "=" in loss or "->" in loss:
        d["loss"] = "custom"
        d["elementwise_loss_source"] = loss
    else:
        raise ValueError(
            f"unknown elementwise_loss {loss!r}: use 'L2', 'L1', 'Huber' or a Julia function "
            "of (prediction, target), e.g. 'myloss(p, t) = abs(p - t)^1.5'")
    d["huber_delta"] = _check_float("huber_delta", est.huber_delta, low=0.0, strict_low=True)
    # per-operator complexities
    cb = [1] * len(spec.binary)
    cu = [1] * len(spec.unary)
    for name, c in (est.complexity_of_operators or {}).items():
        kind, idx = _op_index(spec, name, "complexity_of_operators")
        c = _check_int(f"complexity_of_operators[{name!r}]", c, low=1)
        (cb if kind == 2 else cu)[idx - 1] = c
    d["complexity_of_binops"] = cb
    d["complexity_of_unaops"] = cu
    # argument-size constraints, PySR style: {"^": (-1, 1), "sin": 5}
    bc = [[-1, -1] for _ in spec.binary]
    uc = [-1 for _ in spec.unary]
    for name, lim in (est.constraints or {}).items():
        kind, idx = _op_index(spec, name, "constraints")
        if kind == 2:
            if not (isinstance(lim, (tuple, list)) and len(lim) == 2):
                raise ValueError(f"constraints[{name!r}] for a binary operator must be a pair (left, right), got {lim!r}")
            bc[idx - 1] = [_check_int(f"constraints[{name!r}]", v, low=-1) for v in lim]
        else:
            uc[idx - 1] = _check_int(f"constraints[{name!r}]", lim, low=-1)
    d["bin_constraints"] = bc
    d["una_constraints"] = uc
    nested = []
    for outer, inner_map in (est.nested_constraints or {}).items():
        okind, oidx = _op_index(spec, outer, "nested_constraints")
        if not isinstance(inner_map, dict):
            raise ValueError(f"nested_constraints[{outer!r}] must be a dict like {{'sin': 0}}, got {inner_map!r}")
        for inner, mx in inner_map.items():
            ikind, iidx = _op_index(spec, inner, f"nested_constraints[{outer!r}]")
            nested.append([okind, oidx, ikind, iidx,
                           _check_int(f"nested_constraints[{outer!r}][{inner!r}]", mx, low=0)])
    d["nested_constraints"] = nested
    # mutation weights
    weights = {}
    for k, v in (est.mutation_weights or {}).items():
        if k not in MUTATION_KINDS:
            raise ValueError(f"unknown mutation kind {k!r} in mutation_weights; kinds are {', '.join(MUTATION_KINDS)}")
        weights[k] = _check_float(f"mutation_weights[{k!r}]", v, low=0.0)
    d["mutation_weights"] = weights
    if est.model_selection not in MODEL_SELECTIONS:
        raise ValueError(f"model_selection must be one of {MODEL_SELECTIONS}, got {est.model_selection!r}")
    return d
