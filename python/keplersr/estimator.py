"""``SymbolicRegressor``: the scikit-learn style estimator.

The constructor only stores parameters. ``fit`` validates everything before
Julia is touched, hands the data to the shared Julia worker
(:mod:`keplersr.bridge`), streams progress, writes the run directory while the
search runs, and turns the engine's hall of fame into ``equations_``.
"""

from __future__ import annotations

import inspect
import os
import tempfile
import time
import warnings

import numpy as np
import pandas as pd
import sympy
from sklearn.base import BaseEstimator, RegressorMixin

from . import rundir
from .data_validation import validate_fit_data, validate_predict_data
from .display import front_html, front_text, latex_table
from .exact_constants import ConstantSnapper
from .expressions import CompiledExpression, codes_to_sympy, to_latex
from .model_selection import select_index
from .options import (LOSSES, OPTIONS, build_operator_spec, engine_options, parameter_constraints, seed_from, units_options,
                      validate_params)
from .options.reference import docstring_parameters
from .progress import make_progress
from .simplification import FormulaSimplifier

EQUATION_COLUMNS = ["complexity", "loss", "score", "equation", "sympy_format", "sympy_raw",
                    "lambda_format", "constants", "constants_stderr"]


class SymbolicRegressor(RegressorMixin, BaseEstimator):
    """Find formulas that fit ``y`` from ``X``: a Pareto front of accuracy against simplicity.

    The parameters follow PySR's names; each is described below and in the
    option reference of README.md (both written from
    ``keplersr/options/declaration.py``). Fitted attributes: ``equations_``
    (a DataFrame, or a list of them for a 2-D ``y``), ``n_features_in_``,
    ``feature_names_in_`` (DataFrame input), ``variable_names_``,
    ``X_units_`` / ``y_units_`` (the units given to ``fit``, also in run.json),
    ``run_dir_``, ``history_``, ``stop_reason_``, ``interrupted_``,
    ``checkpoints_`` (the search state per output, which ``warm_start``
    continues from).
    """

    # The constructor is written from the option declaration
    # (keplersr/options/declaration.py): see _declared_init below.
    # scikit-learn's parameter validation, from the same declaration; ``fit`` runs it once (validate_params).
    _parameter_constraints: dict = parameter_constraints()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True     # a 2-D y runs one search per column
        return tags

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, weights=None, variable_names=None, X_units=None, y_units=None, guesses=None,
            y_err=None):
        """Search for formulas ``y ~ f(X)``.

        ``X``: array (n, p) or DataFrame (its column names become the variable
        names). ``y``: array (n,) or (n, k) / DataFrame; a 2-D ``y`` runs one
        search per column. ``weights``: optional non-negative (n,) weights.
        ``variable_names``: names for the columns of an array ``X``.
        ``X_units`` / ``y_units``: physical units of the features / target
        (strings like ``"kg*m/s^2"``, see :mod:`keplersr.units`, or exponent
        vectors over m, s, kg, T, V); candidates whose dimensions do not
        match are penalised by ``dimensional_constraint_penalty``.
        ``guesses``: formulas to start from (strings or sympy expressions in
        the variable names; their numbers are fitted constants), overriding
        the ``guesses`` option; for a 2-D ``y`` one list per output or one
        list for all (see :mod:`keplersr.guesses`).
        ``y_err``: measurement errors of ``y`` (a number or (n,)), instead of
        ``weights``: the chi-squared loss (weights 1/y_err**2, L2 only),
        ``equations_`` gains ``chi2_dof`` (chi2 / (n - number of constants)),
        and ``constants_stderr`` follow ``curve_fit(absolute_sigma=True)``:
        cov = inv(J' W J), not rescaled by the residual variance.
        """
        Xa, ya, multi, w, names = validate_fit_data(self, X, y, weights, variable_names)
        params = validate_params(self.get_params())
        if y_err is not None:
            from .formula_fit import measurement_weights
            w = measurement_weights(y_err, Xa.shape[0], weights, params["elementwise_loss"])
        spec = build_operator_spec(params["binary_operators"], params["unary_operators"],
                                   params["extra_sympy_mappings"])
        opts = engine_options(params, spec)
        opts.update(units_options(X_units, y_units, Xa.shape[1], ya.shape[1], params))
        opts["seed"] = seed_from(params["random_state"])
        from .guesses import guess_expressions, guesses_per_output
        guessed = [guess_expressions(g, names, spec.binary, spec.unary)
                   for g in guesses_per_output(params["guesses"] if guesses is None else guesses, ya.shape[1])]
        procs = params["procs"]
        if params["deterministic"] and params["timeout_in_seconds"] is not None:
            warnings.warn("deterministic=True ignores timeout_in_seconds (a time limit would make the result "
                          "depend on the machine's speed); the search stops after niterations or max_evals",
                          UserWarning, stacklevel=2)
        self.X_units_ = None if X_units is None else [str(u) if isinstance(u, str) else list(u) for u in X_units]
        self.y_units_ = None if y_units is None else (str(y_units) if isinstance(y_units, str) else list(y_units))

        resume = self._resume_checkpoints(params, ya.shape[1])
        self.variable_names_ = list(names)
        self.binary_operators_ = list(spec.binary)
        self.unary_operators_ = list(spec.unary)
        if resume is None:
            self.run_id_ = self.run_id or rundir.new_run_id()
            self.run_dir_ = (os.path.join(self.output_directory, self.run_id_)
                             if self.output_directory else None)
        # else a warm start continues in the run directory of the run it continues
        self.multioutput_ = multi
        ckdir = self.run_dir_
        if ckdir is None and params["warm_start"]:
            ckdir = getattr(self, "_checkpoint_dir", None) or tempfile.mkdtemp(prefix="keplersr-checkpoint-")
            self._checkpoint_dir = ckdir
        checkpoints = [rundir.checkpoint_path(ckdir, k, ya.shape[1]) if ckdir else None
                       for k in range(ya.shape[1])]

        from .bridge import SearchIncompleteError, get_worker   # imported here: predict never needs Julia

        # multithreading: procs is the worker's thread count; multiprocessing: its worker processes
        threads = procs if params["parallelism"] == "multithreading" else None
        worker = get_worker(threads=threads, julia=params["julia"])
        outputs, histories = [], []
        from .decomposition.engine_solver import settings_from_params
        decomposing = settings_from_params(params)
        decompositions = []
        self.interrupted_ = False
        self.stop_reason_ = []
        for k in range(ya.shape[1]):
            label = f"[output {k}] " if multi else ""
            printer = make_progress(enabled=bool(self.progress), verbosity=self.verbosity, label=label)
            history = []
            last_write = [0.0]
            before = [0.0]      # seconds of decomposition before the search: history_'s elapsed counts them

            def on_progress(p, _k=k, _history=history, _printer=printer, _last=last_write, _before=before):
                _history.append({key: p.get(key) for key in
                                 ("iteration", "evals", "evals_per_second", "elapsed", "best_loss", "records",
                                  "status")})
                if _history[-1]["elapsed"] is not None:
                    _history[-1]["elapsed"] += _before[0]
                _printer(p)
                if self.run_dir_ and time.monotonic() - _last[0] > 1.0:
                    _last[0] = time.monotonic()
                    rundir.write_run(self.run_dir_, self._run_state(
                        "running", outputs + [p.get("records") or []]))

            try:
                fit_opts, seeds = opts, None
                if resume is None and decomposing is not None:
                    decomposition = self._decompose(worker, Xa, ya[:, k], names, opts, params, decomposing,
                                                    spec, label)
                    decompositions.append(decomposition)
                    seeds = decomposition.seeds or None
                    before[0] = decomposition.seconds
                    if params["timeout_in_seconds"] is not None and not params["deterministic"]:
                        fit_opts = dict(opts, timeout_in_seconds=max(
                            1.0, params["timeout_in_seconds"] - decomposition.seconds))
                res = worker.fit(Xa, ya[:, k], w, fit_opts, list(names), on_progress=on_progress,
                                 worker_timeout=params["worker_timeout"], checkpoint_path=checkpoints[k],
                                 resume_from=None if resume is None else resume[k], seed_expressions=seeds,
                                 guess_expressions=guessed[k] or None, absolute_sigma=y_err is not None)
                _mark_origin(res.records, seeds, guessed[k])
            except BaseException:
                printer.close()
                # a warm start refused before it searched anything (e.g. a CheckpointError) leaves the
                # run directory it would continue as it was
                if self.run_dir_ and not (resume is not None and not outputs and not history):
                    last = history[-1]["records"] if history else []
                    rundir.write_run(self.run_dir_, self._run_state("failed", outputs + [last or []]))
                raise
            printer.close()
            outputs.append(res.records)
            histories.append(history)
            self.stop_reason_.append(res.stop_reason)
            if res.interrupted or res.stop_reason == "workers_lost":
                self.interrupted_ = True
                break
        if resume is None:
            self.decomposition_ = (decompositions if multi else decompositions[0]) if decompositions else None
        self.checkpoints_ = [c for c in checkpoints if c is not None and os.path.exists(c)]
        status = ("failed" if self.stop_reason_ and self.stop_reason_[-1] == "workers_lost"
                  else "interrupted" if self.interrupted_ else "finished")
        self._snap_constants(outputs, (Xa, ya, w))
        if self.run_dir_:
            rundir.write_run(self.run_dir_, self._run_state(status, outputs))
        self._set_equations(outputs, data=(Xa, ya, w))
        if y_err is not None:
            from .formula_fit import add_chi2_dof
            for table in self._tables():
                add_chi2_dof(table, w)
        self.history_ = histories if multi else histories[0]
        if self.stop_reason_ and self.stop_reason_[-1] == "workers_lost":
            status = next((h["status"] for h in reversed(histories[-1]) if h.get("status")), "")
            raise SearchIncompleteError(
                f"the search lost every worker process ({status}); equations_ holds the front found before"
                + (f", also in {self.run_dir_}" if self.run_dir_ else "")
                + ("; fit(...) with warm_start=True continues from the last checkpoint" if self.checkpoints_
                   else ""))
        if self.interrupted_ and status == "interrupted":
            warnings.warn(
                "search interrupted: equations_ holds the hall of fame found so far"
                + (f" (outputs searched: {len(outputs)} of {ya.shape[1]})" if multi else ""),
                RuntimeWarning, stacklevel=2)
        if self.verbosity >= 1 and self.progress:
            from .progress import format_front
            for k, recs in enumerate(outputs):
                print(("" if not multi else f"output {k}:\n") + format_front(recs))
        return self

    def _decompose(self, worker, X, y, names, opts, params, settings, spec, label):
        """Decomposition before the search of one output (keplersr.decomposition): the composed seeds."""
        from .decomposition.engine_solver import run_decomposition

        timeout = None if params["deterministic"] else params["timeout_in_seconds"]
        budget = None if timeout is None else timeout * params["decomposition_time_fraction"]
        return run_decomposition(worker, X, y, names, opts, params, settings, spec.binary, spec.unary, budget,
                                 seed=opts["seed"], progress=bool(self.progress), label=label)

    def _resume_checkpoints(self, params, noutputs):
        """With ``warm_start``: the checkpoints the last fit (or ``from_file``) left, one per output; else None."""
        if not params["warm_start"]:
            return None
        paths = getattr(self, "checkpoints_", None) or []
        if not paths:
            return None     # nothing to continue: a fresh search (PySR's meaning of warm_start)
        if len(paths) != noutputs:
            raise ValueError(f"warm_start: the last fit left {len(paths)} checkpoint(s) but y has {noutputs} "
                             "output(s); fit the same outputs to continue, or set warm_start=False")
        missing = [p for p in paths if not os.path.exists(p)]
        if missing:
            raise FileNotFoundError(f"warm_start: checkpoint {missing[0]} is gone; set warm_start=False "
                                    "to start a new search")
        return list(paths)

    def _run_state(self, status, outputs):
        return {
            "status": status,
            "params": _jsonable_params(self.get_params()),
            "variable_names": self.variable_names_,
            "X_units": self.X_units_,
            "y_units": self.y_units_,
            "feature_names_in": (list(self.feature_names_in_) if hasattr(self, "feature_names_in_") else None),
            "binary_operators": self.binary_operators_,
            "unary_operators": self.unary_operators_,
            "multioutput": self.multioutput_,
            "outputs": outputs,
        }

    def _snap_constants(self, outputs, data):
        """With ``snap_constants`` (L2 loss): each record's exact constants (:mod:`keplersr.exact_constants`)
        as strings, None where the fitted value stays; stored with the run, so a reload shows them too."""
        if not (self.snap_constants and self.elementwise_loss == "L2"):
            return
        X, Y, w = data
        for k, records in enumerate(outputs):
            snap = ConstantSnapper(X, Y[:, k], w, self.variable_names_, self.binary_operators_,
                                   self.unary_operators_, extra_sympy_mappings=self.extra_sympy_mappings)
            for r in records:
                found = snap(r["codes"], r["constants"], r.get("constants_stderr", []))
                if found is not None:
                    r["exact_constants"] = [None if v is None else str(v) for v in found.values]

    def _set_equations(self, outputs, data=None):
        """``equations_`` from the engine's records; ``data`` = (X, Y, weights) of ``fit``, None on reload."""
        tables = [self._records_to_frame(recs, None if data is None else (data[0], data[1][:, k], data[2]))
                  for k, recs in enumerate(outputs)]
        self.equations_ = tables if self.multioutput_ else tables[0]

    def _records_to_frame(self, records, data=None):
        """One front as a DataFrame. ``sympy_format`` (shown, predicted with) is the engine's formula
        with the record's exact constants (``exact_constants``, set by :meth:`_snap_constants`), simplified by
        :mod:`keplersr.simplification`: on the fit's ``data`` only if its loss is not worse; without data
        (``from_file``) only the probe-checked integer-float rewrite. ``sympy_raw`` is the engine's own
        form, ``loss`` and ``constants`` its fitted values."""
        loss = self.elementwise_loss if self.elementwise_loss in LOSSES else "L2"
        simplify = FormulaSimplifier(*(data or (None, None, None)), variable_names=self.variable_names_,
                                     loss=loss, huber_delta=self.huber_delta)
        rows = []
        for r in records:
            raw = codes_to_sympy(r["codes"], r["constants"], self.binary_operators_,
                                 self.unary_operators_, self.variable_names_,
                                 extra_sympy_mappings=self.extra_sympy_mappings)
            exact = r.get("exact_constants")
            if exact is not None:
                raw_exact = codes_to_sympy(r["codes"], r["constants"], self.binary_operators_,
                                           self.unary_operators_, self.variable_names_,
                                           extra_sympy_mappings=self.extra_sympy_mappings,
                                           constant_values=[None if v is None else sympy.sympify(v)
                                                            for v in exact])
            expr = simplify(raw if exact is None else raw_exact)
            rows.append({
                "complexity": int(r["complexity"]),
                "loss": float(r["loss"]),
                "score": float(r.get("score", 0.0)),
                "equation": r["equation"],
                "sympy_format": expr,
                "sympy_raw": raw,
                "lambda_format": CompiledExpression(expr, self.variable_names_),
                "constants": [float(c) for c in r["constants"]],
                "constants_stderr": [float(c) for c in r.get("constants_stderr", [])],
                "origin": r.get("origin", "search"),
                "codes": [int(c) for c in r["codes"]],
            })
        df = pd.DataFrame(rows, columns=EQUATION_COLUMNS + ["codes", "origin"])
        return df

    # ------------------------------------------------------------ accessors
    def _tables(self):
        if not hasattr(self, "equations_"):
            from sklearn.exceptions import NotFittedError
            raise NotFittedError("this SymbolicRegressor is not fitted yet: call fit first")
        return self.equations_ if self.multioutput_ else [self.equations_]

    def _row(self, table, index):
        if len(table) == 0:
            raise ValueError("no equations were found for this output (the search was stopped before it)")
        if index is None:
            index = select_index(table, self.model_selection)
        elif index not in table.index:
            raise ValueError(f"index {index!r} is not a row of equations_ (rows are {list(table.index)})")
        return table.loc[index]

    def _per_output(self, fn, index):
        tables = self._tables()
        if self.multioutput_:
            idx = index if isinstance(index, (list, tuple)) else [index] * len(tables)
            if len(idx) != len(tables):
                raise ValueError(f"index must give one row per output ({len(tables)}), got {len(idx)}")
            return [fn(self._row(t, i)) for t, i in zip(tables, idx)]
        return fn(self._row(tables[0], index))

    def get_best(self, index=None):
        """The selected row of ``equations_`` (a list of rows for a 2-D ``y``)."""
        return self._per_output(lambda row: row, index)

    def sympy(self, index=None):
        """The selected equation as a sympy expression."""
        return self._per_output(lambda row: row["sympy_format"], index)

    def latex(self, index=None, precision=3):
        """The selected equation as LaTeX (constants shown to ``precision`` significant digits)."""
        return self._per_output(lambda row: to_latex(row["sympy_format"], precision=precision), index)

    def predict(self, X, index=None):
        """Predictions of the selected equation (or row ``index`` of ``equations_``).

        Works without Julia (numpy evaluation of the sympy form), so a
        pickled model predicts anywhere.
        """
        self._tables()
        Xa = validate_predict_data(self, X)
        out = self._per_output(lambda row: np.asarray(row["lambda_format"](Xa), dtype=float), index)
        if self.multioutput_:
            return np.column_stack(out)
        return out

    # --------------------------------------------------------------- reload
    @classmethod
    def from_file(cls, run_dir, extra_sympy_mappings=None):
        """Rebuild a fitted model from its run directory (``run_dir_``).

        Runs that used user operators need their ``extra_sympy_mappings``
        again (functions are not stored on disk).
        """
        state = rundir.read_run(run_dir)
        _check_user_operators(state, extra_sympy_mappings,
                              "SymbolicRegressor.from_file(run_dir, extra_sympy_mappings={...})")
        params = dict(state["params"])
        params.pop("extra_sympy_mappings_keys", None)
        valid = cls().get_params()
        model = cls(**{k: v for k, v in params.items() if k in valid})
        model.extra_sympy_mappings = extra_sympy_mappings
        return model._load_state(state, run_dir)

    def refresh(self, run_directory=None):
        """Rebuild ``equations_`` from the run directory (``run_dir_``, or ``run_directory``), as PySR's ``refresh``.

        Reads what the search wrote last (e.g. while another process still
        searches, or after ``equations_`` was changed), with the reading code of
        :meth:`from_file`: the formulas are rebuilt from the stored prefix codes
        and constants (exact constants included), and simplified without the
        data, as a reload does (so ``chi2_dof`` of a ``y_err`` fit is not
        restored). The options stay this object's; variable names, operators
        and the fronts come from the run. Returns ``self``.
        """
        run_dir = run_directory if run_directory is not None else getattr(self, "run_dir_", None)
        if run_dir is None:
            raise ValueError("refresh: this model has no run directory (fit with output_directory set, "
                             "or pass refresh(run_directory=...))")
        state = rundir.read_run(run_dir)
        _check_user_operators(state, self.extra_sympy_mappings,
                              "SymbolicRegressor(extra_sympy_mappings={...}) before refresh")
        return self._load_fronts(state, run_dir)

    # ------------------------------------------------------------- exports
    def jax(self, index=None, extra_jax_mappings=None):
        """The selected formula (or row ``index``) as a JAX function, as PySR's ``jax()``.

        Returns ``{"callable": f, "parameters": params}`` (a list of them for a
        2-D ``y``, ``index`` per output as in :meth:`predict`): ``f(X, params)``
        evaluates the formula ``predict`` uses on ``X`` (n, p), columns in the
        fitted variable order; ``params`` are its float constants as a jax
        array (exact constants stay fixed), so ``jax.jit(f)`` and gradients
        w.r.t. ``params`` work. Enable ``jax.config.update("jax_enable_x64",
        True)`` for float64. ``extra_jax_mappings``: ``{sympy function or its
        name: jax callable or "jnp.name"}`` for functions of user operators.
        See :mod:`keplersr.exports`.
        """
        from .exports import sympy_to_jax
        names = self.variable_names_ if hasattr(self, "variable_names_") else None
        return self._per_output(lambda row: sympy_to_jax(row["sympy_format"], names, extra_jax_mappings), index)

    def pytorch(self, index=None, extra_torch_mappings=None):
        """The selected formula (or row ``index``) as a ``torch.nn.Module``, as PySR's ``pytorch()``.

        ``module(X)`` evaluates the formula ``predict`` uses on a tensor ``X``
        (n, p), columns in the fitted variable order; its float constants are
        the trainable parameter ``module.constants`` (exact constants stay
        fixed). A list of modules for a 2-D ``y`` (``index`` per output).
        ``extra_torch_mappings``: ``{sympy function or its name: torch callable
        or "torch.name"}``. See :mod:`keplersr.exports`.
        """
        from .exports import sympy_to_torch
        names = self.variable_names_ if hasattr(self, "variable_names_") else None
        return self._per_output(lambda row: sympy_to_torch(row["sympy_format"], names, extra_torch_mappings),
                                index)

    def _load_state(self, state, run_dir):
        self._load_fronts(state, run_dir)
        self.interrupted_ = state["status"] != "finished"
        self.stop_reason_ = []
        self.history_ = []
        return self

    def _load_fronts(self, state, run_dir):
        """Variable names, operators and ``equations_`` of a run's state (:func:`rundir.read_run`)."""
        self.variable_names_ = state["variable_names"]
        self.X_units_ = state.get("X_units")
        self.y_units_ = state.get("y_units")
        self.n_features_in_ = len(self.variable_names_)
        if state.get("feature_names_in"):
            self.feature_names_in_ = np.asarray(state["feature_names_in"], dtype=object)
        self.binary_operators_ = state["binary_operators"]
        self.unary_operators_ = state["unary_operators"]
        self.multioutput_ = state["multioutput"]
        self.run_dir_ = run_dir
        self.run_id_ = os.path.basename(os.path.normpath(run_dir))
        self._set_equations(state["outputs"])
        n = len(state["outputs"]) if self.multioutput_ else 1
        paths = [rundir.checkpoint_path(run_dir, k, n) for k in range(n)]
        self.checkpoints_ = paths if all(os.path.exists(p) for p in paths) else []
        return self

    # ------------------------------------------------------------- display
    def _display_parts(self):
        tables = self._tables()
        selected = []
        for t in tables:
            try:
                selected.append(select_index(t, self.model_selection) if len(t) else None)
            except ValueError:
                selected.append(None)
        labels = [f"output {k}" for k in range(len(tables))] if self.multioutput_ else [""]
        return tables, selected, labels

    def __repr__(self):
        head = super().__repr__()
        if not hasattr(self, "equations_"):
            return head
        return head + "\n" + front_text(*self._display_parts())

    def _repr_html_fitted(self):
        tables, selected, labels = self._display_parts()
        caption = f"SymbolicRegressor: variables {', '.join(self.variable_names_)}"
        return front_html(tables, selected, labels, caption=caption, units=self._units_text())

    def _units_text(self):
        if getattr(self, "X_units_", None) is None:
            return None
        text = "units: " + ", ".join(f"{n} [{u}]" for n, u in zip(self.variable_names_, self.X_units_))
        if getattr(self, "y_units_", None) is not None:
            text += f"; y [{self.y_units_}]"
        return text

    def _repr_mimebundle_(self, **kwargs):
        """Jupyter display: the front (selected formula highlighted) once fitted, else scikit-learn's."""
        if not hasattr(self, "equations_"):
            return super()._repr_mimebundle_(**kwargs)
        return {"text/plain": repr(self), "text/html": self._repr_html_fitted()}

    def latex_table(self, indices=None, precision=3):
        """The front (or its rows ``indices``) as a LaTeX ``tabular`` with booktabs rules.

        For a 2-D ``y``, a list of tables (``indices``: one list per output or None).
        """
        tables, selected, _ = self._display_parts()
        if self.multioutput_:
            idx = indices if indices is not None else [None] * len(tables)
            return [latex_table(t, i, precision, s) for t, i, s in zip(tables, idx, selected)]
        return latex_table(tables[0], indices, precision, selected[0])

    # -------------------------------------------------------------- pickle
    def __getstate__(self):
        """User operators' sympy mappings are pickled as sympy ``Lambda`` objects.

        A Python function (often a lambda) cannot be pickled; its sympy form
        can. A mapping that does not build a sympy expression from symbols is
        dropped with a warning (the fitted formulas are unaffected; only
        rebuilding formulas that use it, e.g. ``from_file``, needs it again).
        """
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__.copy()
        state = dict(state)
        if state.get("extra_sympy_mappings"):
            state["extra_sympy_mappings"] = _picklable_mappings(state["extra_sympy_mappings"])
        return state


