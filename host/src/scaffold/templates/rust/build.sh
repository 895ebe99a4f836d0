#!/bin/sh
# Builds {{name}} into target/{{name}}.wasm, where tests/{{name}}.yaml looks for it:
# cargo compiles the crate for wasm32-wasip2 (the SDK writes the manifest declared in
# src/lib.rs into the component), then `scope-host plugin inspect` loads it as a run
# would, so a component this host cannot run fails here. Runs from any folder.
# CARGO_TARGET_DIR, when set, is where cargo builds (e.g. shared between projects).
set -eu
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo not found: install Rust (https://rustup.rs), then: rustup target add wasm32-wasip2" >&2
  exit 2
fi
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx wasm32-wasip2; then
  echo "error: the wasm32-wasip2 target is not installed: rustup target add wasm32-wasip2" >&2
  exit 2
fi

target=${CARGO_TARGET_DIR:-$here/target}
cargo build --release --target wasm32-wasip2 --manifest-path "$here/Cargo.toml" --target-dir "$target"
mkdir -p "$here/target"
cp "$target/wasm32-wasip2/release/{{crate}}.wasm" "$here/target/{{name}}.wasm"

scope_host=${SCOPE_HOST:-scope-host}
if ! command -v "$scope_host" >/dev/null 2>&1; then
  echo "error: scope-host not found on PATH (or set SCOPE_HOST to it): it checks the component loads" >&2
  exit 2
fi
summary=$("$scope_host" plugin inspect "$here/target/{{name}}.wasm") || exit 1
echo "built $here/target/{{name}}.wasm: $(echo "$summary" | head -n 1)"
