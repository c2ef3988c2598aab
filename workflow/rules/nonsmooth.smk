# Non-smooth regression (Imaizumi & Fukumizu, AISTATS 2019; JMLR 23(111), 2022):
# simulate -> fit each estimator / train the batched DNNs -> collect -> notebook (figures, claims).


localrules:
    nonsmooth_collect,
    nonsmooth_notebook,


rule nonsmooth_simulate:
    # The did-it-learn references (constant predictor, ridge) are fitted here: milliseconds on the fresh data.
    output:
        "results/nonsmooth/data/{target}.npz",
        "results/nonsmooth/runs/{target}/reference.parquet",
    log:
        "logs/nonsmooth/simulate/{target}.log",
    conda:
        CONDA_ENV
    resources:
        **cluster_resources("nonsmooth_simulate"),
    params:
        family="nonsmooth",
        target=nonsmooth_target,
        sizes=NONSMOOTH.get("sizes"),
        replicates=NONSMOOTH.get("replicates"),
        noise_sd=NONSMOOTH.get("noise_sd"),
        n_test=NONSMOOTH.get("n_test"),
        seed=RUN.seed,
    script:
        "../scripts/nonsmooth_simulate.py"


rule nonsmooth_fit_linear:
    input:
        "results/nonsmooth/data/{target}.npz",
    output:
        "results/nonsmooth/runs/{target}/{method}.parquet",
    log:
        "logs/nonsmooth/fit/{target}/{method}.log",
    benchmark:
        "results/benchmarks/nonsmooth/fit/{target}/{method}.tsv"
    wildcard_constraints:
        method="fourier|spline|kernel_ridge|gaussian_process|knn",
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("nonsmooth_fit_linear"),
    params:
        family="nonsmooth",
        target=nonsmooth_target,
        sizes=NONSMOOTH.get("sizes"),
        estimator_params=nonsmooth_estimator_params,
        seed=RUN.seed,
        linear_device=RUN.linear_device,
    script:
        "../scripts/nonsmooth_fit_linear.py"


rule nonsmooth_train_dnn:
    input:
        "results/nonsmooth/data/{target}.npz",
    output:
        "results/nonsmooth/runs/{target}/dnn.parquet",
    log:
        "logs/nonsmooth/train/{target}/dnn.log",
    benchmark:
        "results/benchmarks/nonsmooth/train/{target}/dnn.tsv"
    # Long jobs first among ready ones, so that short jobs fill the end of a run on few cores.
    priority: 5
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("nonsmooth_train_dnn"),
    params:
        family="nonsmooth",
        target=nonsmooth_target,
        sizes=NONSMOOTH.get("sizes"),
        dnn=NONSMOOTH.get("dnn"),
        seed=RUN.seed,
        device=RUN.device,
    script:
        "../scripts/nonsmooth_train_dnn.py"


rule nonsmooth_collect:
    input:
        get_nonsmooth_runs,
    output:
        "results/nonsmooth/nonsmooth.parquet",
    log:
        "logs/nonsmooth/collect.log",
    conda:
        CONDA_ENV
    params:
        family_config=family_config("nonsmooth"),
    script:
        "../scripts/collect_runs.py"


rule nonsmooth_notebook:
    input:
        notebook=repo_path("notebooks/nonsmooth.ipynb"),
        table="results/nonsmooth/nonsmooth.parquet",
    output:
        notebook="results/nonsmooth/notebook.ipynb",
        claims="results/nonsmooth/claims.json",
        figures=family_figures("nonsmooth", "Non-smooth regression"),
    log:
        "logs/nonsmooth/notebook.log",
    conda:
        CONDA_ENV
    params:
        parameters=notebook_parameters("nonsmooth"),
    script:
        "../scripts/run_notebook.py"
