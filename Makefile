# The two commands of the README. Both set up .venv (pinned dependencies) on first use.
#   make run   — the default pipeline: every figure, small scale, CPU (results/report/index.html)
#   make test  — the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run test test-slurm smoke paper lint compare check-report clean-results

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# torch first and pinned: an unpinned torch pulled in by another package would download CUDA wheels.
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-nodeps.txt pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

run: $(VENV)/.installed
	$(BIN)/snakemake --cores $(CORES) --workflow-profile workflow/profiles/default
	$(BIN)/snakemake --cores 1 --report results/report.zip
	$(BIN)/snakemake --cores 1 --forcerun report_assemble results/report/index.html  # the page again, linking the zip

smoke: $(VENV)/.installed
	$(BIN)/snakemake --cores $(CORES) --configfile config/smoke.yaml

paper: $(VENV)/.installed
	$(BIN)/snakemake --cores $(CORES) --configfile config/paper.yaml

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

# The smoke config through workflow/profiles/slurm on a one-node SLURM cluster started here (needs root on Debian:
# installs slurm and munge), its tables compared with a local run. Minutes; not part of `make test`.
test-slurm: $(VENV)/.installed
	bash tests/slurm/run.sh

# What a change did to the science: claims whose verdict changed or whose number moved beyond its tolerance, between
# two results directories (e.g. make compare A=../other-checkout/results B=results).
compare: $(VENV)/.installed
	$(BIN)/python -m dltheory.compare $(A) $(B)

# The report as a reader opens it (needs Debian's chromium): no sideways scrolling at 1280 px, every link and image.
check-report: $(VENV)/.installed
	$(BIN)/python workflow/scripts/check_report.py results/report/index.html --screenshot results/report/first_screen.png

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests workflow/scripts benchmarks
	$(BIN)/snakemake --lint --configfile config/smoke.yaml
	$(BIN)/snakefmt --check Snakefile workflow/rules

clean-results:
	rm -rf results logs .snakemake/incomplete
