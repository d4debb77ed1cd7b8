# Two commands do everything on a fresh machine:
#   make run    create .venv, install the pinned dependencies, run every notebook (profile: cpu)
#   make test   unit tests, then every notebook under nbval (profile: smoke)

PYTHON ?= python3.11
VENV ?= .venv
PROFILE ?= cpu
PY := $(VENV)/bin/python
# The stamp is keyed on the requirements and on this checkout's path (the editable install points here),
# so editing a pin or moving the clone reinstalls, and a second `make` reuses the venv.
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | sha256sum | cut -c1-12)-$(shell pwd | sha256sum | cut -c1-8)
# The IPEX environment: torch 2.8 + Intel Extension for PyTorch, registered as the Jupyter kernel
# edge-vision-ipex in $(KERNEL_PREFIX) (the main venv by default, where `lib.run` and `make lab` look).
IPEX_VENV ?= .venv-ipex
IPEX_KERNEL ?= edge-vision-ipex
KERNEL_PREFIX ?= $(VENV)
PYTEST_NB := --nbval-lax --nbval-current-env --nbval-cell-timeout=900 -p no:cacheprovider

.PHONY: venv run test unit notebooks lab lab-settings lint clean-venv env-ipex test-browser

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (set PYTHON=...)"'
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name edge-vision --display-name "Edge Vision (.venv)" >/dev/null
	@rm -f $(VENV)/.installed-*
	@touch $@

run: venv
	$(PY) -m lib.run --profile $(PROFILE)

test: unit notebooks

unit: venv
	$(PY) -m pytest tests -p no:cacheprovider

notebooks: venv
	$(PY) -m pytest $(PYTEST_NB) notebooks/

# JupyterLab without its news feed, update check or extension catalogue: no request leaves the machine
lab-settings: venv
	@mkdir -p $(VENV)/share/jupyter/lab/settings $(VENV)/etc/jupyter
	@cp notebooks/lab-settings/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@cp notebooks/lab-settings/jupyter_lab_config.json $(VENV)/etc/jupyter/jupyter_lab_config.json

# JupyterLab in headless Chromium (Debian's chromium + chromium-driver): notebook 01 run in the browser,
# outputs checked, screenshot in saved/browser/. Not part of `make test`.
test-browser: lab-settings
	$(PY) -m pytest -m browser -p no:cacheprovider tests/browser

lab: lab-settings
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

lint: venv
	$(VENV)/bin/ruff check lib tests

clean-venv:
	rm -rf $(VENV)

# torch 2.8 + IPEX 2.8 in $(IPEX_VENV) (several GB to download), the project editable, kernel edge-vision-ipex
env-ipex:
	@test -x $(IPEX_VENV)/bin/python || $(PYTHON) -m venv $(IPEX_VENV)
	@$(IPEX_VENV)/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (set PYTHON=...)"'
	$(IPEX_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(IPEX_VENV)/bin/python -m pip install --progress-bar off -r requirements-ipex.txt
	$(IPEX_VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(IPEX_VENV)/bin/python -c 'import intel_extension_for_pytorch as ipex, torch; print("torch", torch.__version__, "ipex", ipex.__version__)'
	$(IPEX_VENV)/bin/python -m ipykernel install --prefix $(abspath $(KERNEL_PREFIX)) --name $(IPEX_KERNEL) --display-name "Edge Vision IPEX (.venv-ipex)" >/dev/null
	@echo "kernel $(IPEX_KERNEL) installed in $(abspath $(KERNEL_PREFIX))/share/jupyter/kernels"
