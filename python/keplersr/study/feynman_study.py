"""The AI-Feynman comparison study: KeplerSR and its peers, side by side, on identical data.

For each selected equation of ``FeynmanEquations.csv`` (the copy shipped with
the package unless another table in that format is given):

1. sample ``n_rows`` training points and ``n_test`` held-out points once
   (:func:`keplersr.datasets.feynman.sample`, optional relative noise); every
   method gets exactly these rows;
2. for each method (``keplersr``, ``pyoperon``, ``gplearn``; see
   :mod:`keplersr.study.peers`), build its estimator with the same seed,
   operator set (mapped to the method's own names), wall-clock budget and
   thread count, and fit it through its own scikit-learn API;
3. judge the **selected** formula (the one the user gets) with SRBench's rule
   (:func:`keplersr.study.srbench_judge.judge`): column ``recovered``;
   and every formula of the final front: column ``on_front``;
4. time to recovery (for recovered equations): the first progress snapshot
   (KeplerSR ``history_``) or generation (gplearn) that holds a recovered
   formula, else the fit's wall time (pyoperon, which reports nothing in
   between); column ``time_source`` says which;
5. R^2 of the selected model on the held-out points (the estimator's own
   ``predict``), and candidates evaluated per second
   (:mod:`keplersr.study.judging`).

The methods run one after the other. Before the first equation, the Julia
worker (KeplerSR, default factory) and gplearn's joblib workers are started
with a tiny fit, so no equation's budget pays for them.

Rows (one per equation and method) are appended to ``out_dir/results.csv``
after every fit (atomic rewrite; the table's columns, reading and writing:
:mod:`keplersr.study.results`), so an interrupted study resumes where it
stopped: (equation, method) pairs already present with ``status == "ok"`` are
skipped, failed ones are retried. ``results.md`` (one summary table, then the
per-equation table) and ``recovery_rate_vs_budget.png`` (one line per method)
are rewritten at the end (:mod:`keplersr.study.report`). The column
``aifeynman_time_s`` holds the solve times the AI Feynman paper (Udrescu &
Tegmark 2020, Table 4) reports for the equations it lists.

Estimator factories
-------------------
``estimator_factory`` is one callable for every method or a dict ``method ->
callable`` (methods not in the dict use the defaults:
:func:`default_estimator_factory`, :func:`keplersr.study.peers.pyoperon_factory`,
:func:`~keplersr.study.peers.gplearn_factory`). A factory is called with
the keyword arguments it accepts among ``method, equation, budget_seconds,
seed, threads, binary_operators, unary_operators`` (operators in the method's
terms are built by the default factories). It returns an unfitted estimator
that the method's driver fits: for ``keplersr``, an object with ``fit(X:
DataFrame, y)`` and, after fitting, ``equations_`` (columns ``complexity,
loss, equation, sympy_format``), optionally ``sympy()`` (the selected formula;
else KeplerSR's selection rule is applied to ``equations_``), ``history_``
(``[{"elapsed": s, "evals": n, "records": [...]}, ...]``) and ``predict``.
If ``units_path`` is given and ``fit`` accepts ``X_units``/``y_units`` (or
``**kwargs``), unit strings in :mod:`keplersr.units` syntax are passed (to
KeplerSR only: the peers have no units).
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from keplersr.study import peers
from keplersr.study.peers import METHODS, MissingPeerError, available_threads, operator_plan
from keplersr.study.judging import judge_outcome, recovered_on_positive_domain
from keplersr.study.report import plot_recovery, summary_table, write_markdown
from keplersr.study.results import (
    AIFEYNMAN_TIMES_S,
    RESULT_COLUMNS,
    base_row,
    check_config,
    read_results,
    write_results,
)
from keplersr.datasets.feynman import FEYNMAN_UNITS, FeynmanEquation, load_feynman_equations, sample, select

__all__ = [
    "AIFEYNMAN_TIMES_S",
    "DEFAULT_BINARY_OPERATORS",
    "DEFAULT_UNARY_OPERATORS",
    "METHODS",
    "RESULT_COLUMNS",
    "default_estimator_factory",
    "main",
    "plot_recovery",
    "run_study",
    "sample_equations",
    "summary_table",
    "write_markdown",
]

#: The usual Feynman operator set (KeplerSR names; see keplersr.operators).
DEFAULT_BINARY_OPERATORS = ["+", "-", "*", "/"]
DEFAULT_UNARY_OPERATORS = ["sin", "cos", "exp", "log", "sqrt", "square", "tanh", "asin", "acos"]


def default_estimator_factory(equation: FeynmanEquation, budget_seconds: float, seed: int,
                              threads: Optional[int] = None, binary_operators: Optional[Sequence[str]] = None,
                              unary_operators: Optional[Sequence[str]] = None, options: Optional[Mapping] = None):
    """A :class:`keplersr.SymbolicRegressor` that searches until the time budget runs out.

    ``options``: further estimator parameters (e.g. ``{"decompose_units": False}``), over these."""
    from keplersr import SymbolicRegressor  # imported lazily: needs the Julia engine

    est = SymbolicRegressor(
        timeout_in_seconds=budget_seconds,
        niterations=10**9,
        binary_operators=list(binary_operators or DEFAULT_BINARY_OPERATORS),
        unary_operators=list(unary_operators if unary_operators is not None else DEFAULT_UNARY_OPERATORS),
        random_state=seed,
        procs=threads,
        progress=False,
        verbosity=0,
        # noise-free data: an exact formula reaches rounding-level MSE; stop there
        early_stop_condition=1e-24,
        output_directory=None,   # the study's own results.csv is the record
    )
    return est.set_params(**dict(options or {}))


_DEFAULT_KEPLERSR_FACTORY = default_estimator_factory


def _warm_up_keplersr(eq: FeynmanEquation, config: dict, binary, unary, log) -> None:
    """One short fit, so the first equation's budget is not spent starting and compiling the Julia worker."""
    log("warming up the KeplerSR worker (start and compile, not charged to any equation)")
    X, y = sample(eq, 64, seed=12345)
    try:
        est = default_estimator_factory(equation=eq, budget_seconds=1.0, seed=0, threads=config["threads"],
                                        binary_operators=binary, unary_operators=unary)
        est.fit(X, y)
    except Exception as exc:  # noqa: BLE001 - the study records the real failure per equation
        log(f"KeplerSR warm-up failed: {type(exc).__name__}: {exc}")


