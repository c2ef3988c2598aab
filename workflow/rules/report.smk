# The assembled report: every figure with its caption, the claims scorecard, provenance per figure.


localrules:
    report_assemble,


rule report_assemble:
    input:
        unpack(get_report_inputs),
        template=repo_path("report/template.html.j2"),
        families=repo_path("report/families.yaml"),
        notebook_template=repo_path("report/notebook.html.j2"),
    output:
        html="results/report/index.html",
        # Each executed notebook as a page that opens offline, beside its .ipynb (one job: nbconvert loads once).
        notebooks=[f"results/{family}/notebook.html" for family in enabled_families()],
    log:
        "logs/report/assemble.log",
    conda:
        CONDA_ENV
    params:
        families=enabled_families(),
        figures={family: list(SETTINGS[family].figure_names()) for family in enabled_families()},
        captions=repo_path("report/captions"),
        title=RUN.report.title,
        config_hashes={family: family_config_hash(family) for family in enabled_families()},
        # What the captions quote ({{ snakemake.config.<family>.<key> }}): each family's settings, defaults filled in.
        family_configs={family: family_config(family) for family in enabled_families()},
        # What ran, for the first screen: the config files read (default, smoke or paper), the device and the seed.
        configfiles=[str(f) for f in workflow.configfiles],
        device=RUN.device,
        seed=RUN.seed,
    script:
        "../scripts/report_assemble.py"
