"""Decomposition (keplersr.decomposition): prefix-code trees, dimensional
reduction, the surrogate's separability and symmetry tests, and the plan's
composition of sub-formulas, without Julia (a least-squares stand-in solves
the leaves); then inside ``fit`` with the engine."""

import numpy as np
import pytest
import sympy

from keplersr.decomposition import OperatorIndex, Settings, decompose, from_codes, to_codes
from keplersr.decomposition.codes import monomial, substitute
from keplersr.decomposition.dimensional import reduce_dimensions
from keplersr.decomposition.rational import fit_rational, rational_candidates
from keplersr.decomposition.separability import find_split
from keplersr.decomposition.symmetry import find_symmetry
from keplersr.expressions import codes_to_sympy
from keplersr.units import parse_units

BIN = ["+", "-", "*", "/"]
UNA = ["sin", "cos", "exp", "log", "sqrt", "square"]
OPS = OperatorIndex(BIN, UNA)


def as_sympy(tree, names):
    codes, consts = to_codes(tree, OPS)
    return codes_to_sympy(codes, consts, BIN, UNA, names)


def evaluate(tree, X):
    names = [f"x{j}" for j in range(X.shape[1])]
    f = sympy.lambdify(sympy.symbols(names, real=True), as_sympy(tree, names), "numpy")
    return np.broadcast_to(np.asarray(f(*X.T), dtype=float), (X.shape[0],))


def same(expr, expected, names):
    """Numerically equal at random points (sympy keeps Floats of different precision apart)."""
    syms = sympy.symbols(names, real=True)
    pts = np.random.default_rng(9).uniform(1, 2, (20, len(syms)))
    f, g = (sympy.lambdify(syms, e, "numpy") for e in (expr, expected))
    return np.allclose([f(*p) for p in pts], [g(*p) for p in pts], rtol=1e-12)


def test_codes_round_trip_and_substitution():
    # x1 * exp(c * x2) in the engine's numbering: * = binary 3 (-1002), exp = unary 3 (-3)
    codes, consts = [-1002, 1, -3, -1002, 0, 2], [0.5]
    tree = from_codes(codes, consts, OPS)
    assert to_codes(tree, OPS) == (codes, consts)
    shifted = substitute(tree, {1: OPS.sub(OPS.var(3), OPS.var(4)), 2: OPS.var(1)})
    x = sympy.symbols("a b c d", real=True)
    assert same(as_sympy(shifted, ["a", "b", "c", "d"]), (x[2] - x[3]) * sympy.exp(0.5 * x[0]), "a b c d")
    with pytest.raises(ValueError):
        from_codes([-1002, 1], [], OPS)
    with pytest.raises(KeyError):
        OPS.un("tanh", OPS.var(1))       # not an operator of this search


def test_monomial_powers():
    a, b, c = sympy.symbols("a b c", real=True)
    tree = monomial([2, -1, sympy.Rational(1, 2)], [OPS.var(1), OPS.var(2), OPS.var(3)], OPS)
    assert same(as_sympy(tree, ["a", "b", "c"]), a**2 * sympy.sqrt(c) / b, "a b c")
    assert monomial([0, 0], [OPS.var(1), OPS.var(2)], OPS) is None
    with pytest.raises(KeyError):        # x^(1/3) cannot be written with these operators
        from fractions import Fraction
        monomial([Fraction(1, 3)], [OPS.var(1)], OPS)


def test_dimensional_reduction_of_a_gravitational_law():
    # F = G m1 m2 / r^2: one dimensionless group (m1/m2) remains
    dims = [parse_units(u) for u in ("m^3 kg^-1 s^-2", "kg", "kg", "m")]
    red = reduce_dimensions(dims, parse_units("N"))
    assert red is not None and len(red.group_exponents) == 1
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, (50, 4))
    F = X[:, 0] * X[:, 1] * X[:, 2] / X[:, 3] ** 2
    ratio = F / red.scale(X)
    g = red.groups(X)[:, 0]
    # F / M is a function of the group alone: a power of it
    k = np.polyfit(np.log(g), np.log(ratio), 1)
    assert np.allclose(np.log(ratio), np.polyval(k, np.log(g)), atol=1e-9)
    # a target whose units no product of the features' units gives
    assert reduce_dimensions([parse_units("m")], parse_units("s")) is None


