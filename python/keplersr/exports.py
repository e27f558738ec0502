"""Formulas of the front as JAX functions and PyTorch modules (PySR's ``jax()`` and ``pytorch()``).

Both exports start from the formula the user is shown (``sympy_format``,
the one ``predict`` evaluates) and pull its constants out as parameters:

* every ``sympy.Float`` of the formula becomes one parameter, in the order
  of first appearance in a pre-order walk of the expression (a value that
  occurs twice is one sympy atom, so one parameter). These are the
  constants of the shown form, which simplification may have combined:
  they can differ from the engine's ``constants`` column;
* exact numbers stay fixed: integers, rationals, and exact constants found
  by ``snap_constants`` (``pi``, ``sqrt(2)``, ``5/2``) are not trained;
* the formula is lowered once to a tree of backend calls (``+``, ``*`` and
  ``**`` by Python's operators, functions through a mapping table), so the
  result is traced by ``jax.jit`` / autograd like any hand-written code.

Functions the tables below do not know (a user operator shown as
``sympy.Function("myop")``, say) need a mapping: ``extra_jax_mappings`` /
``extra_torch_mappings``, keyed by the sympy function or its name, valued by
a callable or a dotted name (``"jnp.sinc"``, ``"torch.special.sinc"``).

jax and torch are optional: they are imported only when an export is asked for.

Layer: leaf (works on sympy expressions; imports nothing of the package).
"""

from __future__ import annotations

import importlib
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import sympy

__all__ = ["extract_parameters", "sympy_to_jax", "sympy_to_torch", "lower"]


def extract_parameters(expr) -> Tuple[sympy.Expr, List[sympy.Symbol], List[float]]:
    """``expr`` with each ``sympy.Float`` replaced by a parameter symbol.

    Returns ``(expr with symbols, parameter symbols, their float values)``;
    parameters are numbered in order of first appearance in a pre-order walk.
    """
    expr = sympy.sympify(expr)
    floats: List[sympy.Float] = []
    seen = set()
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Float) and node not in seen:
            seen.add(node)
            floats.append(node)
    symbols = [sympy.Dummy(f"p{i}", real=True) for i in range(len(floats))]
    return expr.xreplace(dict(zip(floats, symbols))), symbols, [float(f) for f in floats]


# ------------------------------------------------------------------ tables
# sympy function -> dotted name in the backend's namespace ("jnp", "jax", "torch")
_JAX: Dict[type, str] = {
    sympy.sin: "jnp.sin", sympy.cos: "jnp.cos", sympy.tan: "jnp.tan",
    sympy.asin: "jnp.arcsin", sympy.acos: "jnp.arccos", sympy.atan: "jnp.arctan", sympy.atan2: "jnp.arctan2",
    sympy.sinh: "jnp.sinh", sympy.cosh: "jnp.cosh", sympy.tanh: "jnp.tanh",
    sympy.asinh: "jnp.arcsinh", sympy.acosh: "jnp.arccosh", sympy.atanh: "jnp.arctanh",
    sympy.exp: "jnp.exp", sympy.log: "jnp.log", sympy.Abs: "jnp.abs", sympy.sign: "jnp.sign",
    sympy.floor: "jnp.floor", sympy.ceiling: "jnp.ceil", sympy.Mod: "jnp.mod",
    sympy.Max: "jnp.maximum", sympy.Min: "jnp.minimum",
    sympy.erf: "jax.scipy.special.erf", sympy.erfc: "jax.scipy.special.erfc",
    sympy.loggamma: "jax.scipy.special.gammaln",
}
_TORCH: Dict[type, str] = {
    sympy.sin: "torch.sin", sympy.cos: "torch.cos", sympy.tan: "torch.tan",
    sympy.asin: "torch.asin", sympy.acos: "torch.acos", sympy.atan: "torch.atan", sympy.atan2: "torch.atan2",
    sympy.sinh: "torch.sinh", sympy.cosh: "torch.cosh", sympy.tanh: "torch.tanh",
    sympy.asinh: "torch.asinh", sympy.acosh: "torch.acosh", sympy.atanh: "torch.atanh",
    sympy.exp: "torch.exp", sympy.log: "torch.log", sympy.Abs: "torch.abs", sympy.sign: "torch.sign",
    sympy.floor: "torch.floor", sympy.ceiling: "torch.ceil", sympy.Mod: "torch.remainder",
    sympy.Max: "torch.maximum", sympy.Min: "torch.minimum",
    sympy.erf: "torch.erf", sympy.erfc: "torch.erfc", sympy.loggamma: "torch.lgamma",
}


