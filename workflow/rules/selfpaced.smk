# Self-paced data augmentation (Takase, Karakida & Asoh, Neurocomputing 2021): augment a sample only while the
# network's loss on it is >= tau, against no augmentation, augmenting all, RandAugment and a random subset of the
# same size, on digits.
#   train: every seed and method of one training size n as one batched model (tau, (N, M) chosen later on validation);
#          a job trains one n, or several in turn (sizes_per_job: n20_40 is n = 20, then 40)
# Each n's table -> collect -> notebook (figures, claims).


localrules:
    selfpaced_collect,
    selfpaced_notebook,


rule selfpaced_train:
    input:
        selfpaced_data(),
    output:
        "results/selfpaced/runs/n{sizes}.parquet",
    log:
        "logs/selfpaced/train_n{sizes}.log",
    benchmark:
        "results/benchmarks/selfpaced/train_n{sizes}.tsv"
    wildcard_constraints:
        sizes=r"\d+(_\d+)*",
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("selfpaced_train"),
    params:
        settings=selfpaced_job_settings(),
        seed=RUN.seed,
        device=RUN.device,
    script:
        "../scripts/selfpaced_train.py"


rule selfpaced_collect:
    input:
        selfpaced_runs(),
    output:
        "results/selfpaced/selfpaced.parquet",
    log:
        "logs/selfpaced/collect.log",
    benchmark:
        "results/benchmarks/selfpaced/collect.tsv"
    conda:
        CONDA_ENV
    params:
        family_config=family_config("selfpaced"),
    script:
        "../scripts/collect_runs.py"


rule selfpaced_notebook:
    input:
        notebook=repo_path("notebooks/selfpaced.ipynb"),
        table="results/selfpaced/selfpaced.parquet",
    output:
        notebook="results/selfpaced/notebook.ipynb",
        claims="results/selfpaced/claims.json",
        figures=family_figures("selfpaced", "Self-paced data augmentation"),
    log:
        "logs/selfpaced/notebook.log",
    conda:
        CONDA_ENV
    params:
        parameters=notebook_parameters("selfpaced"),
    script:
        "../scripts/run_notebook.py"
