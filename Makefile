# Mail Sync — `make help` lists the targets.
#
# Every target that builds or tests first runs `deps`, which installs the
# Debian packages the cgo build (Fyne) and the tests (Xvfb, Chromium,
# gnome-keyring, D-Bus, a tray host) need, and only those that are missing.

SHELL := /bin/sh
GO    ?= go
BIN   := bin/mailsync
PKGS  := ./...
export LANG := en_US.UTF-8
export CGO_ENABLED := 1

# Debian packages: the cgo headers Fyne's GLFW driver builds against, and
# the real desktop parts the tests drive.
BUILD_DEBS := gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
              libxinerama-dev libxi-dev libxxf86vm-dev
TEST_DEBS  := xvfb x11-utils imagemagick xdotool chromium gnome-keyring dbus dbus-x11 \
              haskell-status-notifier-item-utils haskell-gtk-sni-tray-utils \
              desktop-file-utils dex libsecret-tools

.PHONY: help deps build test test-short lint fuzz bench bench-idle run demo screenshots clean

help: ## List the targets.
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## Install the missing Debian packages the build and tests need.
	@.ci/deps $(BUILD_DEBS) -- $(TEST_DEBS)

build: deps ## Build bin/mailsync.
	$(GO) build -o $(BIN) .

test: deps lint ## Vet, lint, and run every test with -race inside a real desktop session (Xvfb, D-Bus, gnome-keyring, tray host), then the fuzzers briefly.
	.ci/desktop-session $(GO) test -race -count=1 -timeout 40m $(PKGS)
	$(MAKE) --no-print-directory fuzz FUZZTIME=10s FUZZTIME_BRIEF=5s

test-short: ## Unit tests only, no desktop session (fast feedback).
	$(GO) test -short -count=1 $(PKGS)

lint: ## gofmt, go vet and staticcheck.
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	 if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

FUZZTIME ?= 30s
# FUZZPKGS run each target for FUZZTIME; FUZZPKGS_BRIEF (the ClientSuccess
# answer readers, the note's Message-ID finder, the Graph list and batch
# answers, the ID token and Retry-After: many small targets) for
# FUZZTIME_BRIEF, so that `make test` stays short.
FUZZPKGS = ./sync/match/
FUZZPKGS_BRIEF = ./sync/crm/ ./sync/engine/ ./sync/graph/ ./sync/remote/
FUZZTIME_BRIEF ?= $(FUZZTIME)
fuzz: ## Run each fuzz target for FUZZTIME (default 30s).
	@for p in $(FUZZPKGS) $(FUZZPKGS_BRIEF); do \
	   ft=$(FUZZTIME); case " $(FUZZPKGS_BRIEF) " in *" $$p "*) ft=$(FUZZTIME_BRIEF);; esac; \
	   for t in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
	     echo "fuzz $$p $$t ($$ft)"; \
	     $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $$ft $$p || exit 1; \
	   done; \
	 done

bench: deps ## Benchmark one pass (50 ms per request) at 1k/10k/100k messages, the first pass over 10k at 20 ms, and a quiet pass (20/50 ms; 26/10k) against the fakes; print the tables.
	$(GO) test -run '^$$' -bench 'BenchmarkPass|BenchmarkFirstPass|BenchmarkQuietPass' -benchtime 1x -timeout 60m ./sync/engine/ > bench.txt || { cat bench.txt; exit 1; }
	@.ci/bench-table bench.txt

bench-idle: build ## Measure the idle agent against a minimal Fyne tray app (CPU, memory, context switches).
	.ci/desktop-session .ci/bench-idle $(BIN)

run: build ## Build and run the agent against the real Microsoft 365 and ClientSuccess.
	./$(BIN)

demo: build ## Build and run the app against the built-in sandbox (fake Microsoft 365 + ClientSuccess).
	./$(BIN) demo

screenshots: build ## Render the settings window in each state under Xvfb into docs/.
	.ci/desktop-session $(GO) run ./app/settings/internal/shots docs

clean: ## Remove build output.
	rm -rf bin bench.txt
