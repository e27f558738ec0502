"""Command line: ``keplersr fit``, ``keplersr demo``, ``keplersr bench ...``."""

from __future__ import annotations

import argparse
import sys


def _add_search_args(p, *, niterations=40, maxsize=20):
    p.add_argument("--binary-operators", nargs="+", default=["+", "-", "*", "/"], metavar="OP")
    p.add_argument("--unary-operators", nargs="*", default=[], metavar="OP")
    p.add_argument("--niterations", type=int, default=niterations)
    p.add_argument("--populations", type=int, default=15)
    p.add_argument("--maxsize", type=int, default=maxsize)
    p.add_argument("--timeout", type=float, default=None, help="timeout_in_seconds")
    p.add_argument("--seed", type=int, default=None, help="random_state")
    p.add_argument("--procs", type=int, default=None, help="Julia threads (default: all cores)")
    p.add_argument("--output-directory", default="outputs")
    p.add_argument("--model-selection", default="best", choices=["best", "accuracy", "score"])
    p.add_argument("--no-progress", action="store_true")


def _make_model(args, **extra):
    from . import SymbolicRegressor

    return SymbolicRegressor(
        binary_operators=args.binary_operators, unary_operators=args.unary_operators,
        niterations=args.niterations, populations=args.populations, maxsize=args.maxsize,
        timeout_in_seconds=args.timeout, random_state=args.seed, procs=args.procs,
        output_directory=args.output_directory, model_selection=args.model_selection,
        progress=not args.no_progress, verbosity=0, **extra)


def _print_result(model, out=sys.stdout):
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
    if args.what == "eval":
        from .benchmarks.eval_bench import main as run
    elif args.what == "startup":
        from .benchmarks.startup_bench import main as run
    else:
        from .benchmarks.feynman_study import main as run
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
    p.set_defaults(func=cmd_fit)
    p = sub.add_parser("demo", help="Kepler's third law from planetary orbits (shipped data)")
    _add_search_args(p, niterations=20, maxsize=12)
    # the real orbits carry rounding noise that favours tiny offsets; the
    # score rule (biggest drop in log-loss per complexity) picks the law itself
    p.set_defaults(func=cmd_demo, binary_operators=["+", "-", "*", "/"], unary_operators=["sqrt", "square", "cube"],
                   model_selection="score")
    p = sub.add_parser("bench", help="benchmarks: eval, startup, feynman")
    p.add_argument("what", choices=["eval", "startup", "feynman"])
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_bench)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
