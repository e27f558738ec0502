"""Tests of the system-image cache and builder logic (keplersr.sysimage) and of
how the installer and the worker process use it. No image is built here (that
takes minutes): the builder is tested up to its checks, the worker with a fake
launcher."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from keplersr import bridge, install, options, sysimage, worker_process
from keplersr.sysimage import SysimageError


@pytest.fixture
def engine(tmp_path, monkeypatch):
    """A fake engine source folder and cache folder; Julia's version is fixed to 1.5.3."""
    src = tmp_path / "julia"
    src.mkdir()
    (src / "KeplerSR.jl").write_text("module KeplerSR\ninclude(\"a.jl\")\nend\n")
    (src / "a.jl").write_text("f(x) = x + 1\n")
    monkeypatch.setattr(sysimage, "julia_project_dir", lambda: str(src))
    monkeypatch.setattr(sysimage, "julia_version", lambda julia: "1.5.3")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("KEPLERSR_SYSIMAGE", raising=False)
    return src


def fake_image(path: Path, size: int = sysimage.MIN_IMAGE_BYTES + 10, meta: bool = True) -> Path:
    """A file that looks like a complete image (ELF magic, sparse body) plus its sidecar."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"\x7fELF")
        f.truncate(size)
    if meta:
        Path(str(path) + ".json").write_text(json.dumps({"image": path.name, "size": size}))
    return path


def test_cache_key_follows_engine_sources_only(engine):
    key = sysimage.source_hash()
    assert len(key) == 16 and key == sysimage.source_hash()
    (engine / "a.jl").write_text("f(x) = x + 2\n")
    changed = sysimage.source_hash()
    assert changed != key
    (engine / "notes.md").write_text("not Julia\n")                   # other files do not count
    assert sysimage.source_hash() == changed
    (engine / "b.jl").write_text("g(x) = 0\n")                        # a new source does
    assert sysimage.source_hash() != changed
    assert [p.name for p in sysimage.engine_sources()] == ["KeplerSR.jl", "a.jl", "b.jl"]


def test_cache_key_covers_engine_files_in_subfolders(engine):
    (engine / "core").mkdir()
    (engine / "io" / "wire").mkdir(parents=True)
    (engine / "core" / "tree.jl").write_text("struct Tree end\n")
    (engine / "io" / "wire" / "frames.jl").write_text("const MAGIC = 1\n")
    (engine / "core" / "notes.md").write_text("not Julia\n")
    rel = [p.relative_to(engine).as_posix() for p in sysimage.engine_sources()]
    assert rel == ["KeplerSR.jl", "a.jl", "core/tree.jl", "io/wire/frames.jl"]
    key = sysimage.source_hash()
    (engine / "io" / "wire" / "frames.jl").write_text("const MAGIC = 2\n")   # a nested edit counts
    edited = sysimage.source_hash()
    assert edited != key
    (engine / "core" / "notes.md").write_text("still not Julia\n")
    assert sysimage.source_hash() == edited
    (engine / "core" / "tree.jl").rename(engine / "io" / "tree.jl")   # same content, moved
    assert sysimage.source_hash() != edited


def test_engine_sources_need_the_engine_entry_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "KeplerSR.jl").write_text("module KeplerSR end\n")   # not at the top
    with pytest.raises(FileNotFoundError, match="KeplerSR.jl"):
        sysimage.engine_sources(tmp_path)


def test_real_engine_sources_are_all_counted():
    """Every .jl of the repository's engine is in the key, wherever it lives."""
    from keplersr.julia_env import julia_project_dir
    root = Path(julia_project_dir())
    expected = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.jl"))
    got = [p.relative_to(root).as_posix() for p in sysimage.engine_sources(root)]
    assert got == expected and "KeplerSR.jl" in got


