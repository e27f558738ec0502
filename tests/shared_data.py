"""Where the tests find ../shared (beside the repository): the AI-Feynman
table and units. A missing file fails the test with a clear message (the data
is part of the workplace, so a missing file is an error, not a reason to skip)."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO.parent / "shared" / "data" / "feynman"
CSV = DATA_DIR / "FeynmanEquations.csv"
UNITS = DATA_DIR / "units.csv"


def require(path: Path) -> Path:
    """`path`, or fail the calling test naming the missing file."""
    if not path.exists():
        pytest.fail(f"AI-Feynman data file missing: {path} (expected in shared/data/feynman beside the repo)")
    return path
