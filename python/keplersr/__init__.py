"""KeplerSR: symbolic regression for physicists.

``SymbolicRegressor`` finds formulas behind a table of numbers, as a Pareto
front of accuracy against simplicity, with a search engine written in Julia.
"""

__version__ = "0.1.0"

from .errors import (CheckpointError, JuliaArgumentError, JuliaError, SearchIncompleteError,  # noqa: E402
                     WorkerError, WorkerProcessError)
from .estimator import SymbolicRegressor  # noqa: E402
from .formula_fit import FormulaFit, fit_formula  # noqa: E402

__all__ = ["SymbolicRegressor", "fit_formula", "FormulaFit", "SearchIncompleteError", "CheckpointError",
           "WorkerProcessError", "JuliaError", "JuliaArgumentError", "WorkerError", "__version__"]
