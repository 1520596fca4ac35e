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
# gcc-mingw-w64-x86-64 cross-builds the Windows exe (cgo for Fyne) and the
# Wine shim; wine/wine64 run the Windows suite.
BUILD_DEBS := gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
              libxinerama-dev libxi-dev libxxf86vm-dev gcc-mingw-w64-x86-64
TEST_DEBS  := xvfb x11-utils imagemagick xdotool chromium gnome-keyring dbus dbus-x11 \
              haskell-status-notifier-item-utils haskell-gtk-sni-tray-utils \
              desktop-file-utils dex libsecret-tools wine wine64

# The Windows build: cross-compiled with mingw-w64. The resources (icon from
# FyneApp.toml's assets/icon.png, version information, manifest) and the
# GUI subsystem (-H windowsgui) come from `fyne package` of fyne.io/tools,
# installed into bin/ at this pinned version.
WIN_ENV   := GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc
FYNE_TOOL := fyne.io/tools/cmd/fyne@v1.7.4
WIN_EXE   := bin/mailsync.exe
WINE_DIR  := bin/wine
WINE_SHIM := $(WINE_DIR)/bcryptprimitives.dll
# Packages whose Windows code the Wine suite runs: Credential Manager
# secrets (chunked), the Run key, the named pipe, the engine, the tray ICOs,
# the policy in the registry.
WINE_PKGS := storage storage/storagetest app/autostart sync/agentapi sync/engine app/tray sync/policy

.PHONY: help deps build windows test-windows test test-short lint fuzz bench bench-idle run demo screenshots clean

help: ## List the targets.
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## Install the missing Debian packages the build and tests need.
	@.ci/deps $(BUILD_DEBS) -- $(TEST_DEBS)

build: deps ## Build bin/mailsync.
	$(GO) build -o $(BIN) .

windows: deps ## Cross-build bin/mailsync.exe for Windows (GUI subsystem, icon, version info, manifest).
	@command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "windows: x86_64-w64-mingw32-gcc is missing (Debian gcc-mingw-w64-x86-64; make deps installs it)" >&2; exit 1; }
	@mkdir -p bin
	GOBIN=$(CURDIR)/bin $(GO) install $(FYNE_TOOL)
	@# fyne package names the exe after the app and counts builds in FyneApp.toml: keep the file as committed.
	cp FyneApp.toml bin/FyneApp.toml.keep
	$(WIN_ENV) bin/fyne package --os windows --release --app-build 1 || { mv bin/FyneApp.toml.keep FyneApp.toml; exit 1; }
	mv bin/FyneApp.toml.keep FyneApp.toml
	mv "Mail Sync.exe" $(WIN_EXE)

$(WINE_SHIM): .ci/ProcessPrng.c .ci/ProcessPrng.def
	@mkdir -p $(WINE_DIR)
	x86_64-w64-mingw32-gcc -O2 -shared -s -o $@ $^ -lbcrypt

test-windows: windows $(WINE_SHIM) ## Run the Windows build under Wine: the Windows test binaries, then the agent end to end against the sandbox.
	.ci/wine-overlay $(WINE_DIR)
	@for p in $(WINE_PKGS); do \
	   echo "cross-build the tests of $$p"; \
	   $(WIN_ENV) $(GO) test -c -overlay $(WINE_DIR)/overlay.json -o $(WINE_DIR)/$$(echo $$p | tr / _).test.exe ./$$p || exit 1; \
	 done
	.ci/wine-session $(WINE_SHIM) .ci/wine-tests $(WINE_DIR) $(WIN_EXE) $(WINE_PKGS)

test: deps lint ## Vet, lint, and run every test with -race inside a real desktop session (Xvfb, D-Bus, gnome-keyring, tray host), the fuzzers briefly, then the Windows suite under Wine.
	.ci/desktop-session $(GO) test -race -count=1 -timeout 40m $(PKGS)
	$(MAKE) --no-print-directory fuzz FUZZTIME=10s FUZZTIME_BRIEF=5s
	$(MAKE) --no-print-directory test-windows

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
# .ci/fuzz-target fails on any failing input (a new file under testdata/fuzz,
# printed) and runs a target again only when the fuzz engine lost its worker
# without writing one.
fuzz: ## Run each fuzz target for FUZZTIME (default 30s).
	@for p in $(FUZZPKGS) $(FUZZPKGS_BRIEF); do \
	   ft=$(FUZZTIME); case " $(FUZZPKGS_BRIEF) " in *" $$p "*) ft=$(FUZZTIME_BRIEF);; esac; \
	   ts=$$($(GO) test -list '^Fuzz' $$p) || { echo "$$ts"; exit 1; }; \
	   for t in $$(echo "$$ts" | grep '^Fuzz'); do \
	     echo "fuzz $$p $$t ($$ft)"; \
	     GO="$(GO)" .ci/fuzz-target $$p $$t $$ft || exit 1; \
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