def _default_factories() -> Dict[str, Callable]:
    # looked up at call time, so default_estimator_factory can be replaced (tests do)
    return {"keplersr": default_estimator_factory, "pyoperon": peers.pyoperon_factory,
            "gplearn": peers.gplearn_factory}


def _call_factory(factory: Callable, **kwargs):
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return factory(**kwargs)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return factory(**kwargs)
    return factory(**{k: v for k, v in kwargs.items() if k in params})


def _fit_accepts_units(estimator) -> bool:
    try:
        params = inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):
        return False
    if "X_units" in params:
        return True
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _run_one(eq, method, factory, data, config, binary, unary, units, judge_timeout, options=None) -> dict:
    X, y, X_test, y_test = data
    plan = operator_plan(method, binary, unary)
    row = base_row(eq, method, config, plan.describe())
    estimator = _call_factory(
        factory, method=method, equation=eq, budget_seconds=config["budget_s"], seed=config["seed"],
        threads=config["threads"], binary_operators=list(binary), unary_operators=list(unary),
        **({"options": options} if options and method == "keplersr" else {}),
    )
    fit_kwargs = {}
    if units is not None and method == "keplersr":
        from keplersr.units import dimensions_for

        try:
            x_units, y_units = dimensions_for(eq, units).unit_strings()
        except ValueError as exc:
            row["judge_reason"] = f"units not passed: {exc}; "
        else:
            if _fit_accepts_units(estimator):
                fit_kwargs = {"X_units": x_units, "y_units": y_units}
    t0 = time.perf_counter()
    out = peers.run_method(method, estimator, X, y, config["budget_s"], eq.symbols, fit_kwargs)
    row["fit_time_s"] = time.perf_counter() - t0
    row["units_passed"] = bool(out.units_passed)

    row.update(judge_outcome(eq, out, X_test, y_test, row["fit_time_s"], judge_timeout, row["judge_reason"]))
    return row


def sample_equations(equations: Sequence[FeynmanEquation], k: int, seed: int = 0) -> List[FeynmanEquation]:
    """A reproducible random sample of ``k`` equations (table order kept); all of them if ``k >= len``."""
    if k < 1:
        raise ValueError(f"the sample size must be >= 1, got {k}")
    if k >= len(equations):
        return list(equations)
    idx = np.sort(np.random.default_rng(seed).choice(len(equations), size=k, replace=False))
    return [equations[i] for i in idx]


