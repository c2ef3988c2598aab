# Geometry of wide networks (Karakida et al.): four figure families on one core (dltheory.geometry.jacobian).
#   batchnorm: Fisher spectra over width (T, D grow with M), the T-M diagram; GD over (eta, M)   (NeurIPS 2019)
#              (spectra_jobs: the spectra as several jobs of (width, replicate) pairs, spectra_m64r0-m2048r9 ...)
#   natgrad:   exact and approximate natural gradient against GD on digits 0 vs 1         (NeurIPS 2020)
#   spectra:   linear vs softmax Fisher spectra and the input metric                        (Neural Comput. 2021)
#   isometry:  conditional Fisher spectra and online SGD over depth                         (AISTATS 2021)
# Each: measure/train -> collect -> notebook (figures, claims).


localrules:
    batchnorm_collect,
    batchnorm_notebook,
    natgrad_collect,
    natgrad_notebook,
    spectra_collect,
    spectra_notebook,
    isometry_collect,
    isometry_notebook,


rule batchnorm_measure:
    output:
        "results/batchnorm/runs/{part}.parquet",
    log:
        "logs/batchnorm/measure/{part}.log",
    benchmark:
        "results/benchmarks/batchnorm/measure/{part}.tsv"
    wildcard_constraints:
        part=r"spectra(_m\d+r\d+(-m\d+r\d+)?)?|gd",
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("batchnorm_measure"),
    params:
        settings=batchnorm_job_settings(),
        pairs=batchnorm_pairs,
        seed=RUN.seed,
    script:
        "../scripts/batchnorm_measure.py"


rule natgrad_train:
    output:
        "results/natgrad/runs/{method}.parquet",
    log:
        "logs/natgrad/train/{method}.log",
    benchmark:
        "results/benchmarks/natgrad/train/{method}.tsv"
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("natgrad_train"),
    params:
        settings=job_section("natgrad"),
        seed=RUN.seed,
        device=RUN.device,
    script:
        "../scripts/natgrad_train.py"


rule spectra_measure:
    output:
        "results/spectra/runs/spectra.parquet",
    log:
        "logs/spectra/measure.log",
    benchmark:
        "results/benchmarks/spectra/measure.tsv"
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("spectra_measure"),
    params:
        settings=job_section("spectra"),
        seed=RUN.seed,
    script:
        "../scripts/spectra_measure.py"


rule isometry_measure:
    output:
        "results/isometry/runs/{part}.parquet",
    log:
        "logs/isometry/measure/{part}.log",
    benchmark:
        "results/benchmarks/isometry/measure/{part}.tsv"
    wildcard_constraints:
        part="spectra|sgd",
    conda:
        CONDA_ENV
    threads: RUN.threads_per_job
    resources:
        **cluster_resources("isometry_measure"),
    params:
        settings=job_section("isometry"),
        seed=RUN.seed,
    script:
        "../scripts/isometry_measure.py"


for _family in GEOMETRY_FAMILIES:

    rule:
        name:
            f"{_family}_collect"
        input:
            geometry_runs(_family),
        output:
            f"results/{_family}/{_family}.parquet",
        log:
            f"logs/{_family}/collect.log",
        conda:
            CONDA_ENV
        params:
            family_config=family_config(_family),
        script:
            "../scripts/collect_runs.py"

    rule:
        name:
            f"{_family}_notebook"
        input:
            notebook=repo_path(f"notebooks/{_family}.ipynb"),
            table=f"results/{_family}/{_family}.parquet",
        output:
            notebook=f"results/{_family}/notebook.ipynb",
            claims=f"results/{_family}/claims.json",
            figures=family_figures(_family, "Geometry of wide networks"),
        log:
            f"logs/{_family}/notebook.log",
        conda:
            CONDA_ENV
        params:
            parameters=notebook_parameters(_family),
        script:
            "../scripts/run_notebook.py"
