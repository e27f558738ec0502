"""The one declaration of every ``SymbolicRegressor`` option.

Each :class:`Option` row gives the name, the default, the accepted values
(type and range), the group it belongs to and its meaning. From this table
are derived:

- the estimator's constructor signature and docstring
  (:mod:`keplersr.estimator`),
- the validation of every value in ``fit``: scikit-learn's
  ``_parameter_constraints`` (:meth:`Option.constraints`), an
  ``InvalidParameterError`` (a ``ValueError``) naming the option, before
  Julia is touched,
- the engine's options message (:mod:`keplersr.options.engine_message`; the
  ``engine`` field says how a value travels),
- the ``keplersr fit`` command-line flags (:mod:`keplersr.cli`; the ``cli`` field),
- the system-image workload (its fits use the default message),
- the option reference in README.md (:mod:`keplersr.options.reference`,
  checked by a test).

The Julia engine's own defaults (``option_defaults()`` in
``julia/core/options.jl``) are checked against this table by
``tests/test_options_declaration.py``.

Adding an option: one row here plus its implementation (engine or Python).

Layer: leaf (imports only the operator table).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from sklearn.utils._param_validation import Interval, StrOptions, validate_parameter_constraints

from ..operators import BINARY, UNARY

__all__ = ["Option", "OPTIONS", "GROUPS", "option", "defaults", "parameter_constraints", "MUTATION_KINDS",
           "LOSSES", "MODEL_SELECTIONS"]

#: Mutation kinds accepted as keys of ``mutation_weights`` (the engine's order).
MUTATION_KINDS: Tuple[str, ...] = (
    "mutate_constant", "mutate_operator", "swap_operands", "add_node",
    "insert_node", "delete_node", "rotate_tree", "randomize", "simplify",
    "optimize", "do_nothing",
)
#: Built-in elementwise losses (a Julia function source is accepted too).
LOSSES: Tuple[str, ...] = ("L2", "L1", "Huber")
#: Rules choosing one formula of the front (see keplersr.model_selection).
MODEL_SELECTIONS: Tuple[str, ...] = ("best", "accuracy", "score")

#: Groups in the order the reference shows them.
GROUPS: Tuple[str, ...] = (
    "operators", "size and shape", "search schedule", "evolution", "constants",
    "loss", "selection", "stopping and reproducibility", "speed-ups", "units",
    "decomposition", "run and worker",
)

# Kinds of value. "custom" options are validated by their implementation.
_SCALAR_KINDS = ("int", "float", "bool", "str", "choice")


@dataclass(frozen=True)
class Option:
    """One option of the estimator.

    ``kind``: ``"int"``, ``"float"``, ``"bool"``, ``"str"``, ``"choice"``
    (one of ``choices``) or ``"custom"`` (a structured value such as an
    operator list or a dict; validated where it is implemented).
    ``low``/``high`` bound numbers (``strict_low``: ``> low``);
    ``allow_none``: ``None`` is accepted (it means what ``doc`` says).
    ``engine``: ``"direct"`` (sent to the engine under the same name; a
    ``None`` is sent as ``none_value``), ``"custom"`` (translated by
    :mod:`keplersr.options.engine_message`), or ``None`` (Python side only).
    ``cli``: exposed as a ``keplersr fit`` flag (``True``), not exposed
    (``False``), or ``"json"``: a structured option given as a JSON object
    (``--constraints '{"^": [-1, 1]}'``); ``cli_aliases``: extra flags.
    """

    name: str
    default: Any
    kind: str
    group: str
    doc: str
    low: Optional[float] = None
    high: Optional[float] = None
    strict_low: bool = False
    allow_none: bool = False
    choices: Tuple[str, ...] = ()
    engine: Optional[str] = "direct"
    none_value: Any = None
    cli: Any = True
    cli_aliases: Tuple[str, ...] = ()

    def constraints(self):
        """This option's entry of scikit-learn's ``_parameter_constraints`` (the one validation)."""
        if self.kind in ("int", "float"):
            closed = {(True, True): "both", (True, False): "left", (False, True): "right",
                      (False, False): "neither"}[(self.low is not None and not self.strict_low,
                                                  self.high is not None)]
            out = [Interval(numbers.Integral if self.kind == "int" else numbers.Real,
                            self.low, self.high, closed=closed)]
        elif self.kind == "bool":
            out = ["boolean"]
        elif self.kind == "str":
            out = [str]
        elif self.kind == "choice":
            out = [StrOptions(set(self.choices))]
        else:
            return "no_validation"            # structured values: checked where they are translated
        return out + [None] if self.allow_none else out

    def normalise(self, value):
        """A valid ``value`` as a plain Python value (numpy scalars become int, float, bool)."""
        if value is None or self.kind not in ("int", "float", "bool"):
            return value
        return {"int": int, "float": float, "bool": bool}[self.kind](value)

    def validate(self, value):
        """``value`` checked by :meth:`constraints` and normalised; ``ValueError`` naming the option."""
        validate_parameter_constraints({self.name: self.constraints()}, {self.name: value},
                                       caller_name="SymbolicRegressor")
        return self.normalise(value)

    def engine_value(self, value):
        """A validated ``value`` as the engine receives it (``direct`` options only)."""
        return self.none_value if value is None else self.normalise(value)

    @property
    def scalar(self) -> bool:
        return self.kind in _SCALAR_KINDS


def _o(name, default, kind, group, doc, **kw) -> Option:
    return Option(name, default, kind, group, doc, **kw)


_OPS = ", ".join(f"`{n}`" for n in BINARY)
_UNA = ", ".join(f"`{n}`" for n in UNARY)

OPTIONS: Tuple[Option, ...] = (
    # operators
    _o("binary_operators", ("+", "-", "*", "/"), "custom", "operators",
       f"built-ins {_OPS} (`^` is a safe power), or Julia definitions like `\"myop(x, y) = x*y + 1\"`",
       engine="custom"),
    _o("unary_operators", (), "custom", "operators",
       f"built-ins {_UNA}, or Julia definitions like `\"inv2(x) = 1/x^2\"`; "
       "out-of-domain inputs give NaN and the candidate is rejected", engine="custom"),
    _o("extra_sympy_mappings", None, "custom", "operators",
       "sympy forms of user operators, e.g. `{\"inv2\": lambda x: 1/x**2}` (required for each user operator)",
       engine="custom", cli=False),
    # size and shape
    _o("maxsize", 20, "int", "size and shape", "largest complexity searched", low=1),
    _o("maxdepth", None, "int", "size and shape", "largest tree depth (`None`: `maxsize`)",
       low=1, allow_none=True, none_value=0),
    _o("constraints", None, "custom", "size and shape",
       "argument-size limits, e.g. `{\"^\": (-1, 1), \"sin\": 5}` (-1 = unlimited)", engine="custom", cli="json"),
    _o("nested_constraints", None, "custom", "size and shape",
       "nesting limits, e.g. `{\"sin\": {\"sin\": 0, \"cos\": 0}}` forbids `sin(sin(x))`; merged over the engine's "
       "defaults: no transcendental function (sin cos tan exp log tanh sinh cosh asin acos atan) inside another, "
       "except trig inside `exp`, `asin`, `acos`, `atan`; a pair named here overrides its default "
       "(e.g. `{\"tanh\": {\"tanh\": 9}}`)",
       engine="custom", cli="json"),
    _o("complexity_of_operators", None, "custom", "size and shape",
       "per-operator complexity, e.g. `{\"exp\": 3}`", engine="custom", cli="json"),
    _o("complexity_of_constants", 1, "int", "size and shape", "complexity of a constant leaf", low=1),
    _o("complexity_of_variables", 1, "int", "size and shape", "complexity of a variable leaf", low=1),
    # search schedule
    _o("niterations", 40, "int", "search schedule",
       "iterations; each runs `ncycles_per_iteration` annealing cycles on every population, then draws the "
       "migration (its migrants arrive one iteration later, so worker processes need not wait for each other)",
       low=1),
    _o("populations", 15, "int", "search schedule",
       "number of populations (evolved in parallel on the Julia threads)", low=1),
    _o("population_size", 33, "int", "search schedule", "members per population", low=2),
    _o("ncycles_per_iteration", 300, "int", "search schedule",
       "temperature steps (T from 1 to 0) per iteration", low=1),
    # evolution
    _o("parsimony", 0.0032, "float", "evolution",
       "score = loss / baseline loss + parsimony × complexity", low=0.0),
    _o("adaptive_parsimony_scaling", 20.0, "float", "evolution",
       "penalty on over-crowded complexities (with `use_frequency`)", low=0.0),
    _o("use_frequency", True, "bool", "evolution", "adaptive parsimony on/off"),
    _o("annealing", True, "bool", "evolution",
       "simulated annealing: accept a worse candidate with p = exp(−(s_new − s_old)/(α T s_old))"),
    _o("alpha", 0.1, "float", "evolution", "annealing temperature scale α", low=0.0, strict_low=True),
    _o("crossover_probability", 0.066, "float", "evolution",
       "probability that a step is a crossover instead of a mutation", low=0.0, high=1.0),
    _o("mutation_weights", None, "custom", "evolution",
       "dict of relative weights by mutation kind: " + " ".join(f"`{k}`" for k in MUTATION_KINDS)
       + " (unnamed kinds keep the engine's defaults)", engine="custom", cli="json"),
    _o("perturbation_factor", 0.076, "float", "evolution", "size of constant mutations", low=0.0),
    _o("probability_negate_constant", 0.01, "float", "evolution",
       "probability that a constant mutation also flips the constant's sign", low=0.0, high=1.0),
    _o("should_simplify", True, "bool", "evolution",
       "algebraic simplification of members after each iteration"),
    _o("fraction_replaced", 0.00036, "float", "evolution",
       "fraction of each population replaced by migrants from the other populations", low=0.0, high=1.0),
    _o("fraction_replaced_hof", 0.035, "float", "evolution",
       "fraction of each population replaced by migrants from the hall of fame", low=0.0, high=1.0),
    _o("guesses", None, "custom", "evolution",
       "formulas to start from, e.g. `[\"1.0*x0*x1 + 0.5\"]` (strings or sympy expressions in the variable "
       "names; their constants are fitted starting values); for a 2-D `y` one list per output, or one list "
       "for all; `fit(..., guesses=...)` overrides it", engine=None, cli=False),
    _o("fraction_replaced_guesses", 0.1, "float", "evolution",
       "fraction of each population replaced, after every iteration's migration, by copies of the `guesses` "
       "(their constants fitted); no effect without guesses", low=0.0, high=1.0),
    _o("topn", 12, "int", "evolution", "best members of each population offered as migrants", low=1),
    # constants
    _o("optimize_probability", 0.14, "float", "constants",
       "probability per member and iteration of a constant fit", low=0.0, high=1.0),
    _o("optimizer_iterations", 8, "int", "constants",
       "Levenberg–Marquardt (L2) or BFGS (other losses) iterations per fit", low=1),
    _o("optimizer_nrestarts", 2, "int", "constants", "restarts of each constant fit from perturbed values",
       low=0),
    _o("snap_constants", True, "bool", "constants",
       "after the search, show a constant as an exact value (small fractions times 1, π, 1/π, π², √π, √(2π), "
       "√2, √3 or e; 0 drops the term) when it lies within 4 standard errors, is clearly simpler than the "
       "constant's precision, and the formula's L2 loss stays statistically equivalent (F-test at 0.1%); "
       "`sympy_raw` and `constants` keep the fitted values", engine=None),
    # loss
    _o("elementwise_loss", "L2", "str", "loss",
       "`\"L2\"`, `\"L1\"`, `\"Huber\"` (with `huber_delta`), or a Julia function of (prediction, target) "
       "like `\"myloss(p, t) = abs(p - t)^1.5\"`", engine="custom",
       cli_aliases=("--loss",)),
    _o("huber_delta", 1.0, "float", "loss", "Huber transition point", low=0.0, strict_low=True),
    # selection
    _o("tournament_selection_n", 15, "int", "selection", "tournament size (at most `population_size`)",
       low=1),
    _o("tournament_selection_p", 0.982, "float", "selection",
       "probability that a tournament picks its best member", low=0.0, high=1.0),
    _o("model_selection", "best", "choice", "selection",
       "formula chosen by `predict`/`sympy`: `\"best\"` (highest score among losses ≤ 1.5 × the lowest), "
       "`\"accuracy\"` (lowest loss), `\"score\"` (highest score)", choices=MODEL_SELECTIONS, engine=None),
    # stopping and reproducibility
    _o("timeout_in_seconds", None, "float", "stopping and reproducibility",
       "stop after this wall time (`None`: no limit)", low=0.0, strict_low=True, allow_none=True,
       none_value=0.0, cli_aliases=("--timeout",)),
    _o("max_evals", None, "int", "stopping and reproducibility",
       "stop after this many candidate evaluations (`None`: no limit)", low=1, allow_none=True,
       none_value=0),
    _o("early_stop_condition", None, "float", "stopping and reproducibility",
       "stop when a formula's loss is ≤ this (`None`: never)", allow_none=True),
    _o("random_state", None, "int", "stopping and reproducibility",
       "seed (`None`: a fresh one each fit)", low=0, allow_none=True, engine="custom",
       cli_aliases=("--seed",)),
    _o("deterministic", False, "bool", "stopping and reproducibility",
       "with a seed: identical results run to run, on any number of threads "
       "(time-based stopping is then disabled)"),
    # speed-ups
    _o("linear_scaling", False, "bool", "speed-ups",
       "the hall of fame also receives a·f, f + b and a·f + b of every candidate f (closed-form a, b; "
       "the front shows the explicit formula and counts its nodes); evolution itself is unchanged"),
    _o("enumerate_max_complexity", 7, "int", "speed-ups",
       "before evolving, enumerate every value-distinct expression up to this complexity and seed the "
       "hall of fame and populations with them (0: off)", low=0),
    _o("enumerate_max_candidates", 50000, "int", "speed-ups",
       "at most this many distinct expressions are enumerated", low=1),
    _o("enumerate_time_budget", 5.0, "float", "speed-ups",
       "seconds the enumeration may take (ignored when `deterministic`)", low=0.0),
    _o("batching", "auto", "choice", "speed-ups",
       "score candidates and fit their constants on a fresh random batch of `batch_size` rows per "
       "iteration and population (the hall of fame still gets full-data losses, and the final front's "
       "constants are refitted on all rows): `\"on\"`, `\"off\"`, or `\"auto\"` (on above 10,000 rows)",
       choices=("auto", "on", "off")),
    _o("batch_size", 1000, "int", "speed-ups", "rows per batch (with `batching`)", low=1),
    # units
    _o("dimensional_constraint_penalty", 1000.0, "float", "units",
       "with `X_units`/`y_units`: loss penalty of a dimensionally inconsistent candidate while it evolves; "
       "inconsistent formulas never enter the hall of fame", low=0.0, engine="custom"),
    _o("dimensionless_constants_only", False, "bool", "units",
       "with units: constants are dimensionless instead of taking whatever units fit", engine="custom"),
    # decomposition
    _o("decompose_units", True, "bool", "decomposition",
       "with `X_units` and `y_units`: search y / M(x) = f(pi) over the dimensionless groups pi (Buckingham "
       "pi; M: a product of powers of the features with y's units) and write the result back in the "
       "features", engine=None),
    _o("decompose_separability", True, "bool", "decomposition",
       "test a smooth surrogate of the data for f = g(A) + h(B) and f = g(A) * h(B) over splits of the "
       "variables, and search the parts separately", engine=None),
    _o("decompose_transforms", True, "bool", "decomposition",
       "separability also after transforming y (y², √y, 1/y)", engine=None),
    _o("decompose_symmetry", True, "bool", "decomposition",
       "test the surrogate for f depending on two variables only through x_i − x_j, x_i + x_j, x_i / x_j "
       "or x_i · x_j, and search with that combination as one variable", engine=None),
    _o("decompose_polyfit", True, "bool", "decomposition",
       "AI Feynman's polynomial fit, generalised: fit each sub-problem (and y itself when nothing splits) "
       "by linear least squares as a sparse ratio of polynomials P(x)/Q(x) (also after y -> 1/y, y², "
       "1/y², √y), a sparse polynomial with negative powers, or a power law times the exponential of one; "
       "a fit with few terms is a candidate, and an exact one replaces the sub-problem's search and split",
       engine=None),
    _o("decomposition_depth", 3, "int", "decomposition",
       "decomposition steps applied one inside the other at most (0: no decomposition)", low=0, engine=None),
    _o("decomposition_time_fraction", 0.5, "float", "decomposition",
       "share of `timeout_in_seconds` for the decomposition's analysis and sub-searches (the final search "
       "on all rows, seeded with the composed formulas, gets the rest); without a time limit, the sub-searches "
       "together run this share of `niterations`", low=0.0, high=1.0, strict_low=True, engine=None),
    # run and worker
    _o("parallelism", "multithreading", "choice", "run and worker",
       "where the populations evolve: `\"serial\"` (one after the other), `\"multithreading\"` (on the "
       "worker's Julia threads) or `\"multiprocessing\"` (on worker processes of Julia's Distributed: "
       "`procs` local ones, or those of `hosts`, or of a Slurm allocation with `cluster_manager`); with "
       "`deterministic`, every layout gives the same front",
       choices=("serial", "multithreading", "multiprocessing")),
    _o("procs", None, "int", "run and worker",
       "multithreading: Julia threads of the worker; multiprocessing: local worker processes, which share "
       "the worker's threads (`None`: `KEPLERSR_THREADS`, else the CPUs this process may use, counting "
       "CPU affinity and the cgroup quota); with `cluster_manager=\"slurm\"`: the worker processes `srun` "
       "starts (`None`: `SLURM_NTASKS`)", low=1, allow_none=True, engine="custom"),
    _o("hosts", None, "custom", "run and worker",
       "multiprocessing over SSH: `[\"node1\", \"node2:4\"]` (`host:n`: n processes, 1 thread each; "
       "`user@host:n`) or the path of a Julia machine file (`[n*][user@]host[:port]` lines, checked at "
       "validation); host and user names of letters, digits, `.`, `-` and `_`, not beginning with `-`; needs password-less `ssh` and Julia and KeplerSR at the same "
       "paths on every host; extra `ssh` flags from `KEPLERSR_SSH_FLAGS`; an unreachable host fails "
       "within 10 s", engine="custom", cli=False),
    _o("cluster_manager", None, "choice", "run and worker",
       "`\"slurm\"`: inside a Slurm allocation, start the worker processes with `srun`, one per task "
       "(`SLURM_NTASKS`; `procs` when given, e.g. the job's task count when Python itself runs in a job "
       "step), with `parallelism=\"multiprocessing\"`", choices=("slurm",),
       allow_none=True, none_value="none"),
    _o("heap_size_hint_in_bytes", None, "int", "run and worker",
       "multiprocessing: a heap size per worker process, in bytes, past which it collects garbage "
       "(Julia's `--heap-size-hint` on Julia 1.9 and later; before, the engine collects after an island's "
       "iteration once the heap is past it); `None`: Julia's default. A worker process killed by the "
       "out-of-memory killer or a memory limit is named, with its host, in the progress line",
       low=1, allow_none=True, none_value=0),
    _o("warm_start", False, "bool", "run and worker",
       "the next `fit` continues the search of the last one (populations, hall of fame, counters) for "
       "`niterations` more iterations; after `from_file(run_dir)` it continues that run from its "
       "checkpoint (also a crashed one)", engine=None, cli=False),
    _o("checkpoint_interval", 60.0, "float", "run and worker",
       "seconds between checkpoints of the whole search state to the run directory (`checkpoint.json`, "
       "written atomically; also at the end of every fit); 0: only at the end", low=0.0),
    _o("progress", True, "bool", "run and worker", "progress bar with the live best equation", engine=None),
    _o("verbosity", 1, "int", "run and worker",
       "0: silent; 1: the final front is printed; 2: also the front every 5 s while searching",
       low=0, engine=None),
    _o("progress_interval", 0.5, "float", "run and worker", "seconds between progress messages from the engine",
       low=0.05),
    _o("output_directory", "outputs", "str", "run and worker",
       "parent of the run directory `output_directory/run_id/` (`None`: nothing is written)",
       allow_none=True, engine=None),
    _o("run_id", None, "str", "run and worker", "name of the run directory (`None`: time stamp + random)",
       allow_none=True, engine=None),
    _o("worker_timeout", 120.0, "float", "run and worker",
       "seconds without any message from Julia before the worker counts as hung (it is then killed and "
       "replaced on the next fit)", low=0.0, strict_low=True, engine=None),
    _o("julia", None, "str", "run and worker", "Julia executable (`None`: `KEPLERSR_JULIA`, then `PATH`)",
       allow_none=True, engine=None),
)

_BY_NAME: Dict[str, Option] = {o.name: o for o in OPTIONS}
assert len(_BY_NAME) == len(OPTIONS), "an option is declared twice"
assert all(o.group in GROUPS for o in OPTIONS), "an option names an unknown group"


def option(name: str) -> Option:
    """The declaration of option ``name`` (``KeyError`` if there is none)."""
    return _BY_NAME[name]


def defaults() -> Dict[str, Any]:
    """Every option's default, by name."""
    return {o.name: o.default for o in OPTIONS}


def parameter_constraints() -> Dict[str, list]:
    """scikit-learn's ``_parameter_constraints`` of the estimator, from the declaration."""
    return {o.name: o.constraints() for o in OPTIONS}
