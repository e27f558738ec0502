"""How a fitted model shows itself (text, Jupyter HTML, LaTeX table) and
pickles with user operators; built from records, without Julia."""

import pickle

import numpy as np
import pytest
import sympy

from keplersr import SymbolicRegressor

# prefix codes: x1 = 1, constant = 0, unary k = -(k+1), binary k = -(1000+k)
RECORDS = [
    {"complexity": 1, "loss": 2.0, "score": 0.0, "equation": "x0", "codes": [1], "constants": [],
     "constants_stderr": []},
    {"complexity": 3, "loss": 1e-3, "score": 3.8, "equation": "2.5*x0", "codes": [-1002, 0, 1],
     "constants": [2.5], "constants_stderr": [0.01]},
    {"complexity": 5, "loss": 9e-4, "score": 0.05, "equation": "2.5*inv2(x0) + x0",
     "codes": [-1000, -1002, 0, -1, 1, 1], "constants": [2.5], "constants_stderr": [float("inf")]},
]


def fitted(units=None, **params):
    m = SymbolicRegressor(binary_operators=["+", "-", "*"], unary_operators=["inv2(x) = 1/x^2"],
                          extra_sympy_mappings={"inv2": lambda x: 1 / x ** 2}, **params)
    state = {"status": "finished", "variable_names": ["x0"], "feature_names_in": None,
             "binary_operators": ["+", "-", "*"], "unary_operators": ["inv2"], "multioutput": False,
             "outputs": [RECORDS], "X_units": units, "y_units": "J" if units else None}
    return m._load_state(state, "nowhere")


def test_text_repr_shows_the_front_and_marks_the_selected_formula():
    text = repr(fitted())
    assert "complexity" in text and "2.5*x0" in text
    selected = [ln for ln in text.splitlines() if ln.lstrip().startswith(">")]
    assert len(selected) == 1 and "2.5*x0" in selected[0]


def test_jupyter_html_highlights_the_selected_row_with_latex_and_errors():
    m = fitted()
    bundle = m._repr_mimebundle_()
    page = bundle["text/html"]
    assert page.count("class='sel'") == 1
    sel_row = page.split("class='sel'")[1].split("</tr>")[0]
    assert "2.5 x_{0}" in sel_row and "2.500(10)" in sel_row     # constants rounded to their errors
    assert bundle["text/plain"] == repr(m)
    # unfitted: scikit-learn's own display
    assert "text/html" in SymbolicRegressor()._repr_mimebundle_()


def test_latex_table():
    m = fitted()
    tab = m.latex_table(precision=2)
    assert tab.startswith(r"\begin{tabular}") and r"\toprule" in tab and tab.endswith(r"\end{tabular}")
    assert tab.count(r"\\") == 1 + 3
    assert "$0.0009$" in tab and r"$\leftarrow$" in tab
    assert fitted().latex_table(indices=[0]).count(r"\\") == 2


def test_pickle_with_a_lambda_mapping_keeps_the_operator():
    m = fitted()
    back = pickle.loads(pickle.dumps(m))
    x = sympy.Symbol("x")
    assert sympy.simplify(back.extra_sympy_mappings["inv2"](x) - 1 / x ** 2) == 0
    X = np.array([[1.0], [2.0]])
    np.testing.assert_allclose(back.predict(X, index=2), m.predict(X, index=2))
    assert m.extra_sympy_mappings["inv2"].__name__ == "<lambda>"   # the original is untouched


def test_mapping_without_a_sympy_form_is_dropped_with_a_warning():
    m = fitted()
    m.extra_sympy_mappings = {"inv2": lambda x: np.float64(1.0) / float(x)}
    with pytest.warns(RuntimeWarning, match="inv2"):
        back = pickle.loads(pickle.dumps(m))
    assert "inv2" not in back.extra_sympy_mappings
    assert back.predict(np.array([[2.0]]), index=2).shape == (1,)


def test_units_are_kept_and_shown():
    m = fitted(units=["m/s"])
    assert m.X_units_ == ["m/s"] and m.y_units_ == "J"
    assert "x0 [m/s]; y [J]" in m._repr_mimebundle_()["text/html"]
    assert fitted().X_units_ is None
