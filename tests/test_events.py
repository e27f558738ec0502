"""The physicist's own events in: the generators' events as Les Houches files with reweighting
weights (keplersr.datasets.*_lhe)."""
import numpy as np
import pytest

from keplersr.datasets.wbf import wbf_cp_score
from keplersr.datasets.wbf_lhe import write_wbf_lhe
from keplersr.datasets.zh_d6 import zh_d6_score


def test_momenta_do_not_change_the_events():
    a = wbf_cp_score(300, seed=3, n_pilot=5_000)
    b = wbf_cp_score(300, seed=3, n_pilot=5_000, momenta=True)
    assert b[list(a.columns)].equals(a)
    assert {"pa_E", "p1_px", "pH_pz"} <= set(b.columns)
    c = zh_d6_score(300, seed=3, n_pilot=5_000)
    d = zh_d6_score(300, seed=3, n_pilot=5_000, momenta=True)
    assert d[list(c.columns)].equals(c)
    with pytest.raises(ValueError, match="momenta must be True or False"):
        wbf_cp_score(10, momenta="yes")


def test_writer_needs_the_momenta(tmp_path):
    df = wbf_cp_score(100, seed=3, n_pilot=5_000)
    with pytest.raises(ValueError, match=r"momenta=True"):
        write_wbf_lhe(df, tmp_path / "x.lhe")
    df = wbf_cp_score(100, seed=3, n_pilot=5_000, momenta=True)
    with pytest.raises(ValueError, match="repeated"):
        write_wbf_lhe(df, tmp_path / "x.lhe", thetas=(1.0, 1.0))
