"""Tests for keplersr.plotting and the shipped Kepler datasets."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from keplersr.datasets.kepler import load_jupiter_moons, load_kepler
from keplersr.plotting import plot_pareto_front, plot_predictions, plot_progress

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def equations_frame():
    return pd.DataFrame({
        "complexity": [1, 3, 5, 7],
        "loss": [10.0, 0.5, 1e-3, 9e-4],
        "score": [0.0, 1.5, 3.1, 0.05],
        "equation": ["1.0", "(a * 2.0)", "(a ^ 1.5)", "((a ^ 1.5) + 0.001)"],
        "sympy_format": [None] * 4,
        "lambda_format": [None] * 4,
    })


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 2000


def test_pareto_front_writes_png_and_highlights_best_score(tmp_path):
    p = tmp_path / "pareto.png"
    fig = plot_pareto_front(equations_frame(), path=p)
    assert isinstance(fig, Figure)
    assert_png(p)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    star = [ln for ln in ax.get_lines() if ln.get_marker() == "*"][0]
    assert list(star.get_xdata()) == [5.0] and list(star.get_ydata()) == [1e-3]
    assert "(a ^ 1.5)" in star.get_label()


def test_pareto_front_explicit_highlight_and_existing_axes(tmp_path):
    fig = Figure()
    ax = fig.add_subplot()
    out = plot_pareto_front(equations_frame(), ax=ax, highlight=3)
    assert out is fig
    star = [ln for ln in ax.get_lines() if ln.get_marker() == "*"][0]
    assert list(star.get_xdata()) == [7.0]
    with pytest.raises(ValueError, match="highlight"):
        plot_pareto_front(equations_frame(), highlight=99)


def test_pareto_front_step_line_is_running_minimum():
    df = equations_frame()
    df.loc[3, "loss"] = 5.0  # dominated point: the front must stay at 1e-3
    fig = plot_pareto_front(df)
    step = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "Pareto front"][0]
    assert np.min(step.get_ydata()) == pytest.approx(1e-3)
    assert step.get_ydata()[-1] == pytest.approx(1e-3)


def test_pareto_front_zero_loss_and_bad_input():
    df = equations_frame()
    df.loc[2, "loss"] = 0.0
    fig = plot_pareto_front(df)
    assert fig.axes[0].get_yscale() == "symlog"
    with pytest.raises(ValueError, match="loss"):
        plot_pareto_front(pd.DataFrame({"complexity": [1]}))
    with pytest.raises(ValueError, match="empty"):
        plot_pareto_front(equations_frame().iloc[:0])


def test_predictions_plot(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.normal(size=100)
    yp = y + 0.01 * rng.normal(size=100)
    yp[0] = np.nan
    p = tmp_path / "pred.png"
    fig = plot_predictions(y, yp, path=p)
    assert_png(p)
    title = fig.axes[0].get_title()
    assert "R^2" in title and "1 non-finite" in title
    with pytest.raises(ValueError, match="same length"):
        plot_predictions([1.0, 2.0], [1.0])


def test_progress_plot(tmp_path):
    hist = [{"time": t, "best_loss": l} for t, l in [(0.5, 3.0), (1.0, 1.0), (1.5, 2.0), (2.0, 0.1)]]
    p = tmp_path / "prog.png"
    fig = plot_progress(hist, path=p)
    assert_png(p)
    ax = fig.axes[0]
    best = [ln for ln in ax.get_lines() if ln.get_label() == "best best_loss"][0]
    np.testing.assert_array_equal(best.get_ydata(), [3.0, 1.0, 1.0, 0.1])
    assert ax.get_xlabel() == "time [s]"
    fig2 = plot_progress([{"iteration": i, "loss": 1.0 / (i + 1)} for i in range(5)])
    assert fig2.axes[0].get_xlabel() == "iteration"
    with pytest.raises(ValueError, match="best_loss"):
        plot_progress([{"time": 1.0}])
    with pytest.raises(ValueError, match="empty"):
        plot_progress([])


# --- shipped data: a real physical check of the literal values -------------

def test_kepler_third_law_holds_for_planets():
    df = load_kepler()
    assert list(df.columns[:5]) == ["name", "kind", "a", "T", "e"]
    planets = df[df["kind"] == "planet"]
    assert list(planets["name"]) == ["Mercury", "Venus", "Earth", "Mars", "Jupiter",
                                     "Saturn", "Uranus", "Neptune"]
    ratio = planets["T"] ** 2 / planets["a"] ** 3
    assert np.all(np.abs(ratio - 1) < 0.01)
    # every other body too (comets and dwarf planets), at the same tolerance
    assert np.all(np.abs(df["T"] ** 2 / df["a"] ** 3 - 1) < 0.01)
    assert {"Pluto", "Ceres", "Eris", "Halley"} <= set(df["name"])
    assert np.all((df["e"] >= 0) & (df["e"] < 1))
    # a fit of log T on log a recovers the exponent 3/2
    slope = np.polyfit(np.log(df["a"]), np.log(df["T"]), 1)[0]
    assert slope == pytest.approx(1.5, abs=2e-3)


def test_jupiter_moons_give_jupiter_mass():
    m = load_jupiter_moons()
    assert list(m["name"]) == ["Io", "Europa", "Ganymede", "Callisto"]
    G = 6.6743e-11
    a_m = m["a"].to_numpy() * 1e3
    t_s = m["T"].to_numpy() * 86400.0
    mass = 4 * np.pi**2 * a_m**3 / (G * t_s**2)
    np.testing.assert_allclose(mass, 1.898e27, rtol=3e-3)


def test_loaders_return_fresh_frames():
    a = load_kepler()
    a.loc[0, "a"] = -1.0
    assert load_kepler().loc[0, "a"] > 0
