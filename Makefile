# lpn — the two commands a new user needs are `make demo` and `make test`; both set up what they need.
#
#   make setup     .venv with the pinned Python set; Debian ARM toolchain + QEMU (when root)
#   make demo      the end-to-end job (writes build/demo/report.md)
#   make test      the test suite (fast; what CI runs)      make test-all   also the `slow` tests
#   make bench     benchmarks -> build/bench/report.md       make lint       ruff
#   make export    MODEL=... -> build/export/               make firmware   host + Cortex-M builds
#   make qemu      MODEL=... on emulated Cortex-M4           make clean
#   make fuzz      libFuzzer smoke (60 s)                    make fuzz-long  hours

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.lpn-setup-stamp
TOOLCHAIN_STAMP := build/.toolchain-ok
APT_PACKAGES := gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm clang libclang-rt-14-dev
PYTEST := $(BIN)/python -m pytest

.PHONY: setup demo test test-all bench export firmware qemu board flash lint clean toolchain fuzz fuzz-long fuzz-regressions

setup: $(STAMP) $(TOOLCHAIN_STAMP)

# Python: re-installs only when pyproject.toml changes, so a second `make setup` does nothing slow.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# Debian packages for Cortex-M builds and emulation: installed when missing and running as root,
# otherwise the exact command is printed together with what will not work without it.
$(TOOLCHAIN_STAMP):
	@if command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null \
	    && arm-none-eabi-gcc -mthumb -mcpu=cortex-m4 -print-file-name=libc_nano.a | grep -q / \
	    && command -v clang >/dev/null && clang -print-file-name=libclang_rt.fuzzer-x86_64.a | grep -q /; then \
	  mkdir -p build && touch $@; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "installing $(APT_PACKAGES)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) \
	    >/dev/null && mkdir -p build && touch $@; \
	else \
	  echo "NOTE: the ARM toolchain and QEMU are missing. Install them with:"; \
	  echo "  sudo apt-get install -y --no-install-recommends $(APT_PACKAGES)"; \
	  echo "Without them: no Cortex-M builds, no emulated runs (qemu-* backends), no fuzzing (clang),"; \
	  echo "and those tests fail."; \
	fi

toolchain: $(TOOLCHAIN_STAMP)

demo: setup
	$(BIN)/lpn demo

test: setup
	$(PYTEST) -m "not slow"

test-all: setup
	$(PYTEST)

# Every benchmark of bench/, side by side, into build/bench/report.md (BENCH_FLAGS=--quick for a smoke run)
bench: setup
	$(BIN)/python bench/report.py $(BENCH_FLAGS)

# Export a trained QAT model (.keras): make export MODEL=qat.keras [OPS=lpn|builtin]
EXPORT_MODEL ?= $(if $(MODEL),$(MODEL),build/demo/model_shift_qat.keras)
OPS ?= lpn
export: setup
	@test -e $(EXPORT_MODEL) || { echo "no model at $(EXPORT_MODEL): run 'make demo' or pass MODEL=qat.keras"; exit 2; }
	@mkdir -p build/export
	$(BIN)/lpn export $(EXPORT_MODEL) -o build/export/$(basename $(notdir $(EXPORT_MODEL)))_$(OPS).tflite \
	  --ops $(OPS) --representative 64

# Host library + CLI runner, the sanitized build, the QEMU plugin, and the Cortex-M runner objects
# (reference and optimized kernels) for every emulated core.
firmware: setup
	$(MAKE) -s -C firmware host host-asan insn-count-plugin
	for t in m4 m7 m33; do \
	  for k in ref cortex-m; do $(MAKE) -s -C firmware runner TARGET=$$t LPN_KERNELS=$$k || exit 1; done; \
	done

# Run a model on emulated Cortex-M4 with per-op instruction counts: make qemu MODEL=model.tflite
QEMU_MODEL ?= $(if $(MODEL),$(MODEL),build/demo/model_lpn.tflite)
qemu: setup
	@test -f $(QEMU_MODEL) || { echo "no model at $(QEMU_MODEL): run 'make demo' or pass MODEL=file.tflite"; exit 2; }
	$(BIN)/lpn profile $(QEMU_MODEL) --target m4 --kernels cortex-m

# Real boards (docs/boards.md), untested on hardware:
#   make board|flash BOARD=nucleo-f446re MODEL=m.tflite [INPUT=x.bin] [LPN_KERNELS=cortex-m]
BOARD ?= nucleo-f446re
board flash: setup
	@test -f "$(MODEL)" || { echo "no model at '$(MODEL)': pass MODEL=file.tflite (see docs/boards.md)"; exit 2; }
	$(MAKE) -C firmware $@ BOARD=$(BOARD) MODEL=$(abspath $(MODEL)) $(if $(INPUT),INPUT=$(abspath $(INPUT))) \
		$(if $(LPN_KERNELS),LPN_KERNELS=$(LPN_KERNELS))

# libFuzzer on the firmware's .tflite reader + planner + one invoke, under ASan + UBSan
# (firmware/fuzz/; docs/reliability.md). FUZZ_SECONDS / FUZZ_LONG_SECONDS / FUZZ_JOBS set the budget.
fuzz: setup
	$(MAKE) -C firmware/fuzz fuzz FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60)

fuzz-long: setup
	$(MAKE) -C firmware/fuzz fuzz-long FUZZ_LONG_SECONDS=$(or $(FUZZ_LONG_SECONDS),14400) FUZZ_JOBS=$(or $(FUZZ_JOBS),1)

fuzz-regressions: setup
	$(MAKE) -C firmware/fuzz fuzz-regressions

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf build .pytest_cache .ruff_cache
