# Where DNNs win, measured (Imaizumi & Fukumizu, JMLR 23(111) 2022, Fig. 2): one piecewise-smooth target per
# (alpha, beta) cell. Few jobs for many small cells: simulate every cell (with the did-it-learn references) ->
# one job per linear estimator over every cell -> the DNNs of every cell, one batched model per n -> collect ->
# notebook (theory region for three D, empirical map with t-intervals, agreement claims).


localrules:
    region_collect,
    region_notebook,


rule region_simulate:
    output:
        data=region_data(),
        references="results/region/runs/references.parquet",
    log:
        "logs/region/simulate.log",
    conda:
        CONDA_ENV
    resources:
        **cluster_resources("region_simulate"),
    params:
        cells=REGION_CELLS,
        sizes=REGION.get("sizes"),
        replicates=REGION.get("replicates"),
        noise_sd=REGION.get("noise_sd"),
        n_test=REGION.get("n_test"),
        seed=RUN.seed,
    script:
        "../scripts/region_simulate.py"


rule region_fit_linear:
    input:
        region_data(),
    output:
        "results/region/runs/{method}.parquet",
    log:
        "logs/region/fit/{method}.log",
    benchmark:
        "results/benchmarks/region/fit/{method}.tsv"
    wildcard_constraints:
        method="fourier|spline|kernel_ridge|gaussian_process",
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("region_fit_linear"),
    params:
        cells=REGION_CELLS,
        sizes=REGION.get("sizes"),
        estimator_params=region_estimator_params,
        seed=RUN.seed,
        linear_device=RUN.linear_device,
    script:
        "../scripts/region_fit_linear.py"


rule region_train_dnn:
    input:
        region_data(),
    output:
        "results/region/runs/dnn.parquet",
    log:
        "logs/region/train/dnn.log",
    benchmark:
        "results/benchmarks/region/train/dnn.tsv"
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("region_train_dnn"),
    params:
        cells=REGION_CELLS,
        sizes=REGION.get("sizes"),
        dnn=REGION.get("dnn"),
        seed=RUN.seed,
        device=RUN.device,
    script:
        "../scripts/region_train_dnn.py"


rule region_collect:
    input:
        get_region_runs,
    output:
        "results/region/region.parquet",
    log:
        "logs/region/collect.log",
    conda:
        CONDA_ENV
    params:
        family_config=family_config("region"),
    script:
        "../scripts/collect_runs.py"


rule region_notebook:
    input:
        notebook=repo_path("notebooks/region.ipynb"),
        table="results/region/region.parquet",
    output:
        notebook="results/region/notebook.ipynb",
        claims="results/region/claims.json",
        figures=family_figures("region", "Where DNNs win"),
    log:
        "logs/region/notebook.log",
    conda:
        CONDA_ENV
    params:
        parameters=notebook_parameters("region"),
    script:
        "../scripts/run_notebook.py"
