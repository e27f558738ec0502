"""Decomposition inside ``fit``: the plan, the sub-searches, the formulas they compose.

The analysis turns the problem into a tree of smaller ones:

- **units**: y = M(x) f(pi) over the dimensionless groups (exact data);
- **additive / multiplicative separability**, possibly after a transform of
  y (:mod:`.separability`): t(y) = g(A) + h(B) or y = g(A) h(B); the parts'
  data are the surrogate's values with the other part held at one row;
- **symmetry** (:mod:`.symmetry`): f(x_i, x_j, ...) = g(x_i - x_j, ...) and
  the like (exact data with the combined column);
- **sparse least-squares fits** of every problem first (:mod:`.rational`,
  :mod:`.exponential`): an exact one makes it a leaf that needs no search;

recursively, to ``max_depth`` steps. Each leaf is solved by the same engine
(``solve``) with an equal share of the decomposition's time; the formulas of
the leaves are composed back up the tree into formulas of the original
variables. Those become seed expressions of the final search on all rows,
which fits their constants, puts them in its hall of fame beside its own
candidates and evolves them further: decomposition adds formulas, it never
hides a better one.

Layer: above every module of this package.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import product, zip_longest
from typing import Callable, List, Optional, Sequence

import numpy as np

from .codes import Node, OperatorIndex, substitute, to_codes
from .dimensional import reduce_dimensions
from .exponential import exponential_candidates
from .rational import rational_candidates
from .separability import find_split
from .surrogate import fit_surrogate
from .symmetry import find_symmetry
from .transforms import IDENTITY, TRANSFORMS

__all__ = ["Settings", "Problem", "Step", "Decomposition", "decompose"]

#: Formulas of each leaf kept for composition; pairs of parts combine the best PAIR_TOP of each.
LEAF_TOP = 8
PAIR_TOP = 3
#: Transforms of y a leaf is searched after, besides y itself (with ``Settings.transforms``).
LEAF_TRANSFORMS = ("inverse", "square")
#: Rows of data the separable parts are generated on.
PART_ROWS = 2000
#: Fewer rows than this: no surrogate and no tests (units still reduce).
MIN_ROWS = 100
#: The surrogate must be at least this accurate (held-out RMS / std(y)) for its tests to be used.
SURROGATE_MAX_ERROR = 0.05


@dataclass
class Settings:
    units: bool = True
    separability: bool = True
    transforms: bool = True
    symmetry: bool = True
    polyfit: bool = True
    max_depth: int = 3


@dataclass
class Problem:
    """One (sub-)problem: rows ``X`` of its variables, targets ``y``, a smooth ``oracle`` of y (or None)."""

    X: np.ndarray
    y: np.ndarray
    names: List[str]
    oracle: Optional[Callable[[np.ndarray], np.ndarray]] = None
    error: float = 0.0

    @property
    def d(self) -> int:
        return self.X.shape[1]


@dataclass
class Step:
    """A node of the plan: ``kind`` "leaf", "constant", "units", "additive", "multiplicative", "symmetry"
    or "transforms" (the undecomposed problem, searched after transforms of y)."""

    kind: str
    problem: Optional[Problem]          # None once the plan has run
    description: str
    children: List["Step"] = field(default_factory=list)
    compose: Optional[Callable[[List[List[Node]]], List[Node]]] = None
    candidates: List[Node] = field(default_factory=list)
    fits: Optional[List] = None         # a leaf's sparse least-squares fits, (formula, fit), once tried

    def leaves(self) -> List["Step"]:
        if self.kind == "leaf":
            return [self]
        return [leaf for c in self.children for leaf in c.leaves()]

    def lines(self, indent: int = 0) -> List[str]:
        out = ["  " * indent + self.description]
        for c in self.children:
            out.extend(c.lines(indent + 1))
        return out


@dataclass
class Decomposition:
    """What decomposition did in one fit: the plan, its time, and the seed expressions it made."""

    plan: Optional[Step]
    seeds: List[dict]
    seconds: float
    notes: List[str]

    def __str__(self) -> str:
        if self.plan is None:
            return "no decomposition: " + "; ".join(self.notes)
        return "\n".join(self.plan.lines() + [f"{len(self.seeds)} composed formula(s) seeded the search "
                                              f"({self.seconds:.1f} s)"] + self.notes)


def _fmt(names: Sequence[str]) -> str:
    return ", ".join(names)


class _Planner:
    def __init__(self, settings: Settings, ops: OperatorIndex, rng: np.random.Generator, deadline: float,
                 notes: List[str]):
        self.s = settings
        self.ops = ops
        self.rng = rng
        self.deadline = deadline
        self.notes = notes

    def leaf(self, p: Problem, why: str = "", fits: Optional[List] = None) -> Step:
        if p.d == 0:
            c = float(np.mean(p.y))
            return Step("constant", p, f"constant {c:.6g}", candidates=[self.ops.const(c)])
        return Step("leaf", p, f"search f({_fmt(p.names)})" + (f" [{why}]" if why else ""), fits=fits)

    def analyse(self, p: Problem, depth: int) -> Step:
        fits = leaf_fits(p.X, p.y, self.ops) if p.d >= 1 and self.s.polyfit else None
        if fits and fits[0][1].exact:
            return self.leaf(p, fits=fits)     # an exact sparse fit beats any split (the tests can be fooled)
        step = self._split(p, depth)
        if step.kind == "leaf" and step.problem is p:
            step.fits = fits                   # tried once: decompose() reuses them
        return step

    def _split(self, p: Problem, depth: int) -> Step:
        if p.d <= 1 or depth >= self.s.max_depth:
            return self.leaf(p)
        if not (self.s.separability or self.s.symmetry):
            return self.leaf(p)
        if p.oracle is None:
            if time.monotonic() > self.deadline:
                return self.leaf(p, "no time left for a surrogate")
            if len(p.y) < MIN_ROWS:
                return self.leaf(p, f"fewer than {MIN_ROWS} rows: no surrogate")
            try:
                sur = fit_surrogate(p.X, p.y, self.rng)
            except (ValueError, FloatingPointError) as err:
                return self.leaf(p, f"no surrogate: {err}")
            if not np.isfinite(sur.relative_error) or sur.relative_error > SURROGATE_MAX_ERROR:
                return self.leaf(p, f"surrogate too coarse: error {sur.relative_error:.2g} of std(y)")
            p.oracle, p.error = sur.predict, sur.error
            self.notes.append(f"surrogate of f({_fmt(p.names)}): held-out error {sur.relative_error:.2g} of "
                              f"std(y), {sur.seconds:.1f} s")
        if self.s.separability:
            transforms = [t for t in (TRANSFORMS if self.s.transforms else (IDENTITY,))
                          if self.ops.has(*t.needs) and self.ops.has("+")]
            split = find_split(p.X, p.oracle, p.error, self.rng, transforms,
                               multiplicative=self.ops.has("*"))
            if split is not None:
                return self.separate(p, split, depth)
        if self.s.symmetry:
            sym = find_symmetry(p.X, p.oracle, p.error, self.rng)
            if sym is not None and self.ops.has({"minus": "-", "plus": "+", "divide": "/", "times": "*"}[sym.kind]):
                return self.symmetric(p, sym, depth)
        return self.leaf(p)

    # ---- separability: t(f) = g(A) + h(B), or f = g(A) h(B)
    def separate(self, p: Problem, split, depth: int) -> Step:
        A, B = list(split.A), list(split.B)
        rows = p.X[self.rng.permutation(len(p.y))[:PART_ROWS]]
        ref = rows[0].copy()                       # the other part is held at this row
        mult = split.kind == "multiplicative"
        t = split.transform

        def embed(part_cols, values):
            Z = np.tile(ref, (len(values), 1))
            Z[:, part_cols] = values
            return Z

        f_ref = float(p.oracle(ref[None, :])[0])

        def part(cols, subtract):
            oracle = p.oracle

            def g(V, _cols=cols):
                f = oracle(embed(_cols, V))
                if mult:
                    return f / f_ref if subtract else f
                v = t.forward(f)
                return v - t.forward(np.array([f_ref]))[0] if subtract else v

            V = rows[:, cols]
            gy = g(V)
            scale = abs(f_ref) if mult else float(np.median(np.abs(t.derivative(np.array([f_ref])))))
            err = p.error * (1.0 / scale if mult and subtract else (1.0 if mult else scale))
            return Problem(V.copy(), gy, [p.names[c] for c in cols], g, err)

        gA, hB = part(A, False), part(B, True)
        children = [self.analyse(gA, depth + 1), self.analyse(hB, depth + 1)]
        ops = self.ops

        def compose(parts: List[List[Node]]) -> List[Node]:
            out = []
            for g, h in product(parts[0][:PAIR_TOP], parts[1][:PAIR_TOP]):
                g2 = substitute(g, {k + 1: ops.var(c + 1) for k, c in enumerate(A)})
                h2 = substitute(h, {k + 1: ops.var(c + 1) for k, c in enumerate(B)})
                try:
                    out.append(ops.mul(g2, h2) if mult else t.undo(ops.add(g2, h2), ops))
                except KeyError:
                    pass
            return out

        if mult:
            what = f"f = g({_fmt(gA.names)}) * h({_fmt(hB.names)})"
        else:
            what = t.describe(f"g({_fmt(gA.names)}) + h({_fmt(hB.names)})")
            what = what if what.startswith("f") or t.name != "identity" else "f = " + what
        return Step("multiplicative" if mult else "additive", p,
                    f"{'multiplicative' if mult else 'additive'} separability: {what} "
                    f"(test statistic {split.statistic:.2f})", children, compose)

    # ---- symmetry: f(x_i, x_j, rest) = g(x_i op x_j, rest)
    def symmetric(self, p: Problem, sym, depth: int) -> Step:
        rest = [k for k in range(p.d) if k not in (sym.i, sym.j)]
        u = sym.combine(p.X)
        op = {"minus": "-", "plus": "+", "divide": "/", "times": "*"}[sym.kind]
        uname = f"({p.names[sym.i]}{op}{p.names[sym.j]})"
        child = Problem(np.column_stack([u] + [p.X[:, k] for k in rest]), p.y, [uname] + [p.names[k] for k in rest])
        ops = self.ops

        def compose(parts: List[List[Node]]) -> List[Node]:
            combined = ops.bin(op, ops.var(sym.i + 1), ops.var(sym.j + 1))
            mapping = {1: combined}
            mapping.update({k + 2: ops.var(c + 1) for k, c in enumerate(rest)})
            return [substitute(g, mapping) for g in parts[0]]

        return Step("symmetry", p, f"symmetry: f depends on {p.names[sym.i]} and {p.names[sym.j]} through "
                                    f"{uname} (test statistic {sym.statistic:.2f})",
                    [self.analyse(child, depth + 1)], compose)


def leaf_fits(X: np.ndarray, y: np.ndarray, ops: OperatorIndex) -> List:
    """The sparse least-squares fits of a problem, (formula, fit): ratios of polynomials and Laurent
    polynomials (:mod:`.rational`), exponentials of Laurent polynomials (:mod:`.exponential`); exact
    ones first, then by terms and error."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):          # small matrices: BLAS threads only contend with the search
        fits = rational_candidates(X, y, ops) + exponential_candidates(X, y, ops)
    return sorted(fits, key=lambda tf: (not tf[1].exact, tf[1].terms, tf[1].relative_error))


