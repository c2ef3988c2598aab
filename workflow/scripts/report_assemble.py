"""Assemble results/report/index.html from what the families wrote."""

from pathlib import Path

from dltheory.report import family_section, render_report
from dltheory.runtime import start_job

log = start_job(snakemake.log[0])
output = Path(snakemake.output[0])
p = snakemake.params
sections = [
    family_section(family, p.figures[family], Path("results"), Path(p.captions), output.parent,
                   p.config_hashes[family], p.family_configs[family])
    for family in p.families
]
output.parent.mkdir(parents=True, exist_ok=True)
output.write_text(render_report(p.title, sections, Path(snakemake.input.template)))
log.info("report with %d figures", sum(len(s.figures) for s in sections))
