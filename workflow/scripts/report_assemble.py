"""Assemble results/report/index.html from what the families wrote, and each executed notebook as HTML beside it."""

import os
from pathlib import Path

from dltheory.report import (
    family_section,
    notebook_html,
    read_family_metadata,
    render_report,
    rerun_options,
    run_label,
)
from dltheory.runtime import start_job

log = start_job(snakemake.log[0])
output = Path(snakemake.output.html)
p = snakemake.params
metadata = read_family_metadata(Path(snakemake.input.families), p.families)
rerun = rerun_options(p.configfiles)  # each figure's remake command names the config files this run read
sections = [
    family_section(family, p.figures[family], Path("results"), Path(p.captions), output.parent,
                   p.config_hashes[family], p.family_configs[family], metadata[family], rerun)
    for family in p.families
]
for family, html in zip(p.families, snakemake.output.notebooks, strict=True):
    size = notebook_html(Path("results") / family / "notebook.ipynb", html, snakemake.input.notebook_template)
    log.info("%s: %.1f MB", html, size / 1e6)
output.parent.mkdir(parents=True, exist_ok=True)
# Snakemake's own report is made after this page (it needs the finished run): linked when it exists, which it does
# when `make run` assembles the page again after making it.
report_zip = Path("results/report.zip")
run = {"label": run_label(p.configfiles), "device": p.device, "seed": p.seed,
       "report_zip": os.path.relpath(report_zip, output.parent) if report_zip.is_file() else ""}
output.write_text(render_report(p.title, sections, Path(snakemake.input.template), run))
log.info("report with %d figures", sum(len(s.figures) for s in sections))
