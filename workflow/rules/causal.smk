# Causal direction (Ton, Sejdinovic & Fukumizu, AAAI 2021; every setting ours): meta-train Meta-CGNN on synthetic
# pairs -> score every (benchmark, method) on the same subsamples -> time Meta-CGNN against CGNN at its defaults
# -> collect -> notebook (accuracy vs n, seconds per pair, tables, claims).

localrules:
    causal_collect,
    causal_notebook,


rule causal_meta_train:
    # First among ready jobs: every Meta-CGNN score and the timing wait for it.
    priority: 10
    output:
        model=CAUSAL_META_MODEL,
        history="results/causal/meta/history.parquet",
    params:
        meta=job_section("causal", "meta_cgnn").get("meta_cgnn"),
        seed=RUN.seed,
        device=RUN.device,
    threads: RUN.threads_per_job
    log:
        "logs/causal/meta_train.log",
    benchmark:
        "results/benchmarks/causal/meta_train.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/causal_meta_train.py"


# Networks (a GPU on the cluster): every pair of one size as one batch.
rule causal_score_network:
    input:
        unpack(causal_score_inputs),
    output:
        "results/causal/runs/{benchmark}/{method}.parquet",
    wildcard_constraints:
        benchmark="ce_multi|ce_net|ce_gauss|tuebingen",
        method="meta_cgnn|cgnn",
    params:
        plan=causal_network_plan,
        seed=RUN.seed,
        device=RUN.device,
    threads: RUN.threads_per_job
    log:
        "logs/causal/score/{benchmark}/{method}.log",
    benchmark:
        "results/benchmarks/causal/score/{benchmark}/{method}.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/causal_score_network.py"


# Classical baselines (ANM, IGCI, RECI), one pair at a time, on CPUs: one job per benchmark, as IGCI and RECI take
# milliseconds per pair.
rule causal_score_baselines:
    output:
        "results/causal/runs/{benchmark}/baselines.parquet",
    wildcard_constraints:
        benchmark="ce_multi|ce_net|ce_gauss|tuebingen",
    params:
        plan=causal_plan(causal_baselines()),
        seed=RUN.seed,
        methods=causal_baselines(),
    threads: RUN.threads_per_job
    log:
        "logs/causal/score/{benchmark}/baselines.log",
    benchmark:
        "results/benchmarks/causal/score/{benchmark}/baselines.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/causal_score_baselines.py"


rule causal_time:
    input:
        model=CAUSAL_META_MODEL,
    output:
        "results/causal/timing.parquet",
    params:
        section=job_section("causal", "test_pairs", "test_points", "timing"),
        seed=RUN.seed,
        device=RUN.device,
    threads: RUN.threads_per_job
    log:
        "logs/causal/time.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/causal_time.py"


rule causal_collect:
    input:
        get_causal_runs,
    output:
        "results/causal/causal.parquet",
    params:
        family_config=family_config("causal"),
    log:
        "logs/causal/collect.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/collect_runs.py"


rule causal_notebook:
    input:
        table="results/causal/causal.parquet",
        timing="results/causal/timing.parquet",
        history="results/causal/meta/history.parquet",
        notebook=repo_path("notebooks/causal.ipynb"),
    output:
        notebook="results/causal/notebook.ipynb",
        claims="results/causal/claims.json",
        figures=family_figures("causal", "Causal direction"),
    params:
        parameters=notebook_parameters("causal"),
    log:
        "logs/causal/notebook.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/run_notebook.py"
