"""Figure conventions shared by every family: one visual language, and saving PNG + SVG with provenance inside.

The visual language (issue 23):

* **One colour per method** (:data:`METHOD_COLOURS`, :func:`method_colour`): the ReLU DNN is the same purple in
  every family, each linear estimator, baseline, causal method, NGD variant, normalization variant and GAN variant
  has its own colour, and an unknown name raises ``KeyError`` (a new method cannot silently get a random colour).
  The did-it-learn references (the constant predictor, ridge on the raw inputs) are grey, in :data:`REFERENCE`.
* **One theory-line style**: :data:`THEORY` (black, dashed) for every theory curve — a rate :math:`n^{-r}`, a
  closed form, the NTK prediction, a boundary; :data:`THEORY_SECOND` (black, dotted) only where a panel carries a
  second theory curve beside the first (a sufficient condition beside the exact one, an exponent beside a closed
  form). :data:`REFERENCE` (grey, dash-dot) for reference levels (a trivial predictor's error, chance, a claim's
  threshold).
* **One colour map per quantity**: :data:`MAGNITUDE_CMAP` (viridis) for magnitudes; :data:`FRACTION_CMAP`
  (cividis, fixed to [0, 1]) for fractions (seeds converged); :data:`DIVERGING_CMAP` (``RdBu_r``) for signed
  comparisons, always centred at 0 by :func:`diverging_norm`. **Red means worse, blue means better**, everywhere:
  the DNN's error falling slower than the best linear estimator's (positive slope difference) is red, a loss that
  rose over training (log10 final / initial > 0) is red; the theory's "DNN better" region is blue, as on the map.
* **Legends outside the data**: :func:`outside_legend` puts one figure-level legend below (or right of) the axes.
* **Fixed widths, one text scale**: figures are made by :func:`subplots` at :data:`HALF_WIDTH`, :data:`FULL_WIDTH`
  or :data:`WIDE_WIDTH` inches with constrained layout and saved at :data:`DPI` without cropping, so each PNG is
  525, 1050 or 1575 pixels wide and its text is the same size in every figure when shown at natural size.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.colors import TwoSlopeNorm, to_rgb  # noqa: E402

DPI = 150
HALF_WIDTH, FULL_WIDTH, WIDE_WIDTH = 3.5, 7.0, 10.5  # inches: 525, 1050 and 1575 pixels at DPI
WIDTHS = {"half": HALF_WIDTH, "full": FULL_WIDTH, "wide": WIDE_WIDTH}
PIXEL_WIDTHS = {name: round(width * DPI) for name, width in WIDTHS.items()}

# Text sizes in points: one scale for every figure (shown at natural size, a point is the same on every page).
FONT_SIZES = {"font.size": 8.0, "axes.titlesize": 8.5, "axes.labelsize": 8.0, "xtick.labelsize": 7.5,
              "ytick.labelsize": 7.5, "legend.fontsize": 7.0, "legend.title_fontsize": 7.5,
              "figure.titlesize": 9.0}
# The smallest text in any figure (numbers written in cells, notes on panels): 6.5 pt is 10 px as the report shows it.
ANNOTATION_SIZE = 6.5

THEORY = {"color": "black", "ls": "--", "lw": 1.2}
THEORY_SECOND = {"color": "black", "ls": ":", "lw": 1.4}
REFERENCE = {"color": "0.5", "ls": "-.", "lw": 1.0}

MAGNITUDE_CMAP = "viridis"
FRACTION_CMAP = "cividis"
DIVERGING_CMAP = "RdBu_r"  # red = worse (positive), blue = better (negative), white = 0
BETTER_COLOUR, WORSE_COLOUR = "#2166ac", "#b2182b"  # the ends of DIVERGING_CMAP, for regions and bands

DNN_COLOUR = "#762a83"
REFERENCE_COLOUR = "0.5"

# Per family, one colour per method name; a name shared between families has the same colour in each.
FAMILY_COLOURS: dict[str, dict[str, str]] = {
    "nonsmooth": {"dnn": DNN_COLOUR, "fourier": "#1f77b4", "spline": "#2ca02c", "kernel_ridge": "#ff7f0e",
                  "gaussian_process": "#8c564b", "knn": "#17becf", "constant": REFERENCE_COLOUR,
                  "ridge": "0.35"},
    "intrinsic": {"dnn": DNN_COLOUR, "knn": "#17becf", "nadaraya_watson": "#bcbd22", "constant": REFERENCE_COLOUR,
                  "ridge": "0.35"},
    "causal": {"meta_cgnn": DNN_COLOUR, "meta_cgnn_contrast": "#c2a5cf", "rcc": "#8c564b", "cgnn": "#1f77b4",
               "anm": "#2ca02c", "igci": "#bcbd22", "reci": "#ff7f0e"},
    "natgrad": {"gd": "#7f7f7f", "exact": "#d62728", "block_diagonal": "#1f77b4", "block_tridiagonal": "#2ca02c",
                "kfac": "#ff7f0e", "kfac_paper": "#8c564b", "unit_wise": "#9467bd", "ntk_limit": "black"},
    "batchnorm": {"none": "#1f77b4", "last_batch_norm": "#d62728", "last_batch_norm_full": "#ff7f0e",
                  "hidden_batch_norm": "#2ca02c", "last_layer_norm": "#9467bd"},
    "gan": {"non_saturating": "#1f77b4", "wgan_clip": "#aec7e8", "wgan_gp": "#17becf", "sn_hinge": "#ff7f0e",
            "sn_wasserstein": "#2ca02c", "sn_gp": "#98df8a", "mmd_gan": "#8c564b", "r1": "#e377c2",
            "smoothed": "#d62728", "smoothed_lambda_0.01": "#ff9896", "smoothed_lambda_0.1": "#f7b6d2",
            "smoothed_lambda_10": "#7f0000"},
    "spectra": {"fim_linear": "#1f77b4", "fim_softmax": "#d62728", "input_linear": "#2ca02c",
                "input_softmax": "#9467bd"},
    "isometry": {"orthogonal": "#d62728", "gaussian": "#7f7f7f"},
    "embedding": {"unit_replication": "#1b9e77", "inactive_unit": "#7570b3", "constant_unit": "#d95f02"},
    "overparam": {"ridgeless": "#d62728", "ridge_tuned": "#1f77b4", "mlp": DNN_COLOUR, "parallel": "#2ca02c"},
    "resinit": {"plain_he": "#8c564b", "plain_default": "#c49c94", "plain_bn": "#e377c2", "res_he": "#d62728",
                "res_default": "#ff9896", "res_taki": "#08519c", "res_taki_c1": "#9ecae1", "res_taki_c2": "#1f77b4",
                "res_bn": "#2ca02c", "fixup": "#ff7f0e", "skipinit": "#9467bd", "rezero": "#17becf"},
    "selfpaced": {"no_augmentation": "0.25", "augment_all": "#ff7f0e", "self_paced": "#d62728",
                  "random_matched": "#17becf", "randaugment": "#2ca02c"},
}
ALIASES = {"unitwise": "unit_wise", "kfac_textbook": "kfac"}  # spellings that name the same method


def _merge(families: dict[str, dict[str, str]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for family, colours in families.items():
        for name, colour in colours.items():
            if name in merged and to_rgb(merged[name]) != to_rgb(colour):
                raise ValueError(f"method {name!r} has two colours ({merged[name]}, {colour}); family {family}")
            merged[name] = colour
    return merged


METHOD_COLOURS: dict[str, str] = _merge(FAMILY_COLOURS)


def canonical_method(name: str) -> str:
    """The palette's name of a method: a sized DNN (``dnn_l2w36``) is the DNN, aliases are resolved."""
    if name.startswith("dnn_") and name[4:5] == "l":
        return "dnn"
    return ALIASES.get(name, name)


