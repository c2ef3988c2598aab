# Why residual networks need their own initialisation (Taki, arXiv 1709.02956): plain and residual MLPs with He,
# PyTorch's default, the depth-scaled branch init c/(nL), batch norm in the branch, Fixup, SkipInit and ReZero.
#   measure: signal statistics at initialisation against depth (float64), and the trainability sweep over init
#            scale x depth on digits, in one job (one torch start-up)
# measure -> collect -> notebook (figures, claims).


localrules:
    resinit_collect,
    resinit_notebook,


rule resinit_measure:
    output:
        "results/resinit/runs/measure.parquet",
    log:
        "logs/resinit/measure.log",
    benchmark:
        "results/benchmarks/resinit/measure.tsv"
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("resinit_measure"),
    params:
        settings=job_section("resinit"),
        seed=RUN.seed,
        device=RUN.device,
    script:
        "../scripts/resinit_measure.py"


rule resinit_collect:
    input:
        resinit_runs(),
    output:
        "results/resinit/resinit.parquet",
    log:
        "logs/resinit/collect.log",
    benchmark:
        "results/benchmarks/resinit/collect.tsv"
    conda:
        CONDA_ENV
    params:
        family_config=family_config("resinit"),
    script:
        "../scripts/collect_runs.py"


rule resinit_notebook:
    input:
        notebook=repo_path("notebooks/resinit.ipynb"),
        table="results/resinit/resinit.parquet",
    output:
        notebook="results/resinit/notebook.ipynb",
        claims="results/resinit/claims.json",
        figures=family_figures("resinit", "Why residual networks need their own initialisation"),
    log:
        "logs/resinit/notebook.log",
    conda:
        CONDA_ENV
    params:
        parameters=notebook_parameters("resinit"),
    script:
        "../scripts/run_notebook.py"
