"""Command line: ``keplersr fit``, ``keplersr demo``, ``keplersr bench feynman``."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys


def _json_object(text):
    """A flag's JSON object (``'{"sin": 5}'``); its content is checked by the estimator's ``fit``."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"invalid JSON ({err.msg} at character {err.pos}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object like '{{\"sin\": 5}}', got {text!r}")
    return value


def _name_unit(text):
    name, eq, unit = text.partition("=")
    if not eq or not name or not unit:
        raise argparse.ArgumentTypeError(f"expected NAME=UNIT (e.g. m=kg), got {text!r}")
    return name, unit


def _add_search_args(p):
    """One flag per scalar option of the declaration (``--name-with-dashes``), the operator lists, and a
    JSON flag per structured option the declaration marks ``cli="json"``; one help group per declared group.

    Flags default to "not given", so the estimator's declared defaults apply
    unless a flag (or a command's own ``set_defaults``) says otherwise.
    Returns the argument groups by declared group name.
    """
    from .options import GROUPS, OPTIONS

    groups = {g: p.add_argument_group(g) for g in GROUPS}
    for o in OPTIONS:
        if not o.cli:
            continue
        g = groups[o.group]
        flags = ["--" + o.name.replace("_", "-"), *o.cli_aliases]
        kw = dict(dest=o.name, default=argparse.SUPPRESS, help=o.doc.replace("`", "").replace("%", "%%"))
        if o.cli == "json":
            kw["help"] += " (a JSON object; pairs as lists)"
            g.add_argument(*flags, type=_json_object, metavar="JSON", **kw)
        elif o.name in ("binary_operators", "unary_operators"):
            g.add_argument(*flags, nargs="*", metavar="OP", **kw)
        elif o.kind == "bool":
            g.add_argument(*flags, action=argparse.BooleanOptionalAction, **kw)
        elif o.kind == "choice":
            g.add_argument(*flags, choices=o.choices, **kw)
        elif o.kind in ("int", "float", "str"):
            g.add_argument(*flags, type={"int": int, "float": float, "str": str}[o.kind],
                           metavar=o.kind.upper(), **kw)
    return groups


def _make_model(args):
    from . import SymbolicRegressor
    from .options import OPTIONS

    params = {o.name: getattr(args, o.name) for o in OPTIONS if hasattr(args, o.name)}
    return SymbolicRegressor(**params)


def _print_result(model, out=None):
    out = out or sys.stdout
    from .progress import format_front

    tables = model.equations_ if model.multioutput_ else [model.equations_]
    bests = model.get_best() if model.multioutput_ else [model.get_best()]
    for k, (t, best) in enumerate(zip(tables, bests)):
        if model.multioutput_:
            print(f"output {k}:", file=out)
        recs = t[["complexity", "loss", "score", "equation"]].to_dict("records")
        print(format_front(recs), file=out)
        print(f"selected ({model.model_selection}): {best['sympy_format']}", file=out)
        se = best["constants_stderr"]
        if best["constants"]:
            consts = ", ".join(f"{c:.6g} +- {s:.2g}" for c, s in zip(best["constants"], se))
            print(f"constants: {consts}", file=out)
    if model.run_dir_:
        print(f"run directory: {model.run_dir_}", file=out)


def _number(x):
    """A finite float, else None (JSON has no NaN or infinity)."""
    x = float(x)
    return x if math.isfinite(x) else None


def _front_records(model, targets):
    """The front of each target as plain records: {target: [record, ...]}."""
    tables, selected, _ = model._display_parts()
    out = {}
    for target, t, sel in zip(targets, tables, selected):
        recs = []
        for idx, row in t.iterrows():
            rec = {"complexity": int(row["complexity"]), "loss": _number(row["loss"]),
                   "score": _number(row["score"]), "equation": str(row["equation"]),
                   "sympy": str(row["sympy_format"]),
                   "constants": [_number(c) for c in (row["constants"] or [])],
                   "constants_stderr": [_number(c) for c in (row["constants_stderr"] or [])]}
            if "chi2_dof" in t.columns:
                rec["chi2_dof"] = _number(row["chi2_dof"])
            rec["selected"] = bool(sel is not None and idx == sel)
            recs.append(rec)
        out[target] = recs
    return out


def _export(model, targets, fmt):
    """The front as ``fmt`` text: a LaTeX table, JSON records (a list; an object by target for several
    targets) or CSV (one row per formula; a ``target`` column for several targets)."""
    if fmt == "latex":
        tables = model.latex_table() if model.multioutput_ else [model.latex_table()]
        if not model.multioutput_:
            return tables[0] + "\n"
        return "".join(f"% target {t}\n{tex}\n" for t, tex in zip(targets, tables))
    recs = _front_records(model, targets)
    if fmt == "json":
        return json.dumps(recs if len(targets) > 1 else recs[targets[0]], indent=2) + "\n"
    import pandas as pd

    rows = [{"target": t, **r} for t, rs in recs.items() for r in rs]
    df = pd.DataFrame(rows)
    for col in ("constants", "constants_stderr"):
        if col in df.columns:
            df[col] = [json.dumps(v) for v in df[col]]
    if len(targets) == 1 and "target" in df.columns:
        df = df.drop(columns="target")
    return df.to_csv(index=False)


_FIT_ARGUMENT_FLAGS = {"X_units": "--x-units", "y_units": "--y-units", "y_err": "--y-err",
                       "weights": "--weights", "guesses": "--guesses", "guess": "--guesses"}


def _flag_of(message):
    """The flag a ``fit`` error message is about: the first fit argument or option it names (as argparse
    names a flag: ``--elementwise-loss/--loss``)."""
    from .options import OPTIONS

    flags = dict(_FIT_ARGUMENT_FLAGS)
    flags.update({o.name: "/".join(["--" + o.name.replace("_", "-"), *o.cli_aliases]) for o in OPTIONS if o.cli})
    hits = [(m.start(), flags[name]) for name in flags
            for m in [re.search(rf"(?<!\w){re.escape(name)}(?!\w)", message)] if m]
    return min(hits)[1] if hits else None


def cmd_fit(args):
    import pandas as pd

    fail = args.parser.error
    df = pd.read_csv(args.csv)
    targets = args.target
    missing = [t for t in targets if t not in df.columns]
    if missing:
        fail(f"target column(s) {missing} not in {args.csv} (columns: {list(df.columns)})")
    for flag, col in (("--weights", args.weights), ("--y-err", args.y_err)):
        if col is not None and col not in df.columns:
            fail(f"argument {flag}: column {col!r} not in {args.csv} (columns: {list(df.columns)})")
    data_columns = set(targets) | {args.weights, args.y_err}
    features = args.features or [c for c in df.columns if c not in data_columns]
    absent = [c for c in features if c not in df.columns]
    if absent:
        fail(f"feature column(s) {absent} not in {args.csv}")
    kwargs = {}
    if args.x_units is not None:
        units = dict(args.x_units)
        unknown = [n for n in units if n not in features]
        if unknown:
            fail(f"argument --x-units: {unknown} are not features (features: {features})")
        lacking = [f for f in features if f not in units]
        if lacking:
            fail(f"argument --x-units: every feature needs a unit; missing: {lacking}")
        kwargs["X_units"] = [units[f] for f in features]
    if args.y_units is not None:
        kwargs["y_units"] = args.y_units
    if args.weights:
        kwargs["weights"] = df[args.weights].to_numpy()
    if args.y_err:
        kwargs["y_err"] = df[args.y_err].to_numpy()
    if args.guesses:
        kwargs["guesses"] = list(args.guesses)
    model = _make_model(args)
    y = df[targets[0]] if len(targets) == 1 else df[targets]
    from .errors import CheckpointError, WorkerProcessError

    try:
        model.fit(df[features], y, **kwargs)
    except (CheckpointError, WorkerProcessError) as err:
        # not a bad flag but the cluster (hosts, srun) or a checkpoint: the message says what to do
        args.parser.exit(1, f"keplersr fit: error: {err}\n")
    except ValueError as err:
        message = str(err)
        if args.x_units is not None:     # X_units[j] -> the feature's name
            message = re.sub(r"X_units\[(\d+)\]", lambda m: f"unit of {features[int(m.group(1))]!r}", message)
        flag = _flag_of(str(err))
        fail(f"argument {flag}: {message}" if flag else message)
    if args.export is None:
        _print_result(model)
        return 0
    text = _export(model, targets, args.export)
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    if model.run_dir_:
        print(f"run directory: {model.run_dir_}", file=sys.stderr)
    return 0


def cmd_demo(args):
    from .datasets.kepler import load_kepler

    df = load_kepler()
    print("Kepler's third law from the solar system: period T [years] against semi-major axis a [AU]")
    print(df[["name", "a", "T"]].to_string(index=False))
    model = _make_model(args)
    model.fit(df[["a"]], df["T"])
    _print_result(model)
    print("LaTeX:", model.latex())
    return 0


def cmd_bench(args):
    if args.what != "feynman":
        raise SystemExit(f"keplersr bench: only 'feynman' is installed; the developer benchmark "
                         f"{args.what!r} runs from a clone of the repository: python -m benchmarks {args.what}")
    from .study.feynman_study import main as run
    return run(args.rest)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="keplersr", description="Symbolic regression for physicists")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fit", help="find formulas in a CSV file",
                       description="Find formulas y = f(features) in a CSV file. Every search option of "
                                   "SymbolicRegressor has a flag (grouped and explained as in the option "
                                   "reference of README.md); structured ones take JSON. Invalid values give the "
                                   "estimator's error (exit status 2).")
    data = p.add_argument_group("data")
    data.add_argument("csv")
    data.add_argument("--target", nargs="+", required=True, help="target column(s); several = one search each")
    data.add_argument("--features", nargs="+", default=None,
                      help="feature columns (default: all others but --weights and --y-err)")
    data.add_argument("--weights", default=None, metavar="COLUMN", help="column of non-negative weights")
    data.add_argument("--y-err", default=None, metavar="COLUMN",
                      help="column of measurement errors of the target: chi-squared loss (L2 only), "
                           "absolute constant errors and a chi2_dof column")
    out = p.add_argument_group("output")
    out.add_argument("--export", choices=("latex", "json", "csv"), default=None,
                     help="write the front as a LaTeX table, JSON records (complexity, loss, score, equation, "
                          "sympy, constants, constants_stderr, chi2_dof with --y-err, selected; an object by "
                          "target for several targets) or CSV, instead of the printed summary")
    out.add_argument("--output", default=None, metavar="FILE", help="file for --export (default: stdout)")
    groups = _add_search_args(p)
    groups["units"].add_argument("--x-units", nargs="+", type=_name_unit, default=None, metavar="NAME=UNIT",
                                 help="unit of every feature, e.g. m=kg a=m/s^2 (unit strings of keplersr.units)")
    groups["units"].add_argument("--y-units", default=None, metavar="UNIT", help="unit of the target, e.g. N")
    groups["evolution"].add_argument("--guesses", nargs="+", default=None, metavar="FORMULA",
                                     help="formulas to start from, in the feature names, e.g. 'm*a + 0.5' "
                                          "(their numbers are fitted constants)")
    # the command prints the front itself (_print_result), so the estimator stays quiet
    p.set_defaults(func=cmd_fit, verbosity=0, parser=p)
    p = sub.add_parser("demo", help="Kepler's third law from planetary orbits (shipped data)")
    _add_search_args(p)
    # the real orbits carry rounding noise that favours tiny offsets; the
    # score rule (biggest drop in log-loss per complexity) picks the law itself
    p.set_defaults(func=cmd_demo, verbosity=0, niterations=20, maxsize=12, binary_operators=["+", "-", "*", "/"],
                   unary_operators=["sqrt", "square", "cube"], model_selection="score")
    # the developer benchmarks (eval, search, scaling, ...) are not installed: `python -m benchmarks`
    # from a clone runs them
    p = sub.add_parser("bench", help="the Feynman comparison study: keplersr bench feynman --help")
    p.add_argument("what", metavar="feynman")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_bench)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