def _resolve(value, namespaces: Mapping[str, object]) -> Callable:
    """A callable, or a dotted name (``"jnp.sin"``, ``"jax.scipy.special.erf"``) looked up in ``namespaces``."""
    if callable(value):
        return value
    head, *rest = str(value).split(".")
    if head not in namespaces:
        raise ValueError(f"cannot resolve {value!r}: a mapping value is a callable or a dotted name "
                         f"starting with one of {sorted(namespaces)}")
    obj = namespaces[head]
    for i, part in enumerate(rest):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            try:   # a submodule not imported yet (jax.scipy.special)
                obj = importlib.import_module(".".join([obj.__name__, part]))
            except (ImportError, AttributeError):
                raise ValueError(f"cannot resolve {value!r}: no {part!r} in {'.'.join([head] + rest[:i])}") \
                    from None
    return obj


def _function_table(defaults, extra, namespaces):
    """{sympy function class or name: callable}; user mappings (keyed by class or name) win."""
    table: Dict[object, Callable] = {}
    for key, value in defaults.items():
        try:
            table[key] = _resolve(value, namespaces)
        except ValueError:      # an old backend without the function: only an error if a formula uses it
            pass
    for key, value in (extra or {}).items():
        name = key if isinstance(key, str) else getattr(key, "__name__", str(key))
        table[name] = _resolve(value, namespaces)
        if not isinstance(key, str):
            table[key] = table[name]
    return table


def lower(expr, variable_names: Sequence[str], parameters: Sequence[sympy.Symbol], functions,
          mapping_argument: str, backend: str, number_argument: Optional[Callable] = None) -> Callable:
    """``fn(X, P)``: ``expr`` evaluated on columns ``X[:, j]`` (``variable_names[j]``) and parameters ``P[i]``.

    ``functions`` maps sympy function classes or names to backend callables;
    a function missing from it raises ``ValueError`` naming it and
    ``mapping_argument``. Numbers without parameters are folded to Python
    floats; ``number_argument(value, X)``, if given, turns such a number into
    the backend's array where it is a function's argument (``torch.maximum``
    and ``torch.atan2`` take tensors only).
    """
    var_index = {str(n): j for j, n in enumerate(variable_names)}
    par_index = {p: i for i, p in enumerate(parameters)}

    def build(e):
        if e in par_index:
            i = par_index[e]
            return lambda X, P: P[i]
        if e.is_Symbol:
            if e.name not in var_index:
                raise ValueError(f"the formula uses {e.name!r}, which is not a variable of the fit "
                                 f"{list(var_index)}")
            j = var_index[e.name]
            return lambda X, P: X[:, j]
        if not e.free_symbols:            # numbers without parameters: folded
            try:
                value = float(e)
            except TypeError:               # zoo, complex: what predict gives is NaN
                value = float("nan")
            return lambda X, P: value
        if e.is_Add:
            parts = [build(a) for a in e.args]

            def add(X, P):
                out = parts[0](X, P)
                for f in parts[1:]:
                    out = out + f(X, P)
                return out
            return add
        if e.is_Mul:
            parts = [build(a) for a in e.args]

            def mul(X, P):
                out = parts[0](X, P)
                for f in parts[1:]:
                    out = out * f(X, P)
                return out
            return mul
        if e.is_Pow:
            base, exponent = e.args
            b = build(base)
            if exponent.is_Integer:
                n = int(exponent)
                return lambda X, P: b(X, P) ** n
            sqrt = functions.get("sqrt")
            if exponent == sympy.Rational(1, 2) and sqrt is not None:
                return lambda X, P: sqrt(b(X, P))
            if exponent == sympy.Rational(-1, 2) and sqrt is not None:
                return lambda X, P: 1.0 / sqrt(b(X, P))
            x = build(exponent)
            return lambda X, P: b(X, P) ** x(X, P)
        fn = functions.get(e.func) or functions.get(getattr(e.func, "__name__", None))
        if fn is None:
            name = getattr(e.func, "__name__", str(e.func))
            raise ValueError(
                f"no {backend} mapping for the function {name!r} of the formula {e}; pass "
                f"{mapping_argument}={{{name!r}: <{backend} function>}} (keys: sympy functions or their names; "
                f"values: callables or dotted names like {'jnp.sin' if backend == 'jax' else 'torch.sin'!r})")
        args = [build(a) for a in e.args]
        if number_argument is not None:
            args = [_as_array(a, f, number_argument) for a, f in zip(e.args, args)]
        if len(args) > 2 and e.func in (sympy.Max, sympy.Min):      # n-ary in sympy, binary in the backends

            def fold(X, P):
                out = args[0](X, P)
                for f in args[1:]:
                    out = fn(out, f(X, P))
                return out
            return fold
        return lambda X, P: fn(*(a(X, P) for a in args))

    return build(sympy.sympify(expr))


