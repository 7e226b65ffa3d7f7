# gocrash: see README.md. Every target works on a fresh Debian 12 machine
# (as root, for the corpus build's apt-get and QEMU).

GO       ?= go
BIN      := bin/gocrash
CORPUS   ?= $(or $(GOCRASH_CORPUS),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/gocrash/corpus)
export GOCRASH_CORPUS := $(CORPUS)

.PHONY: all build demo test unit corpus bench timing vet docs clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/gocrash

# The demo dump: the corpus's Debian 12 x86_64 6.1 kdump capture (one
# run: not the 5.10 or 5-level-paging ones), compressed by makedumpfile.
# Recursive variables, so that they are read after the corpus is built.
DEMO_RUN     = $(firstword $(wildcard $(CORPUS)/dumps/x86_64-6.1.0-*-kdump))
DEMO_VMLINUX = $(CORPUS)/kernels/$(patsubst %-kdump,%,$(notdir $(DEMO_RUN)))/vmlinux

# Opens gocrash on the demo dump (built the first time, reused after).
demo: build corpus
	@test -n "$(DEMO_RUN)" || { echo "make demo: no x86_64 6.1 kdump run in $(CORPUS)/dumps"; exit 1; }
	@$(BIN) $(DEMO_RUN)/vmcore.zlib $(DEMO_VMLINUX)

# Every test, unit and integration; the integration tests run on the real
# corpus, which is built first if missing, and may not skip.
test: vet corpus
	GOCRASH_CORPUS_REQUIRED=1 $(GO) test -count=1 -timeout 60m ./...

# Unit tests only: no corpus needed.
unit:
	$(GO) test -count=1 -short ./...

corpus:
	bash testdata/corpus/build.sh

# vet also type-checks every package and test for each architecture the
# static binary is built for (CGO_ENABLED=0), so code that builds on only
# some of them fails here.
CROSS_ARCHS := amd64 arm64 ppc64le s390x riscv64 386 arm
vet:
	$(GO) vet ./...
	@for a in $(CROSS_ARCHS); do CGO_ENABLED=0 GOARCH=$$a $(GO) vet ./... || { echo "go vet: GOARCH=$$a fails"; exit 1; }; done
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || { echo "gofmt: files above need formatting"; exit 1; }

# Benchmarks on the corpus, with allocations (-benchmem): the start and
# each command path in cmd/gocrash (open, ps, foreach bt, kmem -s/-i,
# search -k, log, whatis and p cold and warm), the kernel model's walks in
# kernel/, the dump readers in memory/. The output goes to $(BENCH_OUT);
# BENCH_BASE=FILE (an earlier output) prints every benchmark as ratios to
# it and fails on a regression (scripts/benchdiff.sh).
BENCH_OUT ?= bench.txt
bench: corpus
	$(GO) test -run '^$$' -bench . -benchmem ./... | tee $(BENCH_OUT)
	@if [ -n "$(BENCH_BASE)" ]; then bash scripts/benchdiff.sh "$(BENCH_BASE)" "$(BENCH_OUT)"; fi

# Whole-process timings of gocrash, crash 8.0.2 and drgn on the same dump.
timing: build corpus
	bash scripts/timing.sh

docs: build
	$(BIN) --gen-docs docs/commands.md
	$(BIN) --gen-json-docs docs/json.md

clean:
	rm -rf bin