def _leaf_transforms(y: np.ndarray, ops: OperatorIndex, settings: Settings) -> List:
    """The targets a leaf is searched for: y, and with ``settings.transforms`` 1/y and y^2 where they
    apply (1/(exp(x) - 1) and sqrt(1 + x^2) are hard as they are and simple after them)."""
    out = [IDENTITY]
    if settings.transforms:
        with np.errstate(all="ignore"):
            out += [t for t in TRANSFORMS if t.name in LEAF_TRANSFORMS and t.applies(y) and ops.has(*t.needs)
                    and np.all(np.isfinite(t.forward(y)))]
    return out


def _release(step: Step) -> None:
    """Drop the data, surrogates and closures of a finished plan: ``decomposition_`` stays small and
    pickles with the model."""
    step.problem = None
    step.compose = None
    step.candidates = []
    step.fits = None
    for c in step.children:
        _release(c)


def _compose_up(step: Step) -> List[Node]:
    if step.kind in ("leaf", "constant"):
        return step.candidates
    parts = [_compose_up(c) for c in step.children]
    if any(len(c) == 0 for c in parts):
        return []
    step.candidates = step.compose(parts)
    return step.candidates


def decompose(X: np.ndarray, y: np.ndarray, names: Sequence[str], ops: OperatorIndex, settings: Settings,
              solve: Callable[[Problem, Optional[float], float, str], List[Node]], budget: Optional[float],
              rng: np.random.Generator, x_dims=None, y_dim=None) -> Decomposition:
    """Plan, solve the leaves with ``solve(problem, seconds, share, label)`` and compose seed expressions.

    ``budget``: seconds for the whole decomposition (analysis and leaves);
    each sub-search gets an equal share of what is left (``seconds``). With
    ``budget=None`` there is no time limit (``seconds`` is None, the analysis
    is not timed) and ``share`` is the sub-search's fraction of the
    decomposition's work, for ``solve`` to scale its iterations by. Returns
    a :class:`Decomposition` with ``seeds`` as ``{"codes", "constants",
    "description"}`` over the original features; no seeds when nothing was
    decomposed.
    """
    t0 = time.monotonic()
    notes: List[str] = []
    # the analysis (surrogates, tests) takes at most a third of the budget
    deadline = t0 + budget / 3 if budget is not None else float("inf")
    planner = _Planner(settings, ops, rng, deadline, notes)
    root_problem = Problem(np.asarray(X, dtype=float), np.asarray(y, dtype=float), list(names))
    plan: Optional[Step] = None
    if settings.units and x_dims is not None and y_dim is not None:
        red = reduce_dimensions(x_dims, y_dim)
        if red is None:
            notes.append("units: y's units are no product of the features' units, or nothing to reduce")
        else:
            try:
                M, group_trees = red.trees(ops)
            except KeyError as err:
                notes.append(f"units: the reduction needs operator {err} that the search does not have")
            else:
                Xr = root_problem.X
                scale = red.scale(Xr)
                Z = red.groups(Xr)
                gnames = [f"pi{k + 1}" for k in range(Z.shape[1])]
                with np.errstate(all="ignore"):
                    target = root_problem.y / scale
                ok = np.all(np.isfinite(Z)) and np.all(np.isfinite(target))
                if not ok:
                    notes.append("units: the groups are not finite on every row (negative base to a "
                                 "half-integer power, or a zero)")
                else:
                    child = planner.analyse(Problem(Z, target, gnames), 1)

                    def compose(parts, _M=M, _g=group_trees):
                        out = []
                        for f in parts[0]:
                            tree = substitute(f, {k + 1: g for k, g in enumerate(_g)})
                            out.append(tree if _M is None else ops.mul(_M, tree))
                        return out

                    plan = Step("units", root_problem, red.describe(list(names)), [child], compose)
    if plan is None:
        plan = planner.analyse(root_problem, 0)
    root_leaf = plan.kind == "leaf"
    found = {}           # id(leaf) -> lists of formulas (least-squares fits, then one list per sub-search)
    jobs = []            # (leaf, transform): the leaf's data searched after the transform
    for leaf in plan.leaves():
        if settings.polyfit:
            fits = leaf.fits if leaf.fits is not None else leaf_fits(leaf.problem.X, leaf.problem.y, ops)
            if fits:
                found[id(leaf)] = [[tree for tree, _ in fits]]
                best = fits[0][1]
                leaf.description += f" [fit: {best.describe(leaf.problem.names)}]"
                if best.exact:
                    continue                            # an exact sparse fit: no search needed
        for t in _leaf_transforms(leaf.problem.y, ops, settings):
            if not (root_leaf and t is IDENTITY):      # the final search covers y itself
                jobs.append((leaf, t))
    if root_leaf and not jobs and not found:
        notes.append("no decomposition found")
        _release(plan)
        return Decomposition(plan, [], time.monotonic() - t0, notes)
    if root_leaf:
        plan = Step("transforms", root_problem, "no split or symmetry: y searched after transforms too",
                    [plan], lambda parts: parts[0])
    for k, (leaf, t) in enumerate(jobs):
        left = None if budget is None else max(1.0, (t0 + budget - time.monotonic()) / (len(jobs) - k))
        target = leaf.problem.y if t is IDENTITY else t.forward(leaf.problem.y)
        what = t.describe(f"f({_fmt(leaf.problem.names)})")
        sub = Problem(leaf.problem.X, target, leaf.problem.names)
        trees = list(solve(sub, left, 1.0 / len(jobs), f"{k + 1}/{len(jobs)} {what}"))[:LEAF_TOP]
        found.setdefault(id(leaf), []).append([t.undo(g, ops) for g in trees])
    for leaf in plan.leaves():
        # interleave the variants: the best formula of each first
        lists = found.get(id(leaf), [])
        leaf.candidates = [g for group in zip_longest(*lists) for g in group if g is not None][:LEAF_TOP]
        searched = sum(1 for job_leaf, _ in jobs if job_leaf is leaf)
        if searched > 1:
            leaf.description += f" (and after {searched - 1} transform(s) of its target)"
    seeds = []
    seen = set()
    composed = _compose_up(plan)
    _release(plan)
    for tree in composed:
        codes, consts = to_codes(tree, ops)
        key = tuple(codes)
        if key in seen:
            continue
        seen.add(key)
        seeds.append({"codes": codes, "constants": consts})
    return Decomposition(plan, seeds, time.monotonic() - t0, notes)
