"""The Python package is a stack of layers: no import cycle, and Python and
Julia speak the same protocol version.

The import graph is read statically (``ast``) from every module of the
``keplersr`` package, including imports inside functions, so a lazy import
cannot hide a cycle. Only explicit imports count: importing ``keplersr.x``
also runs ``keplersr/__init__.py``, but that implicit edge is not a layering
decision.
"""

import ast
import importlib
import importlib.util
import os
import pkgutil
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import keplersr
from keplersr import bridge, framing
from keplersr.errors import WorkerProtocolError

PACKAGE = "keplersr"


def all_modules() -> dict:
    """{module name: source path} for every module of the package (the package itself included)."""
    mods = {PACKAGE: Path(keplersr.__file__)}
    for info in pkgutil.walk_packages(keplersr.__path__, PACKAGE + "."):
        spec = importlib.util.find_spec(info.name)
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            mods[info.name] = Path(spec.origin)
    return mods


def _resolve(name: str, modules: dict) -> str:
    """The module ``name`` stands for: itself if it is a module, else its closest package."""
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def internal_imports(module: str, path: Path, modules: dict) -> set:
    """The keplersr modules ``module`` imports anywhere in its source (functions included)."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                base_parts = parts if is_package else parts[:-1]
                base_parts = base_parts[:len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # `from pkg import sub` imports the submodule when there is one
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                       for a in node.names]
        for t in targets:
            if t == PACKAGE or t.startswith(PACKAGE + "."):
                dep = _resolve(t, modules)
                if dep != module:
                    found.add(dep)
    return found


def import_graph() -> dict:
    modules = all_modules()
    return {m: internal_imports(m, p, modules) for m, p in sorted(modules.items())}


def find_cycles(graph: dict) -> list:
    """Strongly connected components with more than one module (or a self-loop)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def format_graph(graph: dict) -> str:
    short = lambda m: m[len(PACKAGE) + 1:] if m.startswith(PACKAGE + ".") else m
    return "\n".join(f"  {short(m)} -> {', '.join(sorted(map(short, deps))) or '(nothing)'}"
                     for m, deps in sorted(graph.items()))


def closure(graph: dict, start: str) -> set:
    seen, todo = set(), [start]
    while todo:
        for dep in graph.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


# ------------------------------------------------------------------ the graph

def test_every_module_imports():
    """Each module imports, in a fresh interpreter (so that no import-time state,
    such as a default argument bound to ``sys.stdout``, leaks into later tests)."""
    names = [n for n in all_modules() if n.rsplit(".", 1)[-1] != "__main__"]  # that one runs
    code = ("import importlib, sys, traceback\n"
            "bad = []\n"
            "for name in sys.argv[1:]:\n"
            "    try:\n"
            "        importlib.import_module(name)\n"
            "    except BaseException:\n"
            "        bad.append(name + ':\\n' + traceback.format_exc())\n"
            "print('\\n'.join(bad))\n"
            "sys.exit(1 if bad else 0)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(keplersr.__file__).parent.parent)] + sys.path))
    r = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True,
                       timeout=600, env=env)
    assert r.returncode == 0, f"modules that do not import:\n{r.stdout}{r.stderr}"


def test_import_graph_has_no_cycle():
    graph = import_graph()
    assert f"{PACKAGE}.bridge" in graph and f"{PACKAGE}.estimator" in graph
    cycles = find_cycles(graph)
    assert not cycles, (f"import cycles among keplersr modules: {cycles}\n"
                        f"keplersr-internal imports:\n{format_graph(graph)}")


