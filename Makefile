# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
SAMPLE := corpora/sample-round

.PHONY: install browser office demo test test-fast lint bench defaults clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The CPU build of torch first: a looser spec pulled in later would fetch a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: install
	$(BIN)/consult run $(SAMPLE)

lint: install
	$(BIN)/ruff check pipeline tests bench

# Browser tests need Debian's Chromium, its driver and a CJK font; installed when missing.
browser:
	@if [ ! -x /usr/bin/chromedriver ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  (apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-noto-cjk) \
	  || echo "warning: could not install chromium; browser tests will be skipped"; fi

# LibreOffice (writer) converts report.docx to PDF in the Word-report test; skipped without it.
office:
	@if ! command -v soffice >/dev/null 2>&1; then \
	  (apt-get update -qq && apt-get install -y -qq libreoffice-writer-nogui poppler-utils) \
	  || (apt-get install -y -qq libreoffice-writer poppler-utils) \
	  || echo "warning: could not install LibreOffice; the report.docx PDF test will be skipped"; fi

test: install lint browser office
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

bench: install
	$(BIN)/python bench/ingest_round.py

# Regenerate configs/default.yaml from the validated config models.
defaults: install
	$(BIN)/python -m pipeline.config > configs/default.yaml

clean:
	rm -rf $(VENV) reports/*/
