"""Divergence is a result, not a crash (issue 22): each family's claims and figures on tables with diverged runs.

A claim resting only on diverged runs is not tested and says how many diverged; with some runs diverged, those are
left out and counted; no figure raises on all-NaN or all-diverged cells.
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(figure) -> str:
    """Every piece of text a figure shows: titles, annotations, legend entries."""
    return " ".join(t.get_text() for t in figure.findobj(matplotlib.text.Text))


# --- nonsmooth ----------------------------------------------------------------------------------------------

NONSMOOTH_SIZES = [256, 512, 1024, 2048]


def _nonsmooth_table(diverged_runs=(), replicates=4, all_dnn_diverged=False):
    """DNN (slope -0.7), spline (slope -0.3), and the references (constant 1.0, ridge 0.6) per (n, replicate);
    a DNN run in ``diverged_runs`` ((n, replicate)) diverged before any good checkpoint: error NaN, flag set."""
    from dltheory.nonsmooth.experiment import RUN_COLUMNS

    rng = np.random.default_rng(0)
    rows = []
    for method, slope, level in (("dnn", -0.7, 2.0), ("spline", -0.3, 0.0), ("constant", 0, 0), ("ridge", 0, 0)):
        for replicate in range(replicates):
            for n in NONSMOOTH_SIZES:
                value = {"constant": 1.0, "ridge": 0.6}.get(
                    method, float(np.exp(level + slope * np.log(n) + 0.02 * rng.standard_normal())))
                lost = method == "dnn" and (all_dnn_diverged or (n, replicate) in diverged_runs)
                rows.append({"family": "nonsmooth", "target": "t", "dim": 2, "alpha": 2.0, "beta": 2.0, "pieces": 2,
                             "method": method, "n": n, "replicate": replicate, "seed": 0, "metric": "mse",
                             "value": np.nan if lost else value, "hyperparameters": "{}", "diverged": lost,
                             "diverged_step": 3 if lost else -1})
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def test_nonsmooth_leaves_diverged_replicates_out_and_counts_them():
    from dltheory.nonsmooth.analysis import target_claims
    from dltheory.nonsmooth.figures import plot_error_curves

    table = _nonsmooth_table(diverged_runs={(256, 1), (2048, 2)})
    claims = {c.id: c.to_dict() for c in target_claims(table, "t", 0.95, 0.05, critical=True)}
    steeper = claims["nonsmooth.t.dnn_steeper_than_spline"]
    assert steeper["tested"] and steeper["holds"]
    assert "R=2" in steeper["measured"] and "nan" not in steeper["measured"]
    assert "2 of 4 replicates diverged" in steeper["detail"]
    learns = claims["nonsmooth.t.dnn_learns"]
    assert learns["tested"] and learns["holds"] and learns["measured"].startswith("14/14 runs learned")
    assert "2 of 16 DNN runs diverged" in learns["detail"]
    assert claims["nonsmooth.t.spline_no_faster_than_linear_bound"]["tested"]  # spline did not diverge
    assert "diverged" in _texts(plot_error_curves(table, ["t"]))


def test_nonsmooth_claims_on_diverged_runs_alone_are_not_tested():
    from dltheory.nonsmooth.analysis import target_claims
    from dltheory.nonsmooth.figures import plot_error_curves

    few = {c.id: c.to_dict() for c in target_claims(_nonsmooth_table(diverged_runs={(256, 0), (256, 1), (512, 2)}),
                                                    "t", 0.95, 0.05)}
    steeper = few["nonsmooth.t.dnn_steeper_than_spline"]  # one replicate left: no interval
    assert not steeper["tested"] and not steeper["holds"] and "nan" not in steeper["measured"]
    assert steeper["detail"].startswith("not tested") and "3 of 4 replicates diverged" in steeper["detail"]

    table = _nonsmooth_table(all_dnn_diverged=True)
    claims = [c.to_dict() for c in target_claims(table, "t", 0.95, 0.05)]
    assert [c["id"] for c in claims] == ["nonsmooth.t.dnn_learns", "nonsmooth.t.dnn_steeper_than_spline"]
    for claim in claims:
        assert not claim["tested"] and not claim["holds"] and "nan" not in claim["measured"], claim
        assert claim["detail"].startswith("not tested")
    assert "16 DNN runs diverged" in claims[0]["measured"] and "4 of 4 replicates diverged" in claims[1]["detail"]
    assert "16 of 16 runs diverged" in _texts(plot_error_curves(table, ["t"]))
    every = table.assign(value=np.nan)  # nothing finite at all: the panel says so instead of a log axis
    assert "every run diverged" in _texts(plot_error_curves(every, ["t"]))
