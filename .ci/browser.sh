#!/usr/bin/env bash
# The HTML report in a real browser (tests/browser.rs): installs Debian's
# chromium (nothing else is downloaded: playwright-core drives the system's
# browser) and playwright-core from npm (pinned by tests/browser/package-lock.json),
# then runs the browser test, which fails if either is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y chromium
fi
chromium --version
(cd tests/browser && npm ci --no-audit --no-fund)
cargo test --locked --test browser
