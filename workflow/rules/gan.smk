# GAN stability (Chu, Minami & Fukumizu, ICLR 2020; the experiment design is ours): train the digits
# classifier -> train every variant as one batched model per data part (and the sanity baseline, WGAN-GP alone)
# -> collect -> notebook (sanity baseline, stability maps, trajectories, samples, measured conditions, claims).


localrules:
    gan_collect,
    gan_collect_samples,
    gan_notebook,


rule gan_train_classifier:
    output:
        weights="results/gan/classifier/classifier.pt",
        report="results/gan/classifier/classifier.json",
    log:
        "logs/gan/train_classifier.log",
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("gan_train_classifier"),
    params:
        classifier=gan_classifier(),
        seed=RUN.seed,
    script:
        "../scripts/gan_train_classifier.py"


rule gan_train:
    input:
        unpack(gan_train_inputs),
    output:
        metrics="results/gan/runs/{part}/{variant}.metrics.parquet",
        samples="results/gan/runs/{part}/{variant}.samples.parquet",
    log:
        "logs/gan/train/{part}/{variant}.log",
    benchmark:
        "results/benchmarks/gan/train/{part}/{variant}.tsv"
    wildcard_constraints:
        part="toy|digits|sanity",
    # Long jobs first among ready ones, so that short jobs fill the end of a run on few cores.
    priority: 5
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("gan_train"),
    params:
        run=gan_run,
        seed=RUN.seed,
        device=RUN.device,
    script:
        "../scripts/gan_train.py"


rule gan_collect:
    input:
        get_gan_runs("metrics"),
    output:
        "results/gan/gan.parquet",
    log:
        "logs/gan/collect.log",
    conda:
        CONDA_ENV
    params:
        family_config=family_config("gan"),
    script:
        "../scripts/collect_runs.py"


rule gan_collect_samples:
    input:
        get_gan_runs("samples"),
    output:
        "results/gan/samples.parquet",
    log:
        "logs/gan/collect_samples.log",
    conda:
        CONDA_ENV
    params:
        family_config=family_config("gan"),
    script:
        "../scripts/collect_runs.py"


rule gan_notebook:
    input:
        unpack(gan_notebook_inputs),
        notebook=repo_path("notebooks/gan.ipynb"),
    output:
        notebook="results/gan/notebook.ipynb",
        claims="results/gan/claims.json",
        figures=family_figures("gan", "GAN stability"),
    log:
        "logs/gan/notebook.log",
    conda:
        CONDA_ENV
    params:
        parameters=notebook_parameters("gan"),
    script:
        "../scripts/run_notebook.py"