@pytest.mark.parametrize("law, kind, transform, part", [
    (lambda X: X[:, 0] * X[:, 1] + X[:, 2] * X[:, 3], "additive", "identity", {0, 1}),
    (lambda X: X[:, 0] * np.exp(X[:, 1]) * (X[:, 2] + X[:, 3]) ** 2, "multiplicative", "identity", None),
    (lambda X: np.sqrt(X[:, 0] ** 2 + (X[:, 1] - X[:, 2]) ** 2), "additive", "square", {0}),
    (lambda X: 1 / (1 / X[:, 0] + 1 / (X[:, 1] + X[:, 2])), "additive", "inverse", {0}),
])
def test_separable_laws_are_split(law, kind, transform, part):
    rng = np.random.default_rng(1)
    X = rng.uniform(1, 3, (3000, 4 if kind != "additive" or transform == "identity" else 3))
    split = find_split(X, law, 1e-6 * float(np.std(law(X))), rng)
    assert split is not None and split.kind == kind and split.transform.name == transform
    assert part is None or part in (set(split.A), set(split.B))


def test_non_separable_law_is_not_split():
    rng = np.random.default_rng(2)
    X = rng.uniform(1, 3, (3000, 3))
    law = lambda X: X[:, 0] * X[:, 1] + X[:, 1] * X[:, 2] + X[:, 0] * X[:, 2]   # noqa: E731
    assert find_split(X, law, 1e-6 * float(np.std(law(X))), rng) is None
    assert find_symmetry(X, law, 1e-6 * float(np.std(law(X))), rng) is None


@pytest.mark.parametrize("law, kind", [
    (lambda X: np.exp(-(X[:, 1] - X[:, 2]) ** 2) / X[:, 0], "minus"),
    (lambda X: np.sin(X[:, 0] / X[:, 1]) + X[:, 2], "divide"),
])
def test_symmetries_are_found(law, kind):
    rng = np.random.default_rng(3)
    X = rng.uniform(1, 3, (3000, 3))
    sym = find_symmetry(X, law, 1e-6 * float(np.std(law(X))), rng)
    assert sym is not None and sym.kind == kind


def _least_squares_solver(calls):
    """A stand-in for the engine: fits a*(product of the variables) + b, or a*(sum) + b, on the leaf."""
    def solve(problem, seconds, share, what):
        calls.append((list(problem.names), what))
        X, y = problem.X, problem.y
        out = []
        for combine in (OPS.mul, OPS.add):
            t = OPS.var(1)
            for j in range(2, X.shape[1] + 1):
                t = combine(t, OPS.var(j))
            v = evaluate(t, X)
            a, b = np.polyfit(v, y, 1)
            out.append((np.mean((a * v + b - y) ** 2), OPS.add(OPS.mul(OPS.const(a), t), OPS.const(b))))
        return [t for _, t in sorted(out, key=lambda p: p[0])]
    return solve


def test_plan_composes_the_parts_of_a_sum_of_products():
    rng = np.random.default_rng(4)
    X = rng.uniform(1, 3, (4000, 4))
    y = 2 * X[:, 0] * X[:, 1] + 3 * X[:, 2] * X[:, 3]
    calls = []
    dec = decompose(X, y, ["a", "b", "c", "d"], OPS, Settings(transforms=False, polyfit=False),
                    _least_squares_solver(calls),
                    None, rng)
    assert dec.plan.kind == "additive" and len(dec.seeds) > 0
    # each part depends on its two variables through their product: one variable per leaf
    assert sorted(n for n, _ in calls) == [["(a*b)"], ["(c*d)"]]
    # the best composed seed reproduces y up to the surrogate's error (the engine refits its constants)
    errs = [np.sqrt(np.mean((evaluate(from_codes(s["codes"], s["constants"], OPS), X) - y) ** 2))
            for s in dec.seeds]
    assert min(errs) < 0.05 * np.std(y)
    assert "additive separability" in str(dec)


