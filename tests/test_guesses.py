"""The user's guesses (``guesses``, PySR's name): formulas the search starts from.

Conversion to the engine's prefix codes and every error case run without
Julia; the searches (marked ``julia`` through the ``julia_worker`` fixture)
check that a guess with the right structure and wrong constants ends on the
front with its constants fitted.
"""

import numpy as np
import pandas as pd
import pytest
import sympy

from keplersr import SymbolicRegressor
from keplersr.decomposition.codes import OperatorIndex, from_codes
from keplersr.expressions import codes_to_sympy
from keplersr.guesses import GuessError, guess_expressions, guesses_per_output

BIN = ["+", "-", "*", "/"]


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(1, 2, size=(n, 2))
    return X, 2.5 * X[:, 0] * X[:, 1] + 1.3


def _tiny(tmp_path, **kw):
    return dict(dict(niterations=1, enumerate_max_complexity=0, populations=2, population_size=20,
                     ncycles_per_iteration=10, random_state=0, decomposition_depth=0, deterministic=True, progress=False, verbosity=0,
                     output_directory=str(tmp_path / "outputs"), worker_timeout=120.0), **kw)


def _has_exact(eq, constants):
    for _, row in eq.iterrows():
        if row["loss"] < 1e-20 and len(row["constants"]) == len(constants) and \
                np.allclose(sorted(row["constants"]), sorted(constants), rtol=1e-9):
            return True
    return False


# ---------------------------------------------------------------- conversion (no Julia)

@pytest.mark.parametrize("guess, unary, ops_used", [
    ("1.0*x0*x1 + 0.5", [], {"*", "+"}),
    ("x0^2 - x1/3", ["square"], {"square", "-", "*"}),
    ("x0**2", [], {"*"}),
    ("1/x0", [], {"/"}),
    ("x0**-2 + sqrt(x1)", ["sqrt", "square"], {"/", "square", "+", "sqrt"}),
    ("sin(x0)*x1", ["sin"], {"sin", "*"}),
])
def test_guesses_become_prefix_codes_of_the_search_operators(guess, unary, ops_used):
    (e,) = guess_expressions([guess], ["x0", "x1"], BIN, unary)
    got = codes_to_sympy(e["codes"], e["constants"], BIN, unary, ["x0", "x1"])
    x0, x1 = sympy.symbols("x0 x1", real=True)
    want = sympy.sympify(guess.replace("^", "**"), locals={"x0": x0, "x1": x1})
    assert abs(float((got - want).subs({x0: 1.37, x1: 1.91}))) < 1e-12
    used = set()

    def walk(n):
        if n.kind in ("unary", "binary"):
            used.add(n.op)
        for c in n.children:
            walk(c)
    walk(from_codes(e["codes"], e["constants"], OperatorIndex(BIN, unary)))
    assert used == ops_used


def test_a_sympy_guess_and_variable_names():
    m, v = sympy.symbols("m v")
    (e,) = guess_expressions([sympy.Rational(1, 2) * m * v**2], ["m", "v"], BIN, ["square"])
    assert e["constants"] == [0.5]
    assert sorted(c for c in e["codes"] if c > 0) == [1, 2]


def test_guesses_per_output():
    assert guesses_per_output(None, 2) == [[], []]
    assert guesses_per_output(["x0"], 2) == [["x0"], ["x0"]]
    assert guesses_per_output("x0", 1) == [["x0"]]
    assert guesses_per_output([["x0"], ["x1", "x0"]], 2) == [["x0"], ["x1", "x0"]]
    with pytest.raises(GuessError, match="3 lists but y has 2"):
        guesses_per_output([["x0"], ["x1"], []], 2)
    with pytest.raises(GuessError, match="mixes"):
        guesses_per_output([["x0"], "x1"], 2)


@pytest.mark.parametrize("guesses, match", [
    (["x0*"], "does not parse"),
    (["x0*x7"], r"unknown variable\(s\) x7"),
    (["cos(x0)"], r"'cos' is not among the search's unary_operators; add it"),
    (["x0**0.3"], r"'\^' is not among the search's binary_operators"),
    ([3.0], "a guess is a string or a sympy expression"),
    ({"x0": 1}, "guesses must be a list"),
])
def test_bad_guesses_fail_before_julia(guesses, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        SymbolicRegressor(progress=False, guesses=guesses).fit(X, y)


def test_wrong_number_of_lists_for_a_2d_y():
    X, y = _data()
    with pytest.raises(ValueError, match="3 lists but y has 2 output"):
        SymbolicRegressor(progress=False).fit(X, np.column_stack([y, y]), guesses=[["x0"], ["x1"], ["x0"]])


def test_the_fit_argument_wins_over_the_constructor():
    X, y = _data()
    with pytest.raises(ValueError, match="x8"):      # the fit's guesses are the ones checked
        SymbolicRegressor(progress=False, guesses=["x9 + 1"]).fit(X, y, guesses=["x8 + 1"])


# ---------------------------------------------------------------- searches

def test_a_guess_with_wrong_constants_ends_exact_on_the_front(julia_worker, tmp_path):
    X, y = _data()
    alone = SymbolicRegressor(**_tiny(tmp_path, ncycles_per_iteration=3)).fit(X, y)
    assert not _has_exact(alone.equations_, [2.5, 1.3])      # the tiny search alone does not get there
    m = SymbolicRegressor(**_tiny(tmp_path, ncycles_per_iteration=3)).fit(X, y, guesses=["1.0*x0*x1 + 0.5"])
    assert _has_exact(m.equations_, [2.5, 1.3])
    row = m.equations_[m.equations_["loss"] < 1e-20].iloc[0]
    assert row["origin"] == "guess"
    np.testing.assert_allclose(m.predict(X), y, rtol=1e-9)


def test_a_guess_above_maxsize_reaches_the_front_the_search_alone_cannot(julia_worker, tmp_path):
    X, y = _data()
    # complexity 7 > maxsize 5: without the guess the exact formula is out of reach
    alone = SymbolicRegressor(**_tiny(tmp_path, maxsize=5)).fit(X, y)
    assert not _has_exact(alone.equations_, [2.5, 1.3])
    m = SymbolicRegressor(**_tiny(tmp_path, maxsize=5)).fit(X, y, guesses=["1.0*x0*x1 + 0.5"])
    assert _has_exact(m.equations_, [2.5, 1.3])
    assert m.equations_["complexity"].max() == 7


def test_constructor_guesses_dataframe_names_and_two_outputs(julia_worker, tmp_path):
    X, y = _data()
    df = pd.DataFrame(X, columns=["a", "b"])
    Y = np.column_stack([y, 3.0 * X[:, 0] - 0.7 * X[:, 1]])
    # with decomposition: its composed formulas and the guesses are both seeds
    m = SymbolicRegressor(**_tiny(tmp_path, decomposition_depth=3,
                                  guesses=[["2*a*b + 1", "b"], ["1.0*a - 1.0*b"]])).fit(df, Y)
    assert _has_exact(m.equations_[0], [2.5, 1.3])
    assert m.equations_[1]["loss"].min() < 1e-20