def _declared_init():
    """``__init__`` with one keyword per declared option (keplersr/options/declaration.py).

    It only stores the parameters, as scikit-learn requires; its signature is
    the declaration's, so ``get_params``, ``clone``, ``help()`` and notebook
    completion see every option with its default.
    """
    signature = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(o.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=o.default)
           for o in OPTIONS])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    __init__.__qualname__ = "SymbolicRegressor.__init__"
    return __init__


SymbolicRegressor.__init__ = _declared_init()
SymbolicRegressor.__doc__ += "\n" + docstring_parameters() + "\n"


# ---------------------------------------------------------------- helpers
def _picklable_mappings(mappings):
    import pickle

    import sympy

    out = {}
    for name, fn in mappings.items():
        try:
            pickle.dumps(fn)
            out[name] = fn
            continue
        except Exception:
            pass
        try:
            nargs = len(inspect.signature(fn).parameters)
            args = sympy.symbols(f"_a0:{nargs}", real=True)
            out[name] = sympy.Lambda(args, sympy.sympify(fn(*args)))
        except Exception as err:   # noqa: BLE001 - any failure means: cannot be restored
            warnings.warn(f"extra_sympy_mappings[{name!r}] cannot be pickled nor expressed in sympy "
                          f"({err}); it is left out of the pickle", RuntimeWarning, stacklevel=3)
    return out