def method_colour(name: str):
    """The method's one colour; ``KeyError`` naming it (and the known names) if it has none."""
    key = canonical_method(name)
    if key not in METHOD_COLOURS:
        raise KeyError(f"no colour for method {name!r}: add it to dltheory.plotting.FAMILY_COLOURS "
                       f"(known: {sorted(METHOD_COLOURS)})")
    return METHOD_COLOURS[key]


def method_shades(name: str, count: int) -> list:
    """``count`` shades of a method's colour, light to dark (several sizes of one method, e.g. DNNs)."""
    base = np.array(to_rgb(method_colour(name)))
    if count == 1:
        return [tuple(base)]
    shades = []
    for t in np.linspace(-0.5, 0.45, count):  # < 0: towards white; > 0: towards black
        shades.append(tuple(base + (1 - base) * -t if t < 0 else base * (1 - t)))
    return shades


def diverging_norm(values=None, limit: float | None = None, floor: float = 0.0) -> TwoSlopeNorm:
    """A norm centred at 0 and symmetric (so equal colours mean equal magnitudes on either side): ``limit`` or the
    largest finite |value| (at least ``floor``; 1 if there is none)."""
    if limit is None:
        finite = np.abs(np.asarray(values if values is not None else [], float))
        finite = finite[np.isfinite(finite)]
        limit = max(float(finite.max()) if finite.size else 0.0, floor) or 1.0
    return TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)


