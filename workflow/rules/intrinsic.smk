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
    log:
        "logs/intrinsic/simulate/{setting}.log",
    conda:
        CONDA_ENV
    resources:
        **cluster_resources("intrinsic_simulate"),
    params:
        setting=intrinsic_setting,
        sizes=intrinsic_sizes,
        replicates=intrinsic_replicates,
        noise_variance=INTRINSIC.get("noise_variance"),
        n_test=INTRINSIC.get("n_test"),
        seed=RUN.seed,
    script:
        "../scripts/intrinsic_simulate.py"


rule intrinsic_train_dnn:
    input:
        "results/intrinsic/data/{setting}.npz",
    output:
        "results/intrinsic/runs/{setting}/{network}.parquet",
    log:
        "logs/intrinsic/train/{setting}/{network}.log",
    benchmark:
        "results/benchmarks/intrinsic/train/{setting}/{network}.tsv"
    wildcard_constraints:
        network="dnn(_[A-Za-z0-9]+)?",
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("intrinsic_train_dnn"),
    params:
        setting=intrinsic_setting,
        sizes=intrinsic_sizes,
        dnn=intrinsic_dnn,
        seed=RUN.seed,
        device=RUN.device,
        output_init_scale=INTRINSIC.get("output_init_scale"),
    script:
        "../scripts/intrinsic_train_dnn.py"


rule intrinsic_fit_baseline:
    input:
        "results/intrinsic/data/{setting}.npz",
    output:
        "results/intrinsic/runs/{setting}/{method}.parquet",
    log:
        "logs/intrinsic/fit/{setting}/{method}.log",
    benchmark:
        "results/benchmarks/intrinsic/fit/{setting}/{method}.tsv"
    wildcard_constraints:
        method="knn|nadaraya_watson",
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("intrinsic_fit_baseline"),
    params:
        setting=intrinsic_setting,
        sizes=intrinsic_sizes,
        baseline_params=intrinsic_baseline_params,
        seed=RUN.seed,
    script:
        "../scripts/intrinsic_fit_baseline.py"


rule intrinsic_collect:
    input:
        get_intrinsic_runs,
        expand("results/intrinsic/runs/{setting}/references.parquet", setting=INTRINSIC_SETTINGS),
    output:
        "results/intrinsic/intrinsic.parquet",
    log:
        "logs/intrinsic/collect.log",
    conda:
        CONDA_ENV
    params:
        family_config=family_config("intrinsic"),
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
    log:
        "logs/intrinsic/notebook.log",
    conda:
        CONDA_ENV
    params:
        parameters=notebook_parameters("intrinsic"),
    script:
        "../scripts/run_notebook.py"
