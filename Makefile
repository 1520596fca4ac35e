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
# wixl (msitools) builds the MSI, dpkg-dev's dpkg-shlibdeps the .deb's
# Depends, osslsigncode signs; lintian checks the .deb, openssl makes the
# signing test's throw-away certificate.
BUILD_DEBS := gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
              libxinerama-dev libxi-dev libxxf86vm-dev gcc-mingw-w64-x86-64 \
              wixl msitools dpkg-dev osslsigncode
TEST_DEBS  := xvfb x11-utils imagemagick xdotool chromium gnome-keyring dbus dbus-x11 \
              haskell-status-notifier-item-utils haskell-gtk-sni-tray-utils \
              desktop-file-utils dex libsecret-tools wine wine64 lintian openssl

# What a build carries: VERSION (printed by `mailsync --version`, in the
# installers' names) from `git describe` (.ci/version says how), its x.y.z
# for Windows and the MSI, its Debian form; CLIENT_ID, the Entra app's
# application (client) ID built in as the default, so that a published
# build needs no setup (optional; a GUID).
VERSION  ?= $(shell .ci/version VERSION)
NUMVER   := $(shell .ci/version NUMERIC '$(VERSION)')
DEBVER   := $(shell .ci/version DEB '$(VERSION)')
CLIENT_ID ?=
LDFLAGS_X := -X mailsync/sync/agent.Version=$(VERSION) $(if $(CLIENT_ID),-X mailsync/sync/agent.BuildClientID=$(CLIENT_ID))
# fyne package takes link flags only from GOFLAGS, one -ldflags= each.
GOFLAGS_X := $(foreach x,$(filter-out -X,$(LDFLAGS_X)),-ldflags=-X=$(x))
check_client_id = @echo '$(CLIENT_ID)' | grep -Eqx '|[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}' || \
	{ echo "CLIENT_ID=$(CLIENT_ID) is not an application (client) ID: a GUID such as 00000000-0000-0000-0000-000000000000" >&2; exit 1; }

# Installers: bin/dist/MailSync-$(VERSION).msi and mailsync_$(DEBVER)_<arch>.deb.
DIST     := bin/dist
MSI      := $(DIST)/MailSync-$(VERSION).msi
DEB      := $(DIST)/mailsync_$(DEBVER)_$(shell dpkg --print-architecture 2>/dev/null || echo amd64).deb
PKGICONS := bin/pkg
# Signing (assets/windows/sign): with SIGN_PFX (a PKCS#12 file holding the
# code-signing certificate and key) and SIGN_PASS (its password), the exe
# and the MSI are signed with osslsigncode, and timestamped when
# SIGN_TIMESTAMP (an RFC 3161 URL) is given.
# They reach the script through the environment, so the password is never
# echoed with the command.
SIGN_PFX  ?=
SIGN_PASS ?=
SIGN_TIMESTAMP ?=
export SIGN_PFX SIGN_PASS SIGN_TIMESTAMP

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

.PHONY: help deps build windows msi deb dist darwin test-windows test-packages test test-short lint fuzz bench bench-idle run demo screenshots clean

help: ## List the targets.
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## Install the missing Debian packages the build and tests need.
	@.ci/deps $(BUILD_DEBS) -- $(TEST_DEBS)

build: deps ## Build bin/mailsync with VERSION (and CLIENT_ID=<guid>, the default Microsoft app, when given).
	$(check_client_id)
	$(GO) build -ldflags "$(LDFLAGS_X)" -o $(BIN) .

windows: deps ## Cross-build bin/mailsync.exe for Windows (GUI subsystem, icon, version info, manifest; VERSION, CLIENT_ID; signed with SIGN_PFX).
	$(check_client_id)
	@command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "windows: x86_64-w64-mingw32-gcc is missing (Debian gcc-mingw-w64-x86-64; make deps installs it)" >&2; exit 1; }
	@mkdir -p bin
	GOBIN=$(CURDIR)/bin $(GO) install $(FYNE_TOOL)
	@# fyne package names the exe after the app and counts builds in FyneApp.toml: keep the file as committed.
	@# It builds twice (plain, then with its resources) and hands GOFLAGS' link
	@# flags to the first build only; an existing --executable skips that one.
	cp FyneApp.toml bin/FyneApp.toml.keep
	: > mailsync.exe
	$(WIN_ENV) GOFLAGS="$(GOFLAGS_X)" bin/fyne package --os windows --release --app-version $(NUMVER) --app-build 1 --executable mailsync.exe || { mv bin/FyneApp.toml.keep FyneApp.toml; rm -f mailsync.exe; exit 1; }
	mv bin/FyneApp.toml.keep FyneApp.toml
	mv "Mail Sync.exe" $(WIN_EXE)
	assets/windows/sign $(WIN_EXE)