def test_plan_with_units_writes_groups_back_in_the_features():
    rng = np.random.default_rng(5)
    X = rng.uniform(1, 3, (2000, 3))
    y = X[:, 0] * X[:, 1] ** 2 * (2 + X[:, 1] / X[:, 2])        # m v^2 (2 + v/u): an energy, f(v/u)
    dims = [parse_units(u) for u in ("kg", "m/s", "m/s")]
    calls = []
    dec = decompose(X, y, ["m", "v", "u"], OPS, Settings(separability=False, symmetry=False, transforms=False,
                                                        polyfit=False),
                    _least_squares_solver(calls), None, rng, x_dims=dims, y_dim=parse_units("J"))
    assert dec.plan.kind == "units" and len(calls) == 1 and len(calls[0][0]) == 1
    best = min(np.max(np.abs(evaluate(from_codes(s["codes"], s["constants"], OPS), X) - y)) for s in dec.seeds)
    assert best < 1e-8


def test_nothing_to_decompose_gives_no_seeds_without_transforms():
    rng = np.random.default_rng(6)
    X = rng.uniform(1, 3, (2000, 2))
    y = np.sin(X[:, 0] * X[:, 1]) + X[:, 0]
    calls = []
    dec = decompose(X, y, ["a", "b"], OPS, Settings(transforms=False), _least_squares_solver(calls), None, rng)
    assert dec.seeds == [] and calls == []
    assert "no decomposition" in str(dec)


@pytest.mark.julia
@pytest.mark.slow
def test_fit_decomposes_with_units_and_marks_the_origin(julia_worker, fast):
    from keplersr import SymbolicRegressor

    rng = np.random.default_rng(7)
    X = rng.uniform(1, 3, (2000, 4))
    G, m1, m2, r = X.T
    y = G * m1 * m2 / r**2
    model = SymbolicRegressor(**dict(fast, niterations=3, maxsize=9, enumerate_max_complexity=3,
                                     random_state=0, deterministic=True))
    model.fit(X, y, variable_names=["G", "m1", "m2", "r"],
              X_units=["m^3 kg^-1 s^-2", "kg", "kg", "m"], y_units="N")
    assert model.decomposition_.plan.kind == "units"
    # the progress history counts the decomposition's time
    assert model.history_[0]["elapsed"] >= model.decomposition_.seconds > 0
    assert "origin" in model.equations_.columns
    best = model.equations_.iloc[-1]
    assert best["loss"] < 1e-20 and best["origin"] == "decomposition"
    import pickle
    again = pickle.loads(pickle.dumps(model))          # the plan pickles with the model, without its data
    assert str(again.decomposition_) == str(model.decomposition_)
    syms = sympy.symbols("G m1 m2 r", real=True)
    assert sympy.simplify(model.sympy() - syms[0] * syms[1] * syms[2] / syms[3] ** 2) == 0
    # every ingredient off: no decomposition ran
    off = SymbolicRegressor(**dict(fast, niterations=2, random_state=0, deterministic=True, decompose_units=False,
                                   decompose_separability=False, decompose_symmetry=False,
                                   decompose_polyfit=False))
    off.fit(X, y, X_units=["m^3 kg^-1 s^-2", "kg", "kg", "m"], y_units="N")
    assert off.decomposition_ is None and set(off.equations_["origin"]) == {"search"}


def test_units_alone_can_solve_a_law_without_a_search():
    # E = m c^2: no dimensionless group is left, f is a constant and no leaf needs a search
    rng = np.random.default_rng(8)
    X = rng.uniform(1, 3, (500, 2))
    y = 0.5 * X[:, 0] * X[:, 1] ** 2
    calls = []
    dec = decompose(X, y, ["m", "v"], OPS, Settings(), _least_squares_solver(calls), None, rng,
                    x_dims=[parse_units("kg"), parse_units("m/s")], y_dim=parse_units("J"))
    assert calls == [] and dec.plan.kind == "units" and len(dec.seeds) == 1
    tree = from_codes(dec.seeds[0]["codes"], dec.seeds[0]["constants"], OPS)
    assert np.allclose(evaluate(tree, X), y, rtol=1e-12)