def test_key_covers_the_engine_only():
    """Every source in the key is the module, the worker, the image's workload, or a file the
    module includes: a developer script at the engine's root would change every user's key."""
    from keplersr.julia_env import julia_project_dir
    root = Path(julia_project_dir())
    module = (root / "KeplerSR.jl").read_text()
    included = set(re.findall(r'^include\("([^"]+)"\)', module, flags=re.M))
    got = {p.relative_to(root).as_posix() for p in sysimage.engine_sources(root)}
    assert got - included == {"KeplerSR.jl", "worker.jl", sysimage.WORKLOAD}


def test_cache_key_depends_on_julia_executable(engine, tmp_path):
    a, b = tmp_path / "ja", tmp_path / "jb"
    a.write_text(""); b.write_text("")
    assert sysimage.source_hash(julia=str(a)) != sysimage.source_hash(julia=str(b))


def test_sysimage_path_in_xdg_cache_named_by_version_and_key(engine, tmp_path):
    p = sysimage.sysimage_path("julia")
    assert p.parent == tmp_path / "cache" / "keplersr" / "sysimage"
    assert p.name == f"1.5.3-{sysimage.source_hash(julia='julia')}.so"
    (engine / "a.jl").write_text("f(x) = 2x\n")
    assert sysimage.sysimage_path("julia") != p


@pytest.mark.parametrize("value", ["0", "off", "OFF", "no", "false"])
def test_env_var_disables_the_image(engine, monkeypatch, value):
    fake_image(sysimage.sysimage_path("julia"))
    assert sysimage.find_sysimage("julia") is not None
    monkeypatch.setenv("KEPLERSR_SYSIMAGE", value)
    assert sysimage.sysimage_disabled()
    assert sysimage.sysimage_path("julia") is None
    assert sysimage.find_sysimage("julia") is None
    assert worker_process._current_sysimage("julia") is None
    with pytest.raises(SysimageError, match="disabled"):
        sysimage.build_sysimage(julia="julia")


def test_env_var_names_an_explicit_image(engine, monkeypatch, tmp_path):
    img = fake_image(tmp_path / "elsewhere" / "mine.so")
    monkeypatch.setenv("KEPLERSR_SYSIMAGE", str(img))
    assert sysimage.sysimage_path("julia") == img
    assert sysimage.find_sysimage("julia") == img
    assert worker_process._current_sysimage("julia") == str(img)


def test_find_sysimage_accepts_only_complete_current_images(engine):
    path = sysimage.sysimage_path("julia")
    assert sysimage.find_sysimage("julia") is None                 # nothing built yet
    fake_image(path, meta=False)
    assert sysimage.find_sysimage("julia") is None                 # no sidecar: unfinished
    fake_image(path)
    assert sysimage.find_sysimage("julia") == path
    with open(path, "r+b") as f:                                   # truncated after the build
        f.truncate(sysimage.MIN_IMAGE_BYTES + 5)
    assert sysimage.find_sysimage("julia") is None
    fake_image(path)
    with open(path, "r+b") as f:                                   # not an ELF file
        f.write(b"JUNK")
    assert sysimage.find_sysimage("julia") is None
    fake_image(path)
    (engine / "a.jl").write_text("f(x) = x - 1\n")                 # engine edited: stale
    assert sysimage.find_sysimage("julia") is None
    assert path.exists()


def test_tiny_file_is_not_an_image(engine):
    fake_image(sysimage.sysimage_path("julia"), size=4096)
    assert sysimage.find_sysimage("julia") is None


def test_builder_without_c_compiler_says_so_before_compiling(engine, monkeypatch):
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setattr(sysimage.shutil, "which", lambda name: None)

    def no_julia(*a, **k):
        raise AssertionError(f"Julia must not be run without a C compiler: {a}")

    monkeypatch.setattr(sysimage.subprocess, "run", no_julia)
    monkeypatch.setattr(sysimage.subprocess, "Popen", no_julia)
    with pytest.raises(SysimageError, match=r"C compiler.*gcc"):
        sysimage.build_sysimage(force=True, verbose=False, julia="julia")
    assert not list((Path(os.environ["XDG_CACHE_HOME"])).rglob("*.so"))