$(PKGICONS)/mailsync.ico: assets/icon.png assets/ico.go assets/internal/pkgicons/main.go
	$(GO) run ./assets/internal/pkgicons $(PKGICONS)

msi: windows $(PKGICONS)/mailsync.ico ## Build the per-user Windows installer bin/dist/MailSync-VERSION.msi (wixl; signed with SIGN_PFX).
	@command -v wixl >/dev/null || { echo "msi: wixl is missing (Debian wixl; make deps installs it)" >&2; exit 1; }
	@mkdir -p $(DIST)
	wixl -a x64 -D Version=$(NUMVER) -D Exe=$(WIN_EXE) -D Icon=$(PKGICONS)/mailsync.ico -o $(MSI) assets/windows/mailsync.wxs
	assets/windows/sign $(MSI)
	@ls -l $(MSI)

deb: deps $(PKGICONS)/mailsync.ico ## Build the Debian package bin/dist/mailsync_VERSION_ARCH.deb (dpkg-deb; VERSION, CLIENT_ID).
	$(check_client_id)
	@mkdir -p $(DIST) bin/deb
	$(GO) build -trimpath -buildmode=pie -ldflags "-s -w $(LDFLAGS_X)" -o bin/deb/mailsync .
	assets/linux/mkdeb bin/deb/mailsync $(PKGICONS) $(DEBVER) $(DEB)
	@ls -l $(DEB)

dist: msi deb ## Build every installer this machine can (the MSI and the .deb) into bin/dist; macOS needs a Mac (see README).
	@ls -l $(DIST)

darwin: ## Build bin/Mail Sync.app (on a Mac, with Xcode's command line tools; no Dock icon, see assets/darwin/Info.plist).
	@[ "$$(uname)" = Darwin ] || { echo "darwin: the macOS app is built on a Mac (cgo against Apple's frameworks): see README \"On macOS\"" >&2; exit 1; }
	GOBIN=$(CURDIR)/bin $(GO) install $(FYNE_TOOL)
	cp FyneApp.toml bin/FyneApp.toml.keep
	GOFLAGS="$(GOFLAGS_X)" bin/fyne package --os darwin --release --app-version $(NUMVER) --app-build 1 || { mv bin/FyneApp.toml.keep FyneApp.toml; exit 1; }
	mv bin/FyneApp.toml.keep FyneApp.toml
	@# No Dock icon (LSUIElement) and a category: assets/darwin/Info.plist.
	/usr/libexec/PlistBuddy -c "Delete :LSApplicationCategoryType" -c "Merge assets/darwin/Info.plist" "Mail Sync.app/Contents/Info.plist"
	rm -rf "bin/Mail Sync.app" && mv "Mail Sync.app" bin/

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

test: deps lint ## Vet, lint, and run every test with -race inside a real desktop session (Xvfb, D-Bus, gnome-keyring, tray host), the fuzzers briefly, the Windows suite under Wine, then the installers.
	.ci/desktop-session $(GO) test -race -count=1 -timeout 40m $(PKGS)
	$(MAKE) --no-print-directory fuzz FUZZTIME=10s FUZZTIME_BRIEF=5s
	$(MAKE) --no-print-directory test-windows
	$(MAKE) --no-print-directory test-packages

MSITEST := bin/msitest
test-packages: msi deb $(WINE_SHIM) ## Test the installers: sign and verify the exe and MSI; install, upgrade, downgrade and remove the MSI under Wine; inspect the .deb.
	.ci/sign-test $(WIN_EXE) $(MSI)
	.ci/deb-tests $(DEB) $(VERSION) $(DEBVER)
	@# The upgrade needs two versions: this one and the next patch, same exe.
	@mkdir -p $(MSITEST)
	wixl -a x64 -D Version=$(NUMVER) -D Exe=$(WIN_EXE) -D Icon=$(PKGICONS)/mailsync.ico -o $(MSITEST)/old.msi assets/windows/mailsync.wxs
	wixl -a x64 -D Version=$$(echo $(NUMVER) | awk -F. '{print $$1"."$$2"."$$3+1}') -D Exe=$(WIN_EXE) -D Icon=$(PKGICONS)/mailsync.ico -o $(MSITEST)/new.msi assets/windows/mailsync.wxs
	.ci/wine-session $(WINE_SHIM) .ci/msi-tests $(WIN_EXE) $(MSITEST)/old.msi $(MSITEST)/new.msi $(VERSION)

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

bench: deps ## Benchmark one pass (50 ms per request) at 1k/10k/100k messages, the first pass over 10k at 20 ms, a quiet pass (20/50 ms; 26/10k) and a 90-day backfill over 50k at 20 ms against the fakes; print the tables.
	$(GO) test -run '^$$' -bench 'BenchmarkPass|BenchmarkFirstPass|BenchmarkQuietPass|BenchmarkBackfill' -benchtime 1x -timeout 60m ./sync/engine/ > bench.txt || { cat bench.txt; exit 1; }
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
