"""Writes the example notebooks (examples/*.ipynb) from the cells below, outputs cleared.

    python examples/make_notebooks.py          # rewrite every notebook
    python examples/make_notebooks.py --check  # exit 1 if a notebook differs from this script

Edit the cells here, not in the .ipynb files, then run the script and commit both. Each
notebook is short (small searches, a few seconds each) and ends with ``assert`` cells on its
results: tests/test_notebooks.py executes every examples/*.ipynb in a Jupyter kernel.
"""
from __future__ import annotations

import os
import sys

import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))

# In a checkout, the notebooks import this checkout's package when keplersr is not installed.
PATH_CELL = """\
import os, sys
if os.path.isdir(os.path.join("..", "python", "keplersr")) and "keplersr" not in sys.modules:
    sys.path.insert(0, os.path.abspath(os.path.join("..", "python")))"""

NOTEBOOKS = {
    "kepler_third_law.ipynb": [
        ("md", """\
# Kepler's third law from the Solar System

The shipped table `keplersr.datasets.load_kepler()` holds the semi-major axis `a` (AU) and the
orbital period `T` (years) of the planets, dwarf planets, two asteroids and two comets.
A short search over `*`, `/` and `sqrt` finds **T = a^(3/2)**. While it runs, the live progress
(iteration, evaluations, elapsed time, best loss and the current best formula) is one display
updated in place."""),
        ("code", PATH_CELL),
        ("code", """\
import numpy as np
import sympy
from keplersr import SymbolicRegressor
from keplersr.datasets import load_kepler

df = load_kepler()
df.head()"""),
        ("code", """\
model = SymbolicRegressor(binary_operators=["*", "/"], unary_operators=["sqrt"], niterations=15,
                          populations=6, population_size=30, random_state=0, deterministic=True,
                          progress=True, verbosity=0, output_directory=None)
model.fit(df[["a"]], df["T"])
model          # the front: LaTeX formulas, constants with errors, the selected row highlighted"""),
        ("code", """\
law = model.sympy()
print("T =", law)
print("T^2 / a^3 per body:", np.round(df["T"] ** 2 / df["a"] ** 3, 4).tolist())"""),
        ("md", "## Checks"),
        ("code", """\
(a,) = law.free_symbols
assert str(a) == "a"
assert sympy.simplify(law - a ** sympy.Rational(3, 2)) == 0, law
assert np.allclose(model.predict(df[["a"]]), df["T"], rtol=0.01)"""),
    ],
    "feynman_with_units.ipynb": [
        ("md", """\
# A Feynman equation with units

`keplersr.datasets.load_feynman_equations()` is the AI-Feynman benchmark table, shipped with
the units of every variable (`keplersr.units.load_feynman_units()`). Coulomb's law
(I.12.2, F = q1 q2 / (4 π ε r²)) is sampled, and the units go to `fit` as `X_units` and
`y_units`: the search then works on the dimensionless groups (`model.decomposition_` tells
what it did) and the law comes out exactly."""),
        ("code", PATH_CELL),
        ("code", """\
import numpy as np
import sympy
from keplersr import SymbolicRegressor
from keplersr.datasets import load_feynman_equations, sample, select
from keplersr.units import dimensions_for, load_feynman_units

(eq,) = select(load_feynman_equations(), ["I.12.2"])
X_units, y_units = dimensions_for(eq, load_feynman_units()).unit_strings()
print(eq.output, "=", eq.formula)
print(dict(zip(eq.variable_names, X_units)), "->", y_units)
X, y = sample(eq, 300, seed=0)
X.head()"""),
        ("code", """\
model = SymbolicRegressor(binary_operators=["+", "-", "*", "/"], niterations=15, populations=6,
                          population_size=30, random_state=0, deterministic=True, verbosity=0,
                          output_directory=None)
model.fit(X, y, X_units=X_units, y_units=y_units)
print(model.decomposition_)
model"""),
        ("md", "## Checks"),
        ("code", """\
found = model.sympy()
print("found:", found)
# the engine's symbols and the table's are both real: compare through the names
truth = eq.expr.subs({s: sympy.Symbol(str(s), real=True) for s in eq.expr.free_symbols})
found = found.subs({s: sympy.Symbol(str(s), real=True) for s in found.free_symbols})
assert sympy.simplify(found - truth) == 0, found
X_new, y_new = sample(eq, 100, seed=1)
assert np.allclose(model.predict(X_new), y_new, rtol=1e-8)"""),
    ],
    "errors_and_exact_constants.ipynb": [
        ("md", """\
# Measurement errors, covariance and exact constants

Energies E = h ω / (2π) measured with an error σ = 0.02 on each point. With
`fit(..., y_err=sigma)` the search fits by chi-squared and `equations_` gains a `chi2_dof`
column (about 1 for the right formula with the right errors). The fitted constant 0.1593 is
shown as the exact 1/(2π) (`snap_constants`, on by default: within 4 standard errors and no
worse by an F-test); `constants` keeps the fitted value. `fit_formula` fits a formula you
already have and returns its parameters with their covariance."""),
        ("code", PATH_CELL),
        ("code", """\
import numpy as np
import pandas as pd
import sympy
from keplersr import SymbolicRegressor, fit_formula

rng = np.random.default_rng(1)
n, sigma = 400, 0.02
X = pd.DataFrame({"h": rng.uniform(1, 5, n), "omega": rng.uniform(1, 5, n)})
E = X.h * X.omega / (2 * np.pi) + rng.normal(0, sigma, n)"""),
        ("code", """\
model = SymbolicRegressor(binary_operators=["+", "-", "*", "/"], niterations=8, populations=6,
                          population_size=30, random_state=0, deterministic=True, verbosity=0,
                          output_directory=None)
model.fit(X, E, y_err=sigma)
model.equations_[["complexity", "loss", "chi2_dof", "sympy_format", "constants", "constants_stderr"]].head(6)"""),
        ("code", """\
best = model.get_best()
print("E =", model.sympy(), "  chi2/dof =", round(best["chi2_dof"], 3))
print("fitted constant:", best["constants"], "+-", best["constants_stderr"], "  1/(2 pi) =", 1 / (2 * np.pi))"""),
        ("code", """\
fit = fit_formula("c*h*omega", X, E, y_err=sigma)
print(fit.params, fit.errors, "chi2/dof =", round(fit.chi2_dof, 3))
fit.covariance"""),
        ("code", """\
fit2 = fit_formula("c*h*omega + d", X, E, y_err=sigma)   # an offset: two correlated parameters
corr = fit2.covariance.loc["c", "d"] / (fit2.errors["c"] * fit2.errors["d"])
print(fit2.params, "correlation(c, d) =", round(corr, 3))
fit2.covariance"""),
        ("md", "## Checks"),
        ("code", """\
h, omega = sympy.symbols("h omega", real=True)
assert sympy.simplify(model.sympy() - h * omega / (2 * sympy.pi)) == 0, model.sympy()
assert 0.8 < best["chi2_dof"] < 1.2, best["chi2_dof"]
assert abs(fit.params["c"] - 1 / (2 * np.pi)) < 4 * fit.errors["c"]
assert 0.8 < fit.chi2_dof < 1.2
assert list(fit.covariance.index) == ["c"]
assert np.isclose(fit.covariance.loc["c", "c"], fit.errors["c"] ** 2, rtol=1e-6)
assert corr < -0.5          # the offset trades against the slope"""),
    ],
    "bring_your_own_events.ipynb": [
        ("md", """\
# Bring your own events: from an LHE file to the optimal observable

A physicist who wants the optimal observable of *their* process generates events with MadGraph,
with reweighting weights at a few values of the parameter, and regresses the score. Here the
built-in WBF generator stands in for MadGraph: it writes its events as a Les Houches file with
weights at θ = f_WW̃/Λ² = −1, 0, 1 TeV⁻² (the header says which weight is which point).
From the file, `keplersr.physics` reads the particles and weights (`read_lhe`), computes the
kinematic features (`wbf_features`, a `FeatureBuilder`) and the joint score t = ∂ log p / ∂θ
at θ = 0 from the weights (`score`), and the search finds the observable, judged by its
Fisher fraction on an independent file. The same search on the generator's in-memory table of
the same events must find the same formula and fraction: the round trip loses nothing.
Needs the `events` extra (`pip install 'keplersr[events]'`)."""),
        ("code", PATH_CELL),
        ("code", """\
import os
import tempfile
import numpy as np
import pandas as pd
from keplersr import SymbolicRegressor
from keplersr.datasets import wbf_cp_score
from keplersr.datasets.wbf_lhe import write_wbf_lhe
from keplersr.physics import fisher_fraction, read_lhe, wbf_features

# the stand-in for MadGraph: events with their four-momenta, written with reweighting weights
folder = tempfile.mkdtemp()
fit_table = wbf_cp_score(3000, level="parton", seed=11, n_pilot=20_000, momenta=True)
eval_table = wbf_cp_score(10_000, level="parton", seed=12, n_pilot=20_000, momenta=True)
fit_file = write_wbf_lhe(fit_table, os.path.join(folder, "fit.lhe"), thetas=(-1.0, 0.0, 1.0))
eval_file = write_wbf_lhe(eval_table, os.path.join(folder, "eval.lhe"), thetas=(-1.0, 0.0, 1.0))
print(open(fit_file).read()[:1500])"""),
        ("md", """\
## From the file: particles, weights, features, the score

`read_lhe` finds the parameter in the header (every weight sets `fWWtilde`). The score comes
from the weights by quadratic morphing (exact: the squared amplitude is quadratic in θ). For a
CP-odd operator at the Standard Model the cross section does not change at linear order, so
the rate term is 0 (`rate_term="sample"` would subtract the sample mean of t instead)."""),
        ("code", """\
fit_events, eval_events = read_lhe(fit_file), read_lhe(eval_file)
print("parameter:", fit_events.parameter, "  points:", fit_events.thetas)
fit_score = fit_events.score(theta_ref=0.0, rate_term=0.0)
eval_score = eval_events.score(theta_ref=0.0, rate_term=0.0)
X_fit, X_eval = wbf_features().build(fit_events), wbf_features().build(eval_events)
X_fit.assign(t=fit_score.t).describe()"""),
        ("code", """\
FEATURES = ["x_f", "x_b", "Delta_eta", "Delta_phi"]

def search(X, t, weights):
    model = SymbolicRegressor(binary_operators=["+", "-", "*", "/"], unary_operators=["sin", "square"],
                              nested_constraints={"sin": {"sin": 0}}, maxsize=13, niterations=3, populations=4,
                              ncycles_per_iteration=100, random_state=0, deterministic=True, procs=1,
                              verbosity=0, output_directory=None)
    model.fit(X[FEATURES], 10 * np.asarray(t), weights=np.asarray(weights))
    return model

lhe_model = search(X_fit, fit_score.t, fit_events.weights)
g = np.asarray(lhe_model.predict(X_eval[FEATURES]), float)
F_lhe = fisher_fraction(g, eval_score.t, weights=eval_events.weights)
print(f"from the LHE file: t ~ {lhe_model.sympy()}   Fisher fraction {F_lhe:.6f}")"""),
        ("md", "## The same search on the in-memory dataset (same seeds)"),
        ("code", """\
mem_model = search(fit_table, fit_table["t"], fit_table["weight"])
g_mem = np.asarray(mem_model.predict(eval_table[FEATURES]), float)
F_mem = fisher_fraction(g_mem, eval_table["t"], weights=eval_table["weight"])
print(f"in memory:         t ~ {mem_model.sympy()}   Fisher fraction {F_mem:.6f}")
print(f"difference of the Fisher fractions: {abs(F_lhe - F_mem):.1e}")
score_diff = np.max(np.abs(eval_score.t - eval_table["t"]) / np.abs(eval_table["t"]))
print(f"score from the weights vs the generator's: max relative difference {score_diff:.1e}")"""),
        ("md", "## Checks"),
        ("code", """\
import sympy

def shape_and_constants(expr):
    floats = [f for f in sympy.preorder_traversal(expr) if isinstance(f, sympy.Float)]
    return str(expr.xreplace({f: sympy.Symbol("c") for f in floats})), [float(f) for f in floats]

(shape_lhe, c_lhe), (shape_mem, c_mem) = shape_and_constants(lhe_model.sympy()), shape_and_constants(mem_model.sympy())
assert shape_lhe == shape_mem and np.allclose(c_lhe, c_mem, rtol=1e-6), (lhe_model.sympy(), mem_model.sympy())
assert abs(F_lhe - F_mem) < 1e-6, (F_lhe, F_mem)
assert F_lhe > 0.9, F_lhe
assert {"x_f", "x_b", "Delta_phi"} <= {str(s) for s in lhe_model.sympy().free_symbols}
assert score_diff < 1e-6, score_diff"""),
    ],
    "wbf_cp_score.ipynb": [
        ("md", """\
# The CP-odd optimal observable in weak-boson fusion (small version)

A notebook version of `examples/wbf_cp_score.py` with few events, so it runs in seconds.
The per-event score t = d log p / dθ (θ = f_WW̃/Λ², t in TeV²) is the optimal observable for
CP violation in WBF Higgs production. The search regresses 10·t on x_f, x_b (jet pT / m_H),
Δη and Δφ of 3000 parton-level events; each formula of the front is then judged as an
observable on 20000 independent events by its **Fisher fraction**, the share of the
information on θ it keeps. At leading order the score is ∝ x_f x_b sin(Δφ) (1 + …): the search
finds x_f x_b sin(Δφ), which keeps about 95% of the information."""),
        ("code", PATH_CELL),
        ("code", """\
import numpy as np
import pandas as pd
from keplersr import SymbolicRegressor
from keplersr.datasets import wbf_cp_score
from keplersr.physics import expected_limit, fisher_fraction

FEATURES = ["x_f", "x_b", "Delta_eta", "Delta_phi"]
fit_events = wbf_cp_score(3000, level="parton", seed=11, n_pilot=20_000)
eval_events = wbf_cp_score(20_000, level="parton", seed=12, n_pilot=20_000)
fit_events[FEATURES + ["t", "weight"]].describe()"""),
        ("code", """\
model = SymbolicRegressor(binary_operators=["+", "-", "*", "/"], unary_operators=["sin", "square", "cube"],
                          nested_constraints={"sin": {"sin": 0}}, maxsize=15, niterations=4, populations=4,
                          ncycles_per_iteration=100, random_state=0, procs=1, verbosity=0,
                          output_directory=None)
model.fit(fit_events[FEATURES], 10 * fit_events["t"].to_numpy(), weights=fit_events["weight"].to_numpy())"""),
        ("code", """\
t, w = eval_events["t"].to_numpy(), eval_events["weight"].to_numpy()
rows = []
for i, row in model.equations_.iterrows():
    g = np.broadcast_to(np.asarray(model.predict(eval_events[FEATURES], index=i), float), t.shape)
    F = fisher_fraction(g, t, weights=w) if np.std(g) > 0 else 0.0
    rows.append({"complexity": row.complexity, "formula": row.sympy_format, "Fisher fraction": F})
table = pd.DataFrame(rows)
table"""),
        ("code", """\
g = np.asarray(model.predict(eval_events[FEATURES]), float)
F_selected = fisher_fraction(g, t, weights=w)
limit = expected_limit(g, t, n_events=1000, cl=0.95, weights=w)
print(f"selected: t ~ {model.sympy()}   F = {F_selected:.3f}   95% CL limit (1000 events): {limit:.3f} TeV^-2")"""),
        ("md", "## Checks"),
        ("code", """\
names = {str(s) for s in model.sympy().free_symbols}
assert {"x_f", "x_b", "Delta_phi"} <= names, model.sympy()
assert F_selected > 0.9, F_selected
assert table["Fisher fraction"].max() > 0.9
assert np.isfinite(limit) and limit > 0"""),
    ],
}


def build(cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
                for kind, src in cells]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"      # stable ids: rewriting an unchanged notebook changes nothing
    return nb


def main(argv=None):
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    stale = []
    for name, cells in NOTEBOOKS.items():
        path = os.path.join(HERE, name)
        text = nbformat.writes(build(cells)) + "\n"
        if check:
            if not os.path.exists(path) or open(path, encoding="utf-8").read() != text:
                stale.append(name)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print("wrote", path)
    if stale:
        print("out of date (run python examples/make_notebooks.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
