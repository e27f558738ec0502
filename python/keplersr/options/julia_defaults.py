"""The engine's option defaults, generated from the declaration.

The declaration is the only place a default is written. The engine reads
every value from the options message, so its defaults only serve Julia-only
code (its unit tests, benches, the system-image workload); they live in
``julia/core/declared_defaults.jl``, which this module writes from
:func:`keplersr.options.default_engine_options` (the message a default
estimator sends). ``python -m keplersr.options julia`` rewrites the file;
building the system image (``keplersr.install``) refuses a stale one, and a
test checks it too.

Layer: above the engine message.
"""

from __future__ import annotations

import math
from pathlib import Path

from .declaration import option
from .engine_message import default_engine_options

__all__ = ["julia_defaults_source", "julia_defaults_path", "check_julia_defaults", "write_julia_defaults",
           "StaleJuliaDefaultsError"]

# keys of the default message that are not plain options of the engine (the operator set, its
# per-operator lists and the mutation weights, whose defaults the engine derives itself)
_NOT_PLAIN = ("binary_operators", "unary_operators", "extra_operator_sources", "complexity_of_binops",
              "complexity_of_unaops", "bin_constraints", "una_constraints", "nested_constraints",
              "mutation_weights")
_UNITS_OPTIONS = ("dimensional_constraint_penalty", "dimensionless_constants_only")
# message values that are names of a choice: Julia reads them as Symbols
_SYMBOL_OPTIONS = ("batching", "parallelism", "cluster_manager", "loss")


class StaleJuliaDefaultsError(RuntimeError):
    """``julia/core/declared_defaults.jl`` does not match the declaration."""


def _julia_literal(name, value) -> str:
    if name in _SYMBOL_OPTIONS:
        return ":" + value
    if value is None:                       # an unset float option (early_stop_condition)
        return "NaN"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"default of {name} is not finite: {value!r}")
        return repr(value)
    if isinstance(value, list) and not value:
        return "String[]"                   # hosts
    raise TypeError(f"no Julia literal for the default of {name}: {value!r}")


def julia_defaults_source() -> str:
    """The text of ``julia/core/declared_defaults.jl``."""
    msg = default_engine_options()
    # the units keys travel only with units (units_options); their defaults are declared all the same
    for name in _UNITS_OPTIONS:
        msg[name] = option(name).default
    rows = [f"    {k} = {_julia_literal(k, v)}," for k, v in msg.items() if k not in _NOT_PLAIN]
    choices = []
    for name in _SYMBOL_OPTIONS:
        if name == "loss":
            continue                        # the engine's own table: BUILTIN_LOSSES
        o = option(name)
        values = list(o.choices) + ([o.none_value] if o.allow_none else [])
        choices.append(f"    {name} = ({', '.join(':' + v for v in values)},),")
    return ("# GENERATED from python/keplersr/options/declaration.py by `python -m keplersr.options julia`;\n"
            "# do not edit. The defaults of the options the estimator sends (the engine's option structs\n"
            "# in core/options.jl take their defaults from here; the engine itself always receives\n"
            "# every value in the options message).\n"
            "const DECLARED_DEFAULTS = (\n" + "\n".join(rows) + "\n)\n\n"
            "# The values of each choice option (a message string becomes one of these Symbols).\n"
            "const DECLARED_CHOICES = (\n" + "\n".join(choices) + "\n)\n")


def julia_defaults_path(project_dir=None) -> Path:
    from ..julia_env import julia_project_dir
    return Path(project_dir or julia_project_dir()) / "core" / "declared_defaults.jl"


def check_julia_defaults(project_dir=None) -> None:
    """Raise :class:`StaleJuliaDefaultsError` when the engine's generated defaults are not current."""
    path = julia_defaults_path(project_dir)
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if current != julia_defaults_source():
        raise StaleJuliaDefaultsError(
            f"{path} does not match the option declaration; regenerate it: python -m keplersr.options julia")


def write_julia_defaults(project_dir=None) -> Path:
    path = julia_defaults_path(project_dir)
    path.write_text(julia_defaults_source(), encoding="utf-8")
    return path
