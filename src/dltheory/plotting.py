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
