"""Command line: ``keplersr fit``, ``keplersr demo``, ``keplersr bench feynman``."""

from __future__ import annotations

import argparse
import sys


def _add_search_args(p):
    """One flag per scalar option of the declaration (``--name-with-dashes``), plus the operator lists.

    Flags default to "not given", so the estimator's declared defaults apply
    unless a flag (or a command's own ``set_defaults``) says otherwise.
    """
    from .options import OPTIONS

    g = p.add_argument_group("search options (see the option reference in README.md)")
    for o in OPTIONS:
        if not o.cli:
            continue
        flags = ["--" + o.name.replace("_", "-"), *o.cli_aliases]
        kw = dict(dest=o.name, default=argparse.SUPPRESS, help=o.doc.replace("`", "").replace("%", "%%"))
        if o.name in ("binary_operators", "unary_operators"):
            g.add_argument(*flags, nargs="*", metavar="OP", **kw)
        elif o.kind == "bool":
            g.add_argument(*flags, action=argparse.BooleanOptionalAction, **kw)
        elif o.kind == "choice":
            g.add_argument(*flags, choices=o.choices, **kw)
        elif o.kind in ("int", "float", "str"):
            g.add_argument(*flags, type={"int": int, "float": float, "str": str}[o.kind],
                           metavar=o.kind.upper(), **kw)


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


def cmd_fit(args):
    import pandas as pd

    df = pd.read_csv(args.csv)
    targets = args.target
    missing = [t for t in targets if t not in df.columns]
    if missing:
        raise SystemExit(f"error: target column(s) {missing} not in {args.csv} (columns: {list(df.columns)})")
    features = args.features or [c for c in df.columns if c not in targets]
    absent = [c for c in features if c not in df.columns]
    if absent:
        raise SystemExit(f"error: feature column(s) {absent} not in {args.csv}")
    model = _make_model(args)
    y = df[targets[0]] if len(targets) == 1 else df[targets]
    weights = df[args.weights].to_numpy() if args.weights else None
    try:
        model.fit(df[features], y, weights=weights)
    except ValueError as err:
        raise SystemExit(f"error: {err}")
    _print_result(model)
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
    p = sub.add_parser("fit", help="find formulas in a CSV file")
    p.add_argument("csv")
    p.add_argument("--target", nargs="+", required=True, help="target column(s); several = one search each")
    p.add_argument("--features", nargs="+", default=None, help="feature columns (default: all others)")
    p.add_argument("--weights", default=None, help="column of non-negative weights")
    _add_search_args(p)
    # the command prints the front itself (_print_result), so the estimator stays quiet
    p.set_defaults(func=cmd_fit, verbosity=0)
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