def test_cycle_finder_finds_cycles():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"a"}}) == [["a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_imports_are_resolved(tmp_path):
    src = tmp_path / "mod.py"
    src.write_text(textwrap.dedent("""\
        import numpy
        from . import bridge
        from .framing import encode_frame
        import keplersr.julia_env as je
        def later():
            from keplersr import SymbolicRegressor
            from keplersr.datasets.kepler import load_kepler
    """))
    modules = all_modules()
    assert internal_imports("keplersr.fake", src, modules) == {
        "keplersr", "keplersr.bridge", "keplersr.framing", "keplersr.julia_env",
        "keplersr.datasets.kepler"}
    sub = tmp_path / "sub.py"
    sub.write_text("from .. import bridge\nfrom ..estimator import X\nfrom . import srbench_judge\n")
    assert internal_imports("keplersr.study.fake", sub, modules) == {
        "keplersr.bridge", "keplersr.estimator", "keplersr.study.srbench_judge"}
    init = tmp_path / "__init__.py"
    init.write_text("from .feynman import load_feynman_equations\n")
    assert internal_imports("keplersr.datasets", init, modules) == {"keplersr.datasets.feynman"}


# The layers of the Julia side, bottom up: the keplersr modules each may import.
ALLOWED = {
    "julia_env": set(),
    "errors": set(),
    "framing": {"errors"},
    "sysimage": {"julia_env", "options", "options.julia_defaults"},
    "install": {"julia_env", "sysimage"},
    "worker_process": {"errors", "framing", "julia_env", "sysimage"},
    "bridge": {"errors", "framing", "julia_env", "worker_process"},
}
# ... and what each must not reach, even through other modules.
FORBIDDEN_REACH = {
    "options": {"bridge", "worker_process", "estimator", "install", "sysimage", "cli"},
    "sysimage": {"bridge", "worker_process", "estimator", "install", "cli"},
    "install": {"bridge", "worker_process", "estimator", "cli"},
}


def _short(names) -> set:
    return {n[len(PACKAGE) + 1:] for n in names}


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_julia_side_layers(module):
    graph = import_graph()
    direct = _short(graph[f"{PACKAGE}.{module}"])
    assert direct <= ALLOWED[module], (
        f"{module} imports {sorted(direct - ALLOWED[module])}, outside its layer\n"
        f"{format_graph(graph)}")


@pytest.mark.parametrize("module", sorted(FORBIDDEN_REACH))
def test_lower_layers_never_reach_the_bridge_or_estimator(module):
    graph = import_graph()
    bad = _short(closure(graph, f"{PACKAGE}.{module}")) & FORBIDDEN_REACH[module]
    assert not bad, f"{module} reaches {sorted(bad)} through its imports\n{format_graph(graph)}"


# ------------------------------------------------------------------ protocol version

def julia_protocol_version_in_sources() -> int:
    """``const PROTOCOL_VERSION = n`` from the engine's Julia sources (wherever the file lives)."""
    from keplersr.julia_env import julia_project_dir
    root = Path(julia_project_dir())
    found = {}
    for path in sorted(root.rglob("*.jl")):
        for m in re.finditer(r"^\s*const\s+PROTOCOL_VERSION\s*=\s*(\d+)", path.read_text(), re.M):
            found[str(path.relative_to(root))] = int(m.group(1))
    assert len(found) == 1, f"expected one PROTOCOL_VERSION constant in the engine, found {found}"
    return next(iter(found.values()))


def test_python_and_julia_sources_agree_on_protocol_version():
    assert framing.PROTOCOL_VERSION == julia_protocol_version_in_sources()
    assert bridge.PROTOCOL_VERSION == framing.PROTOCOL_VERSION


def test_worker_hello_carries_pythons_protocol_version(julia_worker):
    assert julia_worker.info["protocol_version"] == framing.PROTOCOL_VERSION


def test_hello_with_the_same_version_is_accepted():
    framing.check_protocol_version({"type": "hello", "protocol_version": framing.PROTOCOL_VERSION})


@pytest.mark.parametrize("other", [framing.PROTOCOL_VERSION + 1, 0, "1", 1.5])
def test_hello_with_another_version_is_refused(other):
    with pytest.raises(WorkerProtocolError) as info:
        framing.check_protocol_version({"type": "hello", "protocol_version": other})
    msg = str(info.value)
    assert f"protocol version {other!r}" in msg
    assert f"speaks protocol version {framing.PROTOCOL_VERSION}" in msg
    assert "different KeplerSR versions" in msg


def test_hello_without_a_version_is_refused():
    with pytest.raises(WorkerProtocolError, match=r"no protocol_version.*version 1"):
        framing.check_protocol_version({"type": "hello"})


# ------------------------------------------------------------------ a fake worker

# A stand-in for julia/worker.jl: says hello with protocol version @PV@, then
# answers describe and shutdown. It writes its frames by hand, so it does not
# depend on the engine's sources.
FAKE_WORKER = r'''
const MAGIC = UInt8['K', 'S', 'R', '1']
function send(json::String)
    h = Vector{UInt8}(codeunits(json))
    write(stdout, MAGIC, htol(UInt32(length(h))), htol(UInt64(0)), h)
    flush(stdout)
end
function recv()
    eof(stdin) && return nothing
    pre = read(stdin, 16)
    length(pre) < 16 && return nothing
    jlen = ltoh(reinterpret(UInt32, pre[5:8])[1])
    blen = ltoh(reinterpret(UInt64, pre[9:16])[1])
    h = String(read(stdin, jlen))
    blen > 0 && read(stdin, blen)
    return h
end
field(h, k) = (m = match(Regex("\"$k\":\"([^\"]*)\""), h); m === nothing ? "" : m.captures[1])
send("{\"type\":\"hello\",\"julia_version\":\"$(VERSION)\",\"nthreads\":$(Threads.nthreads())," *
     "\"engine_version\":\"fake\",\"protocol_version\":@PV@,\"pid\":$(getpid())}")
while true
    h = recv()
    h === nothing && break
    t, id = field(h, "type"), field(h, "id")
    if t == "describe"
        send("{\"type\":\"heartbeat\",\"id\":\"$id\"}")
        send("{\"type\":\"description\",\"id\":\"$id\",\"option_defaults\":{\"maxsize\":20}," *
             "\"binary_operators\":[\"+\",\"*\"],\"unary_operators\":[\"sin\"]," *
             "\"mutation_kinds\":[\"mutate_constant\"],\"losses\":[\"L2\"],\"protocol_version\":@PV@}")
    elseif t == "shutdown"
        send("{\"type\":\"bye\",\"id\":\"$id\"}")
        break
    end
end
'''


def fake_worker(tmp_path, version) -> str:
    path = tmp_path / f"fake_worker_v{version}.jl"
    path.write_text(FAKE_WORKER.replace("@PV@", str(version)))
    return str(path)


@pytest.mark.julia
def test_worker_with_another_protocol_version_is_refused(tmp_path):
    other = framing.PROTOCOL_VERSION + 41
    with pytest.raises(WorkerProtocolError) as info:
        bridge.JuliaWorker(threads=1, use_sysimage=False, startup_timeout=120,
                           worker_script=fake_worker(tmp_path, other))
    msg = str(info.value)
    assert f"protocol version {other}" in msg
    assert f"speaks protocol version {framing.PROTOCOL_VERSION}" in msg


@pytest.mark.julia
def test_describe_returns_the_description(tmp_path):
    w = bridge.JuliaWorker(threads=1, use_sysimage=False, startup_timeout=120,
                           worker_script=fake_worker(tmp_path, framing.PROTOCOL_VERSION))
    try:
        assert w.info["engine_version"] == "fake"
        d = w.describe(timeout=60)
        assert d == {"option_defaults": {"maxsize": 20}, "binary_operators": ["+", "*"],
                     "unary_operators": ["sin"], "mutation_kinds": ["mutate_constant"],
                     "losses": ["L2"], "protocol_version": framing.PROTOCOL_VERSION}
        assert w.describe(timeout=60) == d       # the next request gets its own reply
    finally:
        w.close()
    assert not w.alive()
