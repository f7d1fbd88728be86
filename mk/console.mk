# The web console (console/): Vue 3 + Element Plus, built by Vite into console/dist/ and served by the backend at
# /console/ (core/console.py). Its browser tests drive Debian's Chromium through playwright-core.
# Included by the main Makefile; `make run` builds the console, `make test` runs its browser tests.

CONSOLE_DIR := console
CONSOLE_SOURCES := $(shell find $(CONSOLE_DIR)/src $(CONSOLE_DIR)/public -type f 2>/dev/null) \
	$(CONSOLE_DIR)/index.html $(CONSOLE_DIR)/vite.config.js $(CONSOLE_DIR)/package.json
CHROMIUM ?= /usr/bin/chromium

# npm packages exactly as locked; again whenever the lock changes.
$(STAMPS)/console-npm: $(CONSOLE_DIR)/package.json $(CONSOLE_DIR)/package-lock.json | $(STAMPS)
	cd $(CONSOLE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Debian's Chromium and a CJK font for the browser tests (no browser is ever downloaded by npm). Installing needs
# root (CI is root); without root a missing Chromium stops here with the command to run, a missing font only warns.
.PHONY: console-chromium
console-chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "console: Chromium is missing; run: sudo apt-get install -y chromium fonts-wqy-microhei"; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei; \
	elif ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  if [ "$$(id -u)" != 0 ]; then echo "console: no Chinese font; screenshots will show boxes (apt-get install fonts-wqy-microhei)"; \
	  else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-wqy-microhei; fi; \
	fi

.PHONY: console-deps
console-deps: $(STAMPS)/console-npm console-chromium

# Rebuilt only when a source file, the lock or the config changed.
$(CONSOLE_DIR)/dist/index.html: $(STAMPS)/console-npm $(CONSOLE_SOURCES)
	cd $(CONSOLE_DIR) && npm run --silent build -- --logLevel warn
	@touch $@

.PHONY: console-build
console-build: $(CONSOLE_DIR)/dist/index.html

# Unit tests of the console's pure logic (money, where API errors go, chat card links): Node's test runner.
.PHONY: console-unit
console-unit: $(STAMPS)/console-npm
	cd $(CONSOLE_DIR) && node --test unit/

# A real backend on a free port with a scratch SQLite database (migrated, seeded), the browser tests, then it stops.
.PHONY: console-e2e
console-e2e: venv console-deps console-build
	cd $(CONSOLE_DIR) && PYTHON=$(abspath $(PY)) node e2e/run.mjs

# The screenshots in docs/screenshots/ (desktop and phone width), taken by the same browser walks.
.PHONY: console-screenshots
console-screenshots: venv console-deps console-build
	cd $(CONSOLE_DIR) && PYTHON=$(abspath $(PY)) SCREENSHOTS_DIR=../docs/screenshots node e2e/run.mjs

RUN_PREREQS += console-build
EXTRA_TESTS += console-unit console-e2e