def test_builder_returns_existing_current_image_without_work(engine, monkeypatch):
    path = fake_image(sysimage.sysimage_path("julia"))
    monkeypatch.setattr(sysimage.subprocess, "Popen",
                        lambda *a, **k: pytest.fail("must not rebuild a current image"))
    assert sysimage.build_sysimage(julia="julia", verbose=False) == path


def test_link_libraries_by_julia_version():
    libs = ["/usr/lib/libjulia.so.1", "/usr/lib/julia/libjulia-internal.so.1"]
    old = sysimage._link_libraries({"version": "1.5.3", "libs": libs})
    new = sysimage._link_libraries({"version": "1.10.4", "libs": libs})
    assert [os.path.basename(p) for p in old] == ["libjulia.so.1"]
    assert [os.path.basename(p) for p in new] == ["libjulia.so.1", "libjulia-internal.so.1"]
    with pytest.raises(SysimageError, match="libjulia"):
        sysimage._link_libraries({"version": "1.5.3", "libs": ["/usr/lib/libm.so"]})


def test_workload_options_are_a_default_estimators():
    """The image workload replays keplersr.options.default_engine_options() (plus seed 0).

    No fallback: if that function is missing this test fails, loudly.
    """
    assert hasattr(options, "default_engine_options"), \
        "keplersr.options.default_engine_options() is missing: the image workload needs it"
    base = options.default_engine_options()
    assert isinstance(base, dict) and "seed" not in base
    opts = sysimage.workload_options()
    assert opts == dict(base, seed=0)
    assert json.loads(json.dumps(opts)) == opts
    for key in ("binary_operators", "unary_operators", "maxsize", "populations", "loss"):
        assert key in opts


def test_missing_default_options_fail_the_build_before_compiling(engine, monkeypatch):
    def broken():
        raise RuntimeError("options not ready")

    monkeypatch.setattr(options, "default_engine_options", broken, raising=False)
    monkeypatch.setattr(sysimage, "_find_cc", lambda: "/usr/bin/cc")
    monkeypatch.setattr(sysimage.subprocess, "Popen",
                        lambda *a, **k: pytest.fail("must not compile without the options"))
    with pytest.raises(SysimageError, match="default_engine_options.*options not ready"):
        sysimage.build_sysimage(force=True, verbose=False, julia="julia")
    monkeypatch.delattr(options, "default_engine_options")
    with pytest.raises(SysimageError, match="default_engine_options"):
        sysimage.workload_options()


def test_sysimage_cli_reports_failure(engine, monkeypatch, capsys):
    def fail(**kw):
        raise SysimageError("no C compiler found")

    monkeypatch.setattr(sysimage, "build_sysimage", fail)
    assert sysimage.main(["--quiet"]) == 1
    assert "no C compiler" in capsys.readouterr().err


# ------------------------------------------------------------ install.py

def _fake_julia_install(monkeypatch):
    monkeypatch.setattr(install, "install_julia", lambda assume_yes=False: "/fake/julia")
    monkeypatch.setattr(install, "julia_version", lambda path: "1.5.3")


