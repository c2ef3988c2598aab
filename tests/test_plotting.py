"""The shared visual language (dltheory.plotting, issue 23): a colour for every method, distinct within a family,
fixed figure widths in pixels, and a diverging norm centred at 0."""

import struct
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import to_rgb

from dltheory.config import load_config_file, merged
from dltheory.plotting import (
    DPI,
    FAMILY_COLOURS,
    METHOD_COLOURS,
    PIXEL_WIDTHS,
    WIDTHS,
    diverging_norm,
    method_colour,
    method_shades,
    outside_legend,
    save_figure,
    subplots,
)

matplotlib.use("Agg")
CONFIG = Path(__file__).resolve().parents[1] / "config"


def _methods_of_config(config: dict) -> dict[str, set[str]]:
    """Every method name that a family's claims and figures can show under ``config``."""
    from dltheory.gan.dirac import VARIANTS as DIRAC_VARIANTS
    from dltheory.geometry.natgrad import KFAC_PAPER, PREDICTION
    from dltheory.nonsmooth.analysis import REFERENCE_METHODS

    intrinsic = config["intrinsic"]
    return {
        "nonsmooth": set(config["nonsmooth"]["estimators"]) | set(REFERENCE_METHODS),
        "region": set(config["region"].get("linear_estimators", [])) | {"dnn"},
        "intrinsic": ({"dnn", *REFERENCE_METHODS, *intrinsic["balls"]["baselines"]}
                      | set(intrinsic["balls"].get("networks", {}))),
        "gan": set(config["gan"]["variants"]) | set(DIRAC_VARIANTS),
        "causal": set(config["causal"]["methods"]),
        "batchnorm": set(config["batchnorm"]["variants"]),
        "natgrad": set(config["natgrad"]["methods"]) | {KFAC_PAPER, PREDICTION},
        "spectra": {"fim_linear", "fim_softmax", "input_linear", "input_softmax"},
        "isometry": {"orthogonal", "gaussian"},
        "embedding": {"unit_replication", "inactive_unit", "constant_unit"},
        "overparam": {"ridgeless", "ridge_tuned", "mlp", "parallel"},
        "resinit": (set(config["resinit"]["variants"]) - {"res_taki"}
                    | {f"res_taki_c{float(c):g}" for c in config["resinit"]["taki_c"]}
                    | set(config["resinit"]["sweep"]["variants"])),
        "selfpaced": {"no_augmentation", "augment_all", "self_paced", "random_matched", "randaugment"},
    }


@pytest.mark.parametrize("name", ["smoke", "default", "paper"])
def test_every_method_of_the_configs_has_a_colour(name):
    config = load_config_file(CONFIG / "config.yaml")
    if name != "default":
        config = merged(config, load_config_file(CONFIG / f"{name}.yaml"))
    for family, methods in _methods_of_config(config).items():
        for method in methods:
            assert to_rgb(method_colour(method)), (family, method)


def test_an_unknown_method_raises_naming_it():
    with pytest.raises(KeyError, match="no_such_method"):
        method_colour("no_such_method")


def test_the_dnn_has_one_colour_in_every_family():
    assert method_colour("dnn") == method_colour("dnn_l2w36") == method_colour("dnn_l4w100")
    assert FAMILY_COLOURS["nonsmooth"]["dnn"] == FAMILY_COLOURS["intrinsic"]["dnn"]
    assert len(set(method_shades("dnn", 3))) == 3


@pytest.mark.parametrize("family", sorted(FAMILY_COLOURS))
def test_colours_are_distinct_within_a_family(family):
    colours = [to_rgb(c) for c in FAMILY_COLOURS[family].values()]
    assert len(set(colours)) == len(colours), FAMILY_COLOURS[family]


def test_a_name_shared_by_families_has_one_colour():
    for colours in FAMILY_COLOURS.values():
        for name, colour in colours.items():
            assert to_rgb(METHOD_COLOURS[name]) == to_rgb(colour)


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_a_saved_figure_is_its_fixed_width_in_pixels(width, tmp_path):
    figure, axes = subplots(1, 2, width=width, height=2.5)
    for k, axis in enumerate(axes):
        axis.plot([1, 2], [k, k + 1], label=f"a long legend label number {k} that reaches past the axes")
    outside_legend(figure)  # outside the axes: no cropping may change the width
    png, svg = save_figure(figure, tmp_path, "f", {"config": "test"})
    assert _png_size(png) == (PIXEL_WIDTHS[width], round(2.5 * DPI))
    assert PIXEL_WIDTHS[width] == round(WIDTHS[width] * DPI)
    assert svg.stat().st_size > 0


def test_a_figure_off_the_fixed_widths_is_refused(tmp_path):
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(6.2, 3))
    with pytest.raises(ValueError, match="fixed widths"):
        save_figure(figure, tmp_path, "odd", {})


def test_the_diverging_norm_is_centred_at_zero():
    norm = diverging_norm([-0.3, 0.1, np.nan, 2.0])
    assert norm(0.0) == pytest.approx(0.5)
    assert norm(-2.0) == pytest.approx(0.0) and norm(2.0) == pytest.approx(1.0)
    assert norm(-1.0) + norm(1.0) == pytest.approx(1.0)  # symmetric: equal colours for equal magnitudes
    assert diverging_norm(limit=2.0)(1.0) == pytest.approx(0.75)
    assert diverging_norm([])(0.0) == pytest.approx(0.5)


FIGURE_MODULES = ["nonsmooth/figures.py", "intrinsic/figures.py", "gan/figures.py", "causal/figures.py",
                  "geometry/batchnorm_figures.py", "geometry/natgrad_figures.py", "geometry/spectra_figures.py",
                  "geometry/isometry_figures.py", "embedding/figures.py", "overparam/figures.py",
                  "resinit/figures.py", "selfpaced/figures.py"]


@pytest.mark.parametrize("module", FIGURE_MODULES)
def test_figure_modules_draw_in_the_shared_language(module):
    """Figures are made by plotting.subplots (fixed widths, constrained layout), never re-laid-out by tight_layout
    (it would undo the outside legends), and take no palette of their own."""
    source = (Path(__file__).resolve().parents[1] / "src" / "dltheory" / module).read_text()
    for banned in ("plt.subplots(", "plt.figure(", "tight_layout", '"tab10"', '"coolwarm"', "bbox_inches"):
        assert banned not in source, f"{module} uses {banned}"
