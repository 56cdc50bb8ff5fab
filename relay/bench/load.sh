#!/usr/bin/env bash
# Load check of wxface-relay (a benchmark, not a test): see relay/examples/load.rs.
# Needs redis-server. Tunables: WXFACE_BENCH_TERMINALS, WXFACE_BENCH_HITS, WXFACE_BENCH_UPSTREAM, WXFACE_BENCH_OUTAGE.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v redis-server >/dev/null || { echo "relay-bench: install redis-server" >&2; exit 1; }
cargo run --release -q -p wxface-relay --example load
