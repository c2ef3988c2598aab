# More parameters, better accuracy? (Imaizumi, JST slides 2021; Nakada & Imaizumi 2021; Imaizumi & Schmidt-Hieber
# 2023): test error against the number of parameters past the interpolation point, on digits.
#   random_features: min-norm and validation-tuned ridge fits over N/n, clean and noisy labels (numpy, no torch)
#   networks:        one-hidden-layer networks over width, and parallel networks (averages of M members)
# Each part's table -> collect -> notebook (figures, claims).


localrules:
    overparam_collect,
    overparam_notebook,


rule overparam_random_features:
    output:
        "results/overparam/runs/random_features.parquet",
    log:
        "logs/overparam/random_features.log",
    benchmark:
        "results/benchmarks/overparam/random_features.tsv"
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("overparam_random_features"),
    params:
        settings=job_section("overparam", *OVERPARAM_SPLIT_KEYS, "random_features"),
        seed=RUN.seed,
    script:
        "../scripts/overparam_random_features.py"


rule overparam_train_networks:
    output:
        "results/overparam/runs/networks.parquet",
    log:
        "logs/overparam/train_networks.log",
    benchmark:
        "results/benchmarks/overparam/train_networks.tsv"
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("overparam_train_networks"),
    params:
        settings=job_section("overparam", *OVERPARAM_SPLIT_KEYS, "mlp", "parallel"),
        seed=RUN.seed,
        device=RUN.device,
    script:
        "../scripts/overparam_train_networks.py"


rule overparam_collect:
    input:
        overparam_runs(),
    output:
        "results/overparam/overparam.parquet",
    log:
        "logs/overparam/collect.log",
    benchmark:
        "results/benchmarks/overparam/collect.tsv"
    conda:
        CONDA_ENV
    params:
        family_config=family_config("overparam"),
    script:
        "../scripts/collect_runs.py"


rule overparam_notebook:
    input:
        notebook=repo_path("notebooks/overparam.ipynb"),
        table="results/overparam/overparam.parquet",
    output:
        notebook="results/overparam/notebook.ipynb",
        claims="results/overparam/claims.json",
        figures=family_figures("overparam", "More parameters, better accuracy?"),
    log:
        "logs/overparam/notebook.log",
    conda:
        CONDA_ENV
    params:
        parameters=notebook_parameters("overparam"),
    script:
        "../scripts/run_notebook.py"
