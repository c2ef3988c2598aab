# Semi-flat minima and saddles by embedding (Fukumizu, Yamaguchi, Mototake & Tanaka, NeurIPS 2019).
#   measure:  narrow critical points, embedded one unit wider three ways; counts, escape, slices (numpy, one job)
#   deep:     paper scale only (deep.enabled): deeper networks on digits, Hessian extremes by Lanczos (torch)
#   notebook: eigenvalue-count table, figures, claims
# The measuring job writes the family's table itself (one run table, so no collect step: job start-up is most of
# a small family's time).


localrules:
    embedding_notebook,


rule embedding_measure:
    output:
        "results/embedding/embedding.parquet",
    log:
        "logs/embedding/measure.log",
    benchmark:
        "results/benchmarks/embedding/measure.tsv"
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("embedding_measure"),
    params:
        settings=embedding_shallow_section(),
        seed=RUN.seed,
    script:
        "../scripts/embedding_measure.py"


rule embedding_deep:
    output:
        "results/embedding/deep.parquet",
    log:
        "logs/embedding/deep.log",
    benchmark:
        "results/benchmarks/embedding/deep.tsv"
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("embedding_deep"),
    params:
        settings=job_section("embedding").get("deep", {}),
        seed=RUN.seed,
        device=RUN.device,
    script:
        "../scripts/embedding_deep.py"


rule embedding_notebook:
    input:
        unpack(embedding_notebook_inputs),
    output:
        notebook="results/embedding/notebook.ipynb",
        claims="results/embedding/claims.json",
        figures=family_figures("embedding", "Semi-flat minima by embedding"),
    log:
        "logs/embedding/notebook.log",
    conda:
        CONDA_ENV
    params:
        parameters=notebook_parameters("embedding"),
    script:
        "../scripts/run_notebook.py"