@pytest.mark.parametrize("law, lo, hi, target, terms", [
    (lambda p, q: (p + q) / (1 + p * q), 0.5, 5, "y", 4),                      # velocity addition
    (lambda p, q: 3 * p / (q * q - 0.5), 1, 2, "y", 3),                         # a resonance denominator
    (lambda p, q: 1 / (p * np.sqrt(1 - (p / (3 * q)) ** 2)), 1, 2, "1/y^2", 3),  # after y -> 1/y^2
])
def test_rational_fits_are_exact_and_sparse(law, lo, hi, target, terms):
    rng = np.random.default_rng(11)
    X = rng.uniform(lo, hi, (3000, 2))
    y = law(X[:, 0], X[:, 1])
    fit = fit_rational(X, y, target)
    assert fit is not None and fit.exact and fit.terms == terms
    tree, best = rational_candidates(X, y, OPS)[0]
    assert best.exact and best.terms <= terms
    assert np.allclose(evaluate(tree, X), y, rtol=1e-9)
    assert "exact" in best.describe(["p", "q"])


def test_no_rational_fit_of_a_transcendental_law():
    rng = np.random.default_rng(12)
    X = rng.uniform(1, 3, (3000, 2))
    assert rational_candidates(X, np.sin(X[:, 0] * X[:, 1]) + X[:, 1], OPS) == []


def test_an_exact_rational_leaf_needs_no_search():
    # (u + v) / (1 + u v / c^2) with units: y = c f(u/c, v/c), f rational; no sub-search runs
    rng = np.random.default_rng(13)
    X = rng.uniform(1, 5, (2000, 3))
    u, v, c = X.T
    y = (u + v) / (1 + u * v / c**2)
    calls = []
    dims = [parse_units("m/s")] * 3
    dec = decompose(X, y, ["u", "v", "c"], OPS, Settings(), _least_squares_solver(calls), None, rng,
                    x_dims=dims, y_dim=parse_units("m/s"))
    assert calls == [] and "[fit: " in str(dec)
    best = min(np.max(np.abs(evaluate(from_codes(s["codes"], s["constants"], OPS), X) - y)) for s in dec.seeds)
    assert best < 1e-9
    # off: the leaf is searched
    dec = decompose(X, y, ["u", "v", "c"], OPS, Settings(polyfit=False, separability=False, symmetry=False),
                    _least_squares_solver(calls), None, rng, x_dims=dims, y_dim=parse_units("m/s"))
    assert len(calls) >= 1


def test_a_root_of_a_ratio_is_written_as_a_ratio_of_roots():
    # y = 1 / sqrt(1 - v^2/c^2): 1/y^2 = (c^2 - v^2) / c^2, written as a ratio of roots, never sqrt(1/...)
    rng = np.random.default_rng(14)
    X = np.column_stack([rng.uniform(0.1, 0.9, 3000), rng.uniform(1, 1.5, 3000)])
    v, c = X.T
    y = 1 / np.sqrt(1 - v**2 / c**2)
    fit = fit_rational(X, y, "1/y^2")
    assert fit is not None and fit.exact and fit.positive_parts
    tree = fit.tree(OPS, [OPS.var(1), OPS.var(2)])
    # c / sqrt(c^2 - v^2): the square c^2 leaves the root
    assert tree.op == "/" and tree.children[0].op != "sqrt" and tree.children[1].op == "sqrt"
    assert not as_sympy(tree, ["v", "c"]).has(sympy.Abs)
    assert np.allclose(evaluate(tree, X), y, rtol=1e-9)


