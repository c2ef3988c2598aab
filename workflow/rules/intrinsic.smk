# Hidden low dimension (Nakada & Imaizumi, JMLR 21(174) 2020, Sec. 6.1 and 6.2): simulate each support (with the
# did-it-learn references: constant and ridge) -> train the batched DNNs / fit k-NN and Nadaraya-Watson -> collect
# -> notebook (error curves, claims).

localrules:
    intrinsic_collect,
    intrinsic_notebook,


rule intrinsic_simulate:
    output:
        data="results/intrinsic/data/{setting}.npz",
        references="results/intrinsic/runs/{setting}/references.parquet",
    params:
        setting=intrinsic_setting,
        sizes=intrinsic_sizes,
        replicates=intrinsic_replicates,
        noise_variance=INTRINSIC.get("noise_variance"),
        n_test=INTRINSIC.get("n_test"),
        seed=RUN.seed,
    resources:
        **cluster_resources("intrinsic_simulate"),
    log:
        "logs/intrinsic/simulate/{setting}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/intrinsic_simulate.py"


rule intrinsic_train_dnn:
    input:
        "results/intrinsic/data/{setting}.npz",
    output:
        "results/intrinsic/runs/{setting}/{network}.parquet",
    wildcard_constraints:
        network="dnn(_[A-Za-z0-9]+)?",
    params:
        setting=intrinsic_setting,
        sizes=intrinsic_sizes,
        dnn=intrinsic_dnn,
        seed=RUN.seed,
        device=RUN.device,
        output_init_scale=INTRINSIC.get("output_init_scale"),
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("intrinsic_train_dnn"),
    log:
        "logs/intrinsic/train/{setting}/{network}.log",
    benchmark:
        "results/benchmarks/intrinsic/train/{setting}/{network}.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/intrinsic_train_dnn.py"


rule intrinsic_fit_baseline:
    input:
        "results/intrinsic/data/{setting}.npz",
    output:
        "results/intrinsic/runs/{setting}/{method}.parquet",
    wildcard_constraints:
        method="knn|nadaraya_watson",
    params:
        setting=intrinsic_setting,
        sizes=intrinsic_sizes,
        baseline_params=intrinsic_baseline_params,
        seed=RUN.seed,
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("intrinsic_fit_baseline"),
    log:
        "logs/intrinsic/fit/{setting}/{method}.log",
    benchmark:
        "results/benchmarks/intrinsic/fit/{setting}/{method}.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/intrinsic_fit_baseline.py"


rule intrinsic_collect:
    input:
        get_intrinsic_runs,
        expand("results/intrinsic/runs/{setting}/references.parquet", setting=INTRINSIC_SETTINGS),
    output:
        "results/intrinsic/intrinsic.parquet",
    params:
        family_config=family_config("intrinsic"),
    log:
        "logs/intrinsic/collect.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/collect_runs.py"


rule intrinsic_notebook:
    input:
        notebook=repo_path("notebooks/intrinsic.ipynb"),
        table="results/intrinsic/intrinsic.parquet",
    output:
        notebook="results/intrinsic/notebook.ipynb",
        claims="results/intrinsic/claims.json",
        figures=family_figures("intrinsic", "Hidden low dimension"),
    params:
        parameters=notebook_parameters("intrinsic"),
    log:
        "logs/intrinsic/notebook.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/run_notebook.py"
