# Switchyard: the two commands of the README, and their parts.
SHELL := /bin/bash
GO ?= go
# Every module of go.work: the engine (pkg), shared server code (pkg/platform), test
# kits (pkg/testinfra), the two services, migrations, deployments and the tools.
MODULES := $(patsubst ./%,%,$(shell scripts/gen-go-work -list))
PACKAGES := $(addprefix ./,$(addsuffix /...,$(MODULES)))

.PHONY: test lint unit bench chaos run fuzz work

## test: the whole suite: formatting, vet in every module on its own, and every test,
## integration tests included, against the real PostgreSQL and Redis that scripts/test
## starts and stops
test: lint unit

## lint: gofmt check, and go vet inside each module with GOWORK=off, which also proves
## each module builds on its own through its replace lines
lint:
	@out=$$(gofmt -l $(MODULES) | sort -u); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	@for m in $(MODULES); do echo "go vet ($$m, GOWORK=off)"; (cd $$m && GOWORK=off $(GO) vet ./...) || exit 1; done

## unit: every module's tests with the race detector, against real servers
unit:
	scripts/test $(PACKAGES)

## bench: the Go benchmarks (engine, compile, cache levels, handlers, the Go SDK), then
## wrk load runs against the evaluator and an HTTP floor, memory with 10,000 flags,
## propagation (evaluator, Go SDK, OFREP web provider in Chromium), and fan-out to
## 10,000 event streams with the stream limits; the report goes to
## .data/bench/report.md (see docs/BENCHMARKS.md)
bench:
	scripts/bench

## chaos: admin + two evaluators under mixed load while Redis and PostgreSQL are
## stopped and crashed (SIGKILL), and one evaluator and the admin restarted; every
## fault is confirmed and every count has a minimum; fails when a check does
## (see docs/RELIABILITY.md)
chaos:
	scripts/chaos

## fuzz: each fuzz target for FUZZTIME (default 30s): evaluation, validation, the
## playground's explanations, semver,
## and the evaluator's public request decoding
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./pkg/eval -run '^$$' -fuzz '^FuzzEvaluate$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/eval -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/eval -run '^$$' -fuzz '^FuzzExplain$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/semver -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./services/evaluator/internal/api -run '^$$' -fuzz '^FuzzRequestDecoding$$' -fuzztime $(FUZZTIME)

## mutate: the hand-written mutants of scripts/mutate (engine, validation, semver, the
## cache's fence scripts), each against its package's tests in a private copy;
## fails when one survives (~2 min). MUTANTS=regex runs only those whose id matches
.PHONY: mutate
mutate:
	scripts/mutate $(MUTANTS)

## run: start the whole stack locally (Ctrl-C stops it)
run:
	scripts/run

## work: regenerate go.work
work:
	scripts/gen-go-work
