"""Figure conventions shared by every family: style, and saving PNG + SVG with provenance inside."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402


def use_style() -> None:
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)


def save_figure(figure, directory: str | Path, name: str, provenance: dict) -> list[Path]:
    """Save ``figure`` as ``name``.png and ``name``.svg; the PNG carries the provenance in its metadata."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    description = ", ".join(f"{k}={v}" for k, v in provenance.items() if k != "versions")
    paths = [directory / f"{name}.png", directory / f"{name}.svg"]
    figure.savefig(paths[0], dpi=150, bbox_inches="tight", metadata={"Description": description})
    # SVG output is made deterministic by fixing its hash salt and dropping the date.
    with plt.rc_context({"svg.hashsalt": "dltheory"}):
        figure.savefig(paths[1], bbox_inches="tight", metadata={"Date": None, "Description": description})
    plt.close(figure)
    return paths
