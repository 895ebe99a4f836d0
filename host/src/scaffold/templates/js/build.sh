#!/bin/sh
# Builds {{name}} into target/{{name}}.wasm, where tests/{{name}}.yaml looks for it,
# with the JavaScript SDK's build command (scope-step/sdk/js/scope-step-build.mjs):
# rolldown bundles app.js, its imports and the SDK, componentize-js turns the bundle
# into a component, then `scope-host plugin pack` writes step.toml into it and checks
# it loads. Runs from any folder. The tools are found as scope-step-build.mjs's error
# messages explain (set COMPONENTIZE_JS_DIR or SCOPE_HOST to point at them).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec node "$here/scope-step/sdk/js/scope-step-build.mjs" "$here" -o "$here/target/{{name}}.wasm"