def _as_array(arg, f, number_argument):
    if arg.free_symbols:
        return f
    value = f(None, None)
    return lambda X, P: number_argument(value, X)


# -------------------------------------------------------------------- jax
def _import_jax():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as err:
        raise ImportError("exporting to JAX needs jax: pip install jax jaxlib "
                          "(or pip install 'keplersr[test]')") from err
    return jax, jnp


def sympy_to_jax(expr, variable_names: Sequence[str], extra_jax_mappings: Optional[Mapping] = None) -> dict:
    """``{"callable": f, "parameters": params}``: ``f(X, params)`` evaluates ``expr`` (PySR's ``jax()``).

    ``X`` is an array (n, p) with columns in ``variable_names`` order; the
    result has shape (n,). ``params`` holds the formula's float constants
    (see :func:`extract_parameters`) as a jax array, in the default float
    type: enable ``jax.config.update("jax_enable_x64", True)`` for doubles.
    ``f`` is pure, so ``jax.jit(f)`` and ``jax.grad`` w.r.t. ``params`` work.
    """
    jax, jnp = _import_jax()
    body, symbols, values = extract_parameters(expr)
    functions = _function_table(_JAX, extra_jax_mappings, {"jnp": jnp, "jax": jax})
    functions.setdefault("sqrt", jnp.sqrt)
    fn = lower(body, variable_names, symbols, functions, "extra_jax_mappings", "jax")

    def f(X, parameters):
        X = jnp.asarray(X)
        return fn(X, parameters) + jnp.zeros(X.shape[0], dtype=X.dtype)     # a constant formula gives (n,)

    f.__doc__ = f"f(X, parameters) = {expr} (X columns: {', '.join(map(str, variable_names))})"
    return {"callable": f, "parameters": jnp.asarray(values, dtype=float)}


# ------------------------------------------------------------------ torch
def _import_torch():
    try:
        import torch
    except ImportError as err:
        raise ImportError("exporting to PyTorch needs torch: pip install torch "
                          "(see https://pytorch.org for the build that fits your machine)") from err
    return torch


def sympy_to_torch(expr, variable_names: Sequence[str], extra_torch_mappings: Optional[Mapping] = None):
    """A ``torch.nn.Module`` whose ``forward(X)`` evaluates ``expr`` (PySR's ``pytorch()``).

    ``X`` is a tensor (n, p), columns in ``variable_names`` order; the result
    has shape (n,). The formula's float constants (see
    :func:`extract_parameters`) are the module's trainable parameter
    ``constants`` (float64; ``.float()`` converts it), so an optimiser can refit them.
    """
    torch = _import_torch()
    body, symbols, values = extract_parameters(expr)
    functions = _function_table(_TORCH, extra_torch_mappings, {"torch": torch})
    functions.setdefault("sqrt", torch.sqrt)
    fn = lower(body, variable_names, symbols, functions, "extra_torch_mappings", "torch",
               number_argument=lambda value, X: torch.tensor(value, dtype=X.dtype, device=X.device))
    text = str(expr)
    names = [str(n) for n in variable_names]

    class SymbolicModule(torch.nn.Module):
        """One formula of a KeplerSR front; ``constants`` are its float constants."""

        def __init__(self):
            super().__init__()
            self.constants = torch.nn.Parameter(torch.tensor(values, dtype=torch.float64))
            self.expression = text
            self.variable_names = names

        def forward(self, X):
            out = fn(X, self.constants)
            return out + torch.zeros(X.shape[0], dtype=X.dtype, device=X.device)

        def extra_repr(self):
            return f"expression={self.expression}, variables={self.variable_names}"

    return SymbolicModule()