def use_style() -> None:
    sns.set_theme(context="paper", style="whitegrid", rc=FONT_SIZES)


def subplots(nrows: int = 1, ncols: int = 1, width: str = "full", height: float | None = None, **kwargs):
    """``plt.subplots`` at one of the fixed widths ("half", "full", "wide") with constrained layout; ``height`` in
    inches (default: 0.62 of the width per row, capped)."""
    inches = WIDTHS[width]
    if height is None:
        height = min(0.62 * inches / max(ncols, 1) * nrows + 0.6, 9.0) if ncols > 1 else 0.62 * inches
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=(inches, height), **kwargs)


def unique_handles(axes) -> dict:
    """label -> handle over every axis, first seen first, labels starting with '_' left out."""
    handles = {}
    for axis in np.ravel(axes):
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            if not label.startswith("_"):
                handles.setdefault(label, handle)
    return handles


def outside_legend(figure, handles=None, labels=None, where: str = "lower center", ncol: int | None = None,
                   axes=None, **kwargs):
    """One figure-level legend outside the axes (below by default, or ``where="right"``): the given handles, or
    every axis's labelled artists once. Needs constrained layout (``subplots`` makes it)."""
    if handles is None:
        found = unique_handles(axes if axes is not None else figure.axes)
        handles, labels = list(found.values()), list(found)
    if not handles:
        return None
    loc = {"right": "outside right center", "below": "outside lower center"}.get(where, f"outside {where}")
    if ncol is None:
        ncol = 1 if "right" in loc else max(1, min(len(handles), 3 if figure.get_figwidth() > 4 else 1))
    kwargs.setdefault("frameon", False)
    return figure.legend(handles, labels, loc=loc, ncol=ncol, **kwargs)


def save_figure(figure, directory: str | Path, name: str, provenance: dict) -> list[Path]:
    """Save ``figure`` as ``name``.png and ``name``.svg at its own size (no cropping, so the PNG is the fixed width
    times :data:`DPI`); the PNG carries the provenance in its metadata. A figure not at a fixed width is an error."""
    width = figure.get_figwidth()
    if not any(np.isclose(width, w) for w in WIDTHS.values()):
        plt.close(figure)
        raise ValueError(f"figure {name!r} is {width:g} in wide, not one of the fixed widths {WIDTHS}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    description = ", ".join(f"{k}={v}" for k, v in provenance.items() if k != "versions")
    paths = [directory / f"{name}.png", directory / f"{name}.svg"]
    figure.savefig(paths[0], dpi=DPI, metadata={"Description": description})
    # SVG output is made deterministic by fixing its hash salt and dropping the date.
    with plt.rc_context({"svg.hashsalt": "dltheory"}):
        figure.savefig(paths[1], metadata={"Date": None, "Description": description})
    plt.close(figure)
    return paths


class FigureSet:
    """The figures a family's notebook draws, by the names its settings declare (``figure_names``): the one list the
    pipeline's rule outputs and the notebook share. Saving an undeclared name, or finishing without a declared one,
    is an error that names it, so the notebook and the Snakefile cannot drift apart."""

    def __init__(self, names, directory: str | Path, provenance: dict):
        self.names = tuple(names)
        self.directory, self.provenance = directory, provenance
        self.saved: list[str] = []

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def save(self, figure, name: str) -> list[Path]:
        if name not in self.names:
            plt.close(figure)
            raise ValueError(f"figure {name!r} is not among the family's declared figures {list(self.names)}")
        self.saved.append(name)
        return save_figure(figure, self.directory, name, self.provenance)

    def check(self) -> None:
        """Every declared figure was saved."""
        missing = [name for name in self.names if name not in self.saved]
        if missing:
            raise RuntimeError(f"declared figures not drawn: {missing}")