def _check_user_operators(state, extra_sympy_mappings, how):
    """A run that used user operators needs their sympy forms again (functions are not stored on disk)."""
    needed = state["params"].get("extra_sympy_mappings_keys") or []
    missing = [k for k in needed if k not in (extra_sympy_mappings or {})]
    if missing:
        raise ValueError(f"the run used user operators {missing}: pass {how} with their sympy forms")


def _mark_origin(records, seeds, guesses=()):
    """Each record's ``origin``: "guess" when it is one of the user's guesses as given, "decomposition"
    when it is a composed seed as given (constants refitted), else "search"."""
    keys = {tuple(s["codes"]) for s in seeds or ()}
    guessed = {tuple(g["codes"]) for g in guesses or ()}
    for r in records:
        codes = tuple(int(c) for c in r["codes"])
        r["origin"] = "guess" if codes in guessed else "decomposition" if codes in keys else "search"


def _jsonable_params(params):
    out = {}
    for k, v in params.items():
        if k == "extra_sympy_mappings":
            out["extra_sympy_mappings_keys"] = sorted(v) if v else []
            continue
        if k == "guesses" and v is not None:     # sympy expressions: written as strings
            v = [[str(g) for g in vv] if isinstance(vv, (list, tuple)) else str(vv) for vv in
                 (v if isinstance(v, (list, tuple)) else [v])]
        if isinstance(v, tuple):
            v = list(v)
        if isinstance(v, dict):
            v = {str(kk): (list(vv) if isinstance(vv, tuple) else vv) for kk, vv in v.items()}
        out[k] = v
    return out
