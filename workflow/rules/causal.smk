# Causal direction (Ton, Sejdinovic & Fukumizu, AAAI 2021; every setting ours; issue 21): per meta-training pool
# ('all', and one per held-out generator family) train Meta-CGNN (headline: no direction term), its extension
# (the direction term) and a supervised classifier, and score the pool's test benchmarks -> score every benchmark
# with CGNN (one job each) and the classical baselines (ANM, IGCI, RECI; one job each) -> time Meta-CGNN against
# CGNN at its defaults -> collect -> notebook (accuracy vs n with Wilson intervals, seconds per pair, tables, claims).
# A user benchmark (causal.user_benchmarks, issue 22) is scored as Tübingen is; its CSV is an input of each job that
# reads it.


localrules:
    causal_collect,
    causal_notebook,


rule causal_meta_train:
    input:
        causal_pool_csvs,
    output:
        model="results/causal/meta/{pool}/model.pt",
        history="results/causal/meta/{pool}/history.parquet",
        scores="results/causal/runs/trained_{pool}.parquet",
    log:
        "logs/causal/meta_train_{pool}.log",
    benchmark:
        "results/benchmarks/causal/meta_train_{pool}.tsv"
    wildcard_constraints:
        pool="all|sanity|no_[a-z_]+",
    # First among ready jobs: the timing waits for the 'all' pool's model.
    priority: 10
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("causal_meta_train"),
    params:
        section=causal_pool_section,
        evaluations=causal_pool_evaluations,
        methods=CAUSAL.trained() if CAUSAL else [],
        families=causal_pool_families,
        seed=RUN.seed,
        device=RUN.device,
    script:
        "../scripts/causal_meta_train.py"


# CGNN (a network trained per pair; a GPU on the cluster): every pair of one size as one batch, one job per benchmark.
rule causal_score_network:
    input:
        causal_benchmark_csv,
    output:
        "results/causal/runs/{benchmark}/{method}.parquet",
    log:
        "logs/causal/score/{benchmark}/{method}.log",
    benchmark:
        "results/benchmarks/causal/score/{benchmark}/{method}.tsv"
    wildcard_constraints:
        benchmark="[a-z][a-z0-9_]*",
        method="cgnn",
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("causal_score_network"),
    params:
        plan=causal_network_plan,
        seed=RUN.seed,
        device=RUN.device,
    script:
        "../scripts/causal_score_network.py"


# The classical baselines (ANM, IGCI, RECI), one pair at a time, on CPUs: one job per benchmark, as IGCI and RECI
# take milliseconds per pair.
rule causal_score_baselines:
    input:
        causal_benchmark_csv,
    output:
        "results/causal/runs/{benchmark}/baselines.parquet",
    log:
        "logs/causal/score/{benchmark}/baselines.log",
    benchmark:
        "results/benchmarks/causal/score/{benchmark}/baselines.tsv"
    wildcard_constraints:
        benchmark="[a-z][a-z0-9_]*",
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("causal_score_baselines"),
    params:
        plan=causal_baselines_plan,
        seed=RUN.seed,
        methods=causal_classical_on,
    script:
        "../scripts/causal_score_baselines.py"


rule causal_time:
    input:
        model="results/causal/meta/all/model.pt",
    output:
        "results/causal/timing.parquet",
    log:
        "logs/causal/time.log",
    benchmark:
        "results/benchmarks/causal/time.tsv"
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("causal_time"),
    params:
        section=job_section("causal", "test_pairs", "test_points", "timing"),
        seed=RUN.seed,
        device=RUN.device,
    script:
        "../scripts/causal_time.py"


rule causal_collect:
    input:
        causal_all_runs,
    output:
        "results/causal/causal.parquet",
    log:
        "logs/causal/collect.log",
    conda:
        CONDA_ENV
    params:
        family_config=family_config("causal"),
    script:
        "../scripts/collect_runs.py"


rule causal_notebook:
    input:
        table="results/causal/causal.parquet",
        timing="results/causal/timing.parquet",
        # The held-out pools' curves sit beside it (meta/no_<family>/history.parquet; the notebook reads them).
        history="results/causal/meta/all/history.parquet",
        notebook=repo_path("notebooks/causal.ipynb"),
    output:
        notebook="results/causal/notebook.ipynb",
        claims="results/causal/claims.json",
        figures=family_figures("causal", "Causal direction"),
    log:
        "logs/causal/notebook.log",
    conda:
        CONDA_ENV
    params:
        parameters=notebook_parameters("causal"),
    script:
        "../scripts/run_notebook.py"