def _parse_methods(methods: Union[str, Sequence[str], None]) -> List[str]:
    if methods is None:
        return ["keplersr"]
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    out = list(dict.fromkeys(str(m).strip().lower() for m in methods))
    unknown = [m for m in out if m not in METHODS]
    if unknown or not out:
        raise ValueError(f"unknown method(s) {unknown or methods}; the methods are {', '.join(METHODS)}")
    return out


def run_study(
    csv_path=None,
    out_dir="feynman-study",
    names: Optional[Sequence] = None,
    budget_seconds: float = 60,
    n_rows: int = 10_000,
    noise: float = 0.0,
    seed: int = 0,
    units_path=None,
    estimator_factory: Union[Callable, Mapping[str, Callable], None] = None,
    resume: bool = True,
    n_test: int = 1000,
    judge_timeout: float = 30.0,
    log: Optional[Callable[[str], None]] = None,
    methods: Union[str, Sequence[str], None] = None,
    threads: Optional[int] = None,
    binary_operators: Optional[Sequence[str]] = None,
    unary_operators: Optional[Sequence[str]] = None,
    sample_size: Optional[int] = None,
    sample_seed: int = 0,
    keplersr_options: Optional[Mapping] = None,
) -> pd.DataFrame:
    """Run (or resume) the comparison study and return the results table.

    ``csv_path``: a table in the AI-Feynman format (default: the copy shipped
    with the package). ``units_path``: a ``units.csv`` whose units are passed
    to KeplerSR's ``fit`` (default: none are passed). ``names`` selects
    equations by name or number (default: all of them); ``sample_size`` then
    draws that many of them at random (``sample_seed``, reproducible).
    ``keplersr_options``: further ``SymbolicRegressor`` parameters for
    KeplerSR (e.g. ``{"decompose_units": False}`` to measure an ingredient's
    effect; checked before anything runs).
    ``methods``: any of :data:`METHODS` (a list or a comma-separated string;
    default ``["keplersr"]``; the CLI's default is all three). A requested
    peer that is not installed raises :class:`~keplersr.study.peers.MissingPeerError`
    (unless a factory for it is given). ``threads``: threads per fit
    (default: the CPUs available to this process). Operators: KeplerSR names
    (default :data:`DEFAULT_BINARY_OPERATORS`, :data:`DEFAULT_UNARY_OPERATORS`).
    ``resume=False`` discards an existing ``results.csv``; with
    ``resume=True`` the existing rows must have the same
    budget/noise/seed/n_rows/threads and operators (else ``ValueError``). An
    estimator error is recorded in ``status`` and the study goes on. Returns
    every row of ``results.csv`` (in file order).
    """
    if budget_seconds <= 0:
        raise ValueError(f"budget_seconds must be > 0, got {budget_seconds}")
    if n_rows < 2 or n_test < 2:
        raise ValueError(f"n_rows and n_test must be >= 2, got {n_rows}, {n_test}")
    methods = _parse_methods(methods)
    if keplersr_options:
        from keplersr.options import OPTIONS

        unknown = sorted(set(keplersr_options) - {o.name for o in OPTIONS})
        if unknown:
            raise ValueError(f"unknown KeplerSR option(s) {unknown}")
    threads = int(threads) if threads is not None else available_threads()
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    binary = list(binary_operators) if binary_operators is not None else list(DEFAULT_BINARY_OPERATORS)
    unary = list(unary_operators) if unary_operators is not None else list(DEFAULT_UNARY_OPERATORS)
    if not binary:
        raise ValueError("at least one binary operator is needed")
    from keplersr.operators import BINARY, UNARY

    bad = [o for o in binary if o not in BINARY] + [o for o in unary if o not in UNARY]
    if bad:
        raise ValueError(f"unknown operator(s) {bad}; binary: {' '.join(BINARY)}; unary: {' '.join(UNARY)}")
    factories = _default_factories()
    if isinstance(estimator_factory, Mapping):
        unknown = [m for m in estimator_factory if m not in METHODS]
        if unknown:
            raise ValueError(f"estimator_factory names unknown method(s) {unknown}")
        custom = set(estimator_factory)
        factories.update(estimator_factory)
    elif estimator_factory is not None:
        custom = set(methods)
        factories.update({m: estimator_factory for m in methods})
    else:
        custom = set()
    for m in methods:
        if m not in custom:
            peers.require(m)

    table = load_feynman_equations(csv_path)
    equations = select(table, names) if names is not None else table
    log = log or (lambda msg: None)
    if sample_size is not None:
        total = len(equations)
        equations = sample_equations(equations, sample_size, sample_seed)
        log(f"sampled {len(equations)} of {total} equations (sample seed {sample_seed}): "
            + ",".join(eq.name for eq in equations))
    units = None
    if units_path is not None:
        from keplersr.units import load_feynman_units

        units = load_feynman_units(units_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.csv"
    if not resume and results_path.exists():
        results_path.unlink()
    results = read_results(results_path)
    results = _fill_positive_verdicts(results, table, judge_timeout, results_path)
    config = {"budget_s": float(budget_seconds), "noise": float(noise), "seed": int(seed), "n_rows": int(n_rows),
              "threads": int(threads)}
    plans = {m: operator_plan(m, binary, unary).describe() for m in methods}
    check_config(results, config, plans, results_path)
    for m in methods:
        log(f"{m}: operators {plans[m]}")

    ok = results["status"] == "ok"
    done = set(zip(results.loc[ok, "name"].astype(str), results.loc[ok, "method"].astype(str)))
    pending_keplersr = [eq for eq in equations if (eq.name, "keplersr") not in done]
    if "keplersr" in methods and pending_keplersr and factories["keplersr"] is _DEFAULT_KEPLERSR_FACTORY:
        _warm_up_keplersr(pending_keplersr[0], config, binary, unary, log)
    if "gplearn" in methods and any((eq.name, "gplearn") not in done for eq in equations) and threads > 1:
        try:
            peers.warm_up_gplearn(threads)
            log(f"started gplearn's {threads} joblib workers (not charged to any equation)")
        except Exception as exc:  # noqa: BLE001 - a custom gplearn factory may stand in for the package
            log(f"gplearn warm-up skipped: {type(exc).__name__}: {exc}")
    for i, eq in enumerate(equations, 1):
        prefix = f"[{i}/{len(equations)}] {eq.name}"
        todo = [m for m in methods if (eq.name, m) not in done]
        if not todo:
            log(f"{prefix}: already in {results_path.name}, skipped")
            continue
        data_seed = int(seed) * 100_003 + 2 * int(eq.number)
        try:
            X, y = sample(eq, n_rows, seed=data_seed, noise=noise)
            X_test, y_test = sample(eq, n_test, seed=data_seed + 1, noise=0.0)
            data_error = None
        except Exception as exc:  # noqa: BLE001 - recorded for every method
            data_error = exc
        for method in todo:
            try:
                if data_error is not None:
                    raise data_error
                row = _run_one(eq, method, factories[method], (X, y, X_test, y_test), config, binary, unary,
                               units, judge_timeout, keplersr_options)
            except Exception as exc:  # noqa: BLE001 - one failing fit must not end the study
                row = base_row(eq, method, config, plans[method])
                row["status"] = f"{type(exc).__name__}: {exc}".replace("\n", " ")
            keep = ~((results["name"].astype(str) == eq.name) & (results["method"].astype(str) == method))
            results = pd.concat([results[keep], pd.DataFrame([row], columns=RESULT_COLUMNS)], ignore_index=True)
            write_results(results, results_path)
            if row["status"] != "ok":
                what = f"failed: {row['status']}"
            elif row["recovered"]:
                what = f"recovered {row['selected_formula']} ({_fmt_s(row['time_to_recovery_s'])})"
            elif row["on_front"]:
                what = f"on the front only: {row['front_formula']} (selected {row['selected_formula']})"
            else:
                what = f"not recovered (selected {row['selected_formula']}, R^2 {row['r2_heldout']:.4g})"
            log(f"{prefix} {method}: {what}")
    results = read_results(results_path)
    write_markdown(results, out / "results.md", methods)
    plot_recovery(results, out / "recovery_rate_vs_budget.png", budget_seconds, methods)
    return results


def _fill_positive_verdicts(results: pd.DataFrame, equations, judge_timeout: float, path: Path) -> pd.DataFrame:
    """Rows written before the positive-domain verdict existed get it from their selected formula."""
    missing = results["recovered_positive"].isna()
    if not missing.any():
        return results
    by_name = {eq.name: eq for eq in equations}
    for i in results.index[missing]:
        eq = by_name.get(str(results.at[i, "name"]))
        results.at[i, "recovered_positive"] = eq is not None and recovered_on_positive_domain(
            eq, str(results.at[i, "selected_formula"]), judge_timeout, bool(results.at[i, "recovered"]))
    write_results(results, path)
    return results


def _fmt_s(v) -> str:
    try:
        return f"{float(v):.2f} s"
    except (TypeError, ValueError):
        return "-"


def _operator_list(text: str) -> List[str]:
    return [s for s in text.replace(",", " ").split() if s]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """CLI entry point for ``keplersr bench feynman`` (``argv`` excludes ``bench feynman``)."""
    parser = argparse.ArgumentParser(
        prog="keplersr bench feynman",
        description="Compare KeplerSR with its peers on the AI-Feynman table (SRBench recovery criterion): "
                    "identical data, operators, wall-clock budget and threads for every method.",
    )
    parser.add_argument("--csv", default=None,
                        help="a table in the FeynmanEquations.csv format (default: the copy shipped with keplersr)")
    parser.add_argument("--out", required=True, help="output directory (results.csv, results.md, PNG)")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help=f"comma-separated subset of {','.join(METHODS)} (default: all three; the peers need "
                             f"{peers.INSTALL_HINT})")
    parser.add_argument("--budget", type=float, default=60.0, help="wall-clock seconds per equation and method "
                                                                   "(default 60)")
    parser.add_argument("--threads", type=int, default=None,
                        help=f"threads per fit, the same for every method (default: the CPUs available, "
                             f"here {available_threads()})")
    parser.add_argument("--binary-operators", default=None, metavar="OPS",
                        help="KeplerSR operator names, comma- or space-separated (default: "
                             + " ".join(DEFAULT_BINARY_OPERATORS) + ")")
    parser.add_argument("--unary-operators", default=None, metavar="OPS",
                        help="KeplerSR operator names, comma- or space-separated; '' for none (default: "
                             + " ".join(DEFAULT_UNARY_OPERATORS) + ")")
    parser.add_argument("--noise", type=float, default=0.0, help="Gaussian noise, fraction of RMS(y)")
    parser.add_argument("--names", default=None, help="comma-separated names or numbers, e.g. I.6.2a,I.12.1")
    parser.add_argument("--sample", type=int, default=None, metavar="K",
                        help="a random sample of K equations (of --names if given), printed")
    parser.add_argument("--sample-seed", type=int, default=0, metavar="S", help="seed of --sample (default 0)")
    parser.add_argument("--rows", type=int, default=10_000, help="training rows per equation (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and of every method")
    parser.add_argument("--units", nargs="?", default=None, const=str(FEYNMAN_UNITS), metavar="UNITS_CSV",
                        help="pass X_units/y_units to KeplerSR's fit, from this units.csv (no value: the shipped copy)")
    parser.add_argument("--judge-timeout", type=float, default=30.0, help="seconds per sympy simplify check")
    parser.add_argument("--no-resume", action="store_true", help="discard an existing results.csv")
    parser.add_argument("--keplersr-option", action="append", default=[], metavar="NAME=VALUE",
                        help="a SymbolicRegressor parameter for KeplerSR (Python literal value), e.g. "
                             "decompose_units=False; repeatable")
    args = parser.parse_args(argv)
    try:
        options = _parse_options(args.keplersr_option)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    names = [s.strip() for s in args.names.split(",") if s.strip()] if args.names else None
    binary = _operator_list(args.binary_operators) if args.binary_operators is not None else None
    unary = _operator_list(args.unary_operators) if args.unary_operators is not None else None
    try:
        frame = run_study(
            args.csv, args.out, names=names, budget_seconds=args.budget, n_rows=args.rows,
            noise=args.noise, seed=args.seed, units_path=args.units, resume=not args.no_resume,
            judge_timeout=args.judge_timeout, log=lambda m: print(m, flush=True), methods=args.methods,
            threads=args.threads, binary_operators=binary, unary_operators=unary,
            sample_size=args.sample, sample_seed=args.sample_seed, keplersr_options=options,
        )
    except (ValueError, FileNotFoundError, MissingPeerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for _, s in summary_table(frame, _parse_methods(args.methods)).iterrows():
        print(f"{s['method']}: recovered {s['recovered']} of {s['n']} (on the front {s['on_front']}, "
              f"R^2 > 0.999 {s['r2_above_0999']}, failed {s['failed']})")
    print(f"results in {Path(args.out) / 'results.md'}")
    return 0


def _parse_options(items: Sequence[str]) -> dict:
    """``["name=value", ...]`` -> ``{name: value}``; values are Python literals (else strings)."""
    import ast

    out = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise ValueError(f"--keplersr-option takes NAME=VALUE, got {item!r}")
        try:
            out[name.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            out[name.strip()] = value.strip()
    return out


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