def test_install_warns_but_succeeds_when_image_build_fails(engine, monkeypatch, capsys):
    _fake_julia_install(monkeypatch)
    calls = []

    def failing_build(**kw):
        calls.append(kw)
        raise SysimageError("linking failed: boom")

    monkeypatch.setattr(sysimage, "build_sysimage", failing_build)
    assert install.main(["--yes"]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "boom" in err and "without it" in err
    assert calls and calls[0]["julia"] == "/fake/julia"


def test_install_builds_missing_image_and_skips_with_flag(engine, monkeypatch, capsys):
    _fake_julia_install(monkeypatch)
    calls = []
    monkeypatch.setattr(sysimage, "build_sysimage",
                        lambda **kw: calls.append(kw) or Path("/cache/img.so"))
    assert install.main(["--yes", "--no-sysimage"]) == 0
    assert calls == []
    assert install.main(["--yes"]) == 0
    assert len(calls) == 1 and "System image: /cache/img.so" in capsys.readouterr().out


# ------------------------------------------------------------ worker_process.py

def test_worker_command_uses_image_only_when_given():
    plain = worker_process.worker_command("/x/julia", 2, "/src/julia")
    assert plain == ["/x/julia", "--project=/src/julia", "-t", "2", "--startup-file=no",
                     "--history-file=no", "/src/julia/worker.jl"]
    with_image = worker_process.worker_command("/x/julia", 2, "/src/julia", "/cache/img.so")
    assert with_image[:3] == ["/x/julia", "-J", "/cache/img.so"]
    assert with_image[3:-2] == plain[1:-1]
    assert with_image[-2] == "-e" and '"/src/julia/worker.jl"' in with_image[-1]
    assert "KeplerSRWorker.main" in with_image[-1]


def test_worker_command_quotes_the_worker_path_for_julia():
    cmd = worker_process.worker_command("julia", 1, '/a "b"/$HOME', "/cache/img.so")
    assert '"/a \\"b\\"/\\$HOME/worker.jl"' in cmd[-1]   # a Julia string, no interpolation


def test_worker_script_replaces_only_the_worker_file():
    def command(image=None, script=None):
        return worker_process.worker_command("/x/julia", 2, "/src/julia", image, script)

    assert command(script="/tmp/fake_worker.jl") == command()[:-1] + ["/tmp/fake_worker.jl"]
    with_image = command("/cache/img.so", Path("/tmp/fake_worker.jl"))
    assert with_image[1:3] == ["-J", "/cache/img.so"] and with_image[-1] == "/tmp/fake_worker.jl"
    assert "-e" not in with_image
    assert with_image[:-1] == command("/cache/img.so")[:-2]


def test_worker_env_names_the_julia_executable_and_engine(tmp_path):
    exe = tmp_path / "bin" / "julia"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    base = {"PATH": str(exe.parent), "OTHER": "1"}
    env = worker_process.worker_env("julia", "/src/julia", base)
    assert env == dict(base, KEPLERSR_JULIA_EXE=str(exe), KEPLERSR_ENGINE_DIR="/src/julia")
    assert base == {"PATH": str(exe.parent), "OTHER": "1"}             # the input is not changed
    assert worker_process.worker_env("bin/julia", "/e", {})["KEPLERSR_JULIA_EXE"] == \
        os.path.abspath("bin/julia")
    assert worker_process.worker_env("nojulia", "/e", {"PATH": str(tmp_path)})[
        "KEPLERSR_JULIA_EXE"] == "nojulia"


def test_worker_retries_without_a_broken_image(monkeypatch):
    monkeypatch.setattr(worker_process, "_current_sysimage", lambda julia: "/cache/broken.so")
    monkeypatch.setattr(worker_process, "find_julia", lambda: "/x/julia")
    launched = []

    def fake_launch(self, image, timeout):
        launched.append(image)
        if image is not None:
            raise bridge.WorkerDiedError("the Julia worker exited during start (exit code 1)")
        self.sysimage = None

    monkeypatch.setattr(bridge.JuliaWorker, "_launch", fake_launch)
    with pytest.warns(RuntimeWarning, match="without the image"):
        w = bridge.JuliaWorker(threads=1)
    assert launched == ["/cache/broken.so", None] and w.sysimage is None


def test_worker_start_failure_without_image_is_not_retried(monkeypatch):
    monkeypatch.setattr(worker_process, "_current_sysimage", lambda julia: None)
    monkeypatch.setattr(worker_process, "find_julia", lambda: "/x/julia")
    launched = []

    def fake_launch(self, image, timeout):
        launched.append(image)
        raise bridge.WorkerDiedError("exited")

    monkeypatch.setattr(bridge.JuliaWorker, "_launch", fake_launch)
    with pytest.raises(bridge.WorkerDiedError):
        bridge.JuliaWorker(threads=1)
    assert launched == [None]
