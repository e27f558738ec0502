"""The engine's Julia unit tests (tests/julia/runtests.jl), run from the same
pytest command as the Python tests."""

import os
import subprocess

import pytest

from keplersr.julia_env import find_julia


@pytest.mark.julia
@pytest.mark.slow
def test_julia_unit_tests_pass():
    julia = find_julia()            # a missing Julia is an error, never a skip
    runtests = os.path.join(os.path.dirname(os.path.abspath(__file__)), "julia", "runtests.jl")
    assert os.path.exists(runtests), f"engine tests not found at {runtests}"
    proc = subprocess.run([julia, "--startup-file=no", "-t", "2", runtests],
                          capture_output=True, text=True, timeout=1200)
    tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
    assert proc.returncode == 0, tail
    assert "KeplerSR engine" in proc.stdout and "Pass" in proc.stdout, tail
