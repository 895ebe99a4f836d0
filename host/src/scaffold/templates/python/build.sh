#!/bin/sh
# Builds {{name}} into target/{{name}}.wasm, where tests/{{name}}.yaml looks for it,
# with the Python SDK's build command (scope-step/sdk/python/scope-step-build):
# componentize-py turns app.py and the SDK into a component, then
# `scope-host plugin pack` writes step.toml into it and checks it loads. Runs from any
# folder. The tools are found as scope-step-build's error messages explain (set
# COMPONENTIZE_PY or SCOPE_HOST to point at them).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/scope-step/sdk/python/scope-step-build" "$here" -o "$here/target/{{name}}.wasm"