def test_an_exact_rational_fit_is_not_split_by_the_surrogate_tests():
    # Lorentz time (t - u x / c^2) / sqrt(1 - u^2/c^2): after units an exact y^2 = P/Q with P a square;
    # the formula comes out with the root taken, R / sqrt(Q')
    rng = np.random.default_rng(15)
    n = 3000
    t, u, x, c = rng.uniform(1, 5, n), rng.uniform(1, 2, n), rng.uniform(1, 5, n), rng.uniform(3, 10, n)
    X = np.column_stack([x, c, u, t])
    y = (t - u * x / c**2) / np.sqrt(1 - u**2 / c**2)
    calls = []
    dims = [parse_units(s) for s in ("m", "m/s", "m/s", "s")]
    dec = decompose(X, y, ["x", "c", "u", "t"], OPS, Settings(), _least_squares_solver(calls), None, rng,
                    x_dims=dims, y_dim=parse_units("s"))
    assert calls == [] and dec.plan.children[0].kind == "leaf"
    exprs = [as_sympy(from_codes(s["codes"], s["constants"], OPS), ["x", "c", "u", "t"]) for s in dec.seeds]
    errs = [np.max(np.abs(evaluate(from_codes(s["codes"], s["constants"], OPS), X) - y)) for s in dec.seeds]
    exact = [e for e, err in zip(exprs, errs) if err < 1e-9]
    assert exact and not any(e.has(sympy.Abs) for e in exact)
    # no square of a polynomial is left under a root
    assert any(all(len(sympy.Add.make_args(r.args[0])) <= 2 for r in e.atoms(sympy.Pow) if r.exp == sympy.S.Half)
               for e in exact)


def test_rational_fits_are_normalised_to_a_unit_constant_term():
    rng = np.random.default_rng(16)
    X = rng.uniform(0.1, 1, (2000, 1))
    y = X[:, 0] / (1 - X[:, 0] / 3)
    fit = fit_rational(X, y, "y")
    assert fit.exact
    den = dict(fit.denominator)
    assert den[(0,)] == pytest.approx(1.0) and den[(1,)] == pytest.approx(-1 / 3)
    assert dict(fit.numerator)[(1,)] == pytest.approx(1.0)


def test_laurent_polynomials_with_negative_powers_are_fitted():
    # a sum of products in ratios that units write the other way up: 1/p3 + 1/(p1 p4) + 1/(p2 p5)
    rng = np.random.default_rng(17)
    X = rng.uniform(0.5, 3, (3000, 5))
    y = 1 / X[:, 2] + 1 / (X[:, 0] * X[:, 3]) + 2 / (X[:, 1] * X[:, 4])
    fit = fit_rational(X, y, "y")
    assert fit is not None and fit.exact and fit.terms == 3 and not fit.denominator
    tree, best = rational_candidates(X, y, OPS)[0]
    assert np.allclose(evaluate(tree, X), y, rtol=1e-9)
    # a zero in the data: no negative powers are tried
    X0 = X.copy()
    X0[0, 2] = 0.0
    assert fit_rational(X0, np.where(X0[:, 2] == 0, 0.0, y), "y") is None


def test_exponential_fits_of_gaussians_and_boltzmann_factors():
    from keplersr.decomposition.exponential import exponential_candidates, fit_exponential

    rng = np.random.default_rng(18)
    t, s = rng.uniform(-2, 2, 3000), rng.uniform(1, 3, 3000)        # t = theta - theta1: of both signs
    X = np.column_stack([t, s])
    y = np.exp(-(t / s) ** 2 / 2) / (np.sqrt(2 * np.pi) * s)
    fit = fit_exponential(X, y)
    assert fit is not None and fit.exact and fit.powers == (0, -1)
    tree, _ = exponential_candidates(X, y, OPS)[0]
    assert np.allclose(evaluate(tree, X), y, rtol=1e-9)
    E, T = rng.uniform(1, 3, 3000), rng.uniform(1, 3, 3000)
    fit = fit_exponential(np.column_stack([E, T]), 3 * T**1.5 * np.exp(-E / T))
    assert fit.exact and fit.powers == (0, sympy.Rational(3, 2)) and fit.coefficient == pytest.approx(3)
    # not of the family, or no exp operator: nothing
    assert fit_exponential(np.column_stack([E, T]), np.sin(E * T) + 2) is None
    assert exponential_candidates(X, y, OperatorIndex(BIN, ["sin"])) == []
