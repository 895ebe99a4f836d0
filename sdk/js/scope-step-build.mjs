#!/usr/bin/env node
// Builds a JavaScript step into a scope-host plugin: rolldown bundles the
// folder's `app.js`, its imports and this SDK (imported as 'scope-step') into one
// ES module; componentize-js turns it into a component of the world `step.toml`
// names; `scope-host plugin pack` writes the manifest into it and checks it loads.
//
//   sdk/js/scope-step-build.mjs plugins/examples/js -o stamp-version.wasm
//
// Tools, each from its environment variable, else where this repository puts it,
// else PATH: SCOPE_HOST (target/debug or target/release after `cargo build`),
// SCOPE_STEP_WIT (the contract, wit/ of this repository), COMPONENTIZE_JS_DIR (a
// folder whose node_modules holds componentize-js and rolldown; scripts/guest-tools
// installs them into target/guest-tools/js; also looked for in toolchain/ here,
// after `npm ci --prefix <this folder>/toolchain`, and in guest-tools/js beside the
// folder scope-host is in, so a project made by `scope-host new` finds the tools
// of the checkout its scope-host was built in).
//
// `scope-host new` copies this SDK with the contract into a project's scope-step/
// (sdk/js/ and wit/ there, as here), so "this repository" is then that folder.

import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const SDK = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(SDK, '../..');

function fail(message, code = 2) {
  console.error(`error: ${message}`);
  process.exit(code);
}

function usage() {
  return 'usage: scope-step-build.mjs <folder with app.js and step.toml> -o <plugin.wasm> [--app app.js]';
}

function findToolchain(scopeHost) {
  const cliOf = (dir) => join(dir, 'node_modules/@bytecodealliance/componentize-js/src/cli.js');
  const installed = (dir) => existsSync(cliOf(dir)) && existsSync(join(dir, 'node_modules/rolldown/package.json'));
  const pins = join(SDK, 'toolchain');
  const candidates = process.env.COMPONENTIZE_JS_DIR
    ? [process.env.COMPONENTIZE_JS_DIR]
    : [join(REPO, 'target/guest-tools/js'), pins, join(guestToolsBeside(scopeHost), 'js')];
  const dir = candidates.find(installed);
  if (!dir) {
    fail(
      `componentize-js and rolldown not found in ${candidates.join(', ')}: install the pinned versions with ` +
        `\`npm ci --prefix ${pins}\`, or run scripts/guest-tools in a scope-host checkout (it installs them into target/guest-tools/js), ` +
        'or set COMPONENTIZE_JS_DIR to a folder whose node_modules holds them',
    );
  }
  return { dir, cli: cliOf(dir) };
}

// Where scripts/guest-tools put the toolchains of the checkout `scopeHost` was
// built in: target/guest-tools, beside target/debug and target/release.
function guestToolsBeside(scopeHost) {
  const binary = scopeHost.includes('/') ? scopeHost : spawnSync('sh', ['-c', 'command -v "$0"', scopeHost], { encoding: 'utf8' }).stdout.trim();
  try {
    return resolve(dirname(realpathSync(binary)), '..', 'guest-tools');
  } catch {
    return resolve(dirname(binary || '.'), '..', 'guest-tools');
  }
}

function findScopeHost() {
  if (process.env.SCOPE_HOST) return process.env.SCOPE_HOST;
  for (const candidate of [join(REPO, 'target/debug/scope-host'), join(REPO, 'target/release/scope-host')]) {
    if (existsSync(candidate)) return candidate;
  }
  const onPath = spawnSync('sh', ['-c', 'command -v scope-host'], { encoding: 'utf8' }).stdout.trim();
  return onPath || fail('scope-host not found: install it, or build it with `cargo build -p scope-host` in a scope-host checkout, or set SCOPE_HOST to its path');
}

// The world is the manifest's `kind`; `plugin pack` validates the whole file later
// (and refuses a component of the other world), so a top-level line is enough here.
function worldOf(manifest) {
  let text;
  try {
    text = readFileSync(manifest, 'utf8');
  } catch (e) {
    fail(`reading ${manifest}: ${e.code}; a step folder holds app.js and step.toml`);
  }
  const topLevel = text.split(/^\s*\[/m)[0];
  const kind = /^\s*kind\s*=\s*"([^"]*)"/m.exec(topLevel)?.[1] ?? 'step';
  if (kind !== 'step' && kind !== 'check') {
    fail(`${manifest}: kind = "${kind}" is neither "step" nor "check"`);
  }
  return kind;
}

function run(label, command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (result.status !== 0) {
    fail(`${label} failed (exit ${result.status ?? result.signal}); see above`, 1);
  }
}

// Stack traces inside the component point into the bundle, which the author never
// sees. The build appends a table from each bundle line to its source file and
// line (decoded from rolldown's source map), which the SDK uses to report errors
// as `app.js:12`. Appended at the end, it moves no line of the bundle.
function appendLineTable(bundled, folder) {
  const map = JSON.parse(readFileSync(`${bundled}.map`, 'utf8'));
  const sources = map.sources.map((s) => {
    const file = resolve(dirname(bundled), s);
    return file.startsWith(SDK) ? `scope-step/${relative(SDK, file)}` : relative(folder, file);
  });
  // Source index and line are deltas across the whole map, so every segment is
  // decoded in order; a bundle line maps to where its first mapped segment came from.
  let source = 0;
  let line = 0;
  const lines = map.mappings.split(';').map((segments) => {
    let first = 0;
    for (const segment of segments.split(',').filter(Boolean)) {
      const fields = decodeVlq(segment);
      if (fields.length < 4) continue;
      source += fields[1];
      line += fields[2];
      first ||= [source, line];
    }
    return first;
  });
  appendFileSync(bundled, `\nglobalThis.__scopeStepLines = ${JSON.stringify({ sources, lines })};\n`);
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The numbers of one source-map segment (base64 VLQ). */
function decodeVlq(segment) {
  const numbers = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64.indexOf(char);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      numbers.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return numbers;
}

async function bundle(toolchain, entry, into) {
  const { rolldown } = await import(pathToFileURL(join(toolchain.dir, 'node_modules/rolldown/dist/index.mjs')).href);
  const build = await rolldown({
    input: entry,
    // The host's interfaces are the component's imports, not modules to bundle.
    external: (id) => id.startsWith('scope:') || id.startsWith('wasi:'),
    resolve: { alias: { 'scope-step': join(SDK, 'index.js') } },
    logLevel: 'warn',
  });
  await build.write({ file: into, format: 'esm', minify: false, sourcemap: true });
  await build.close();
  appendLineTable(into, dirname(entry));
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { output: { type: 'string', short: 'o' }, app: { type: 'string', default: 'app.js' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(usage());
    return;
  }
  if (positionals.length !== 1 || !values.output) fail(usage());
  const folder = resolve(positionals[0]);
  const output = resolve(values.output);
  const manifest = join(folder, 'step.toml');
  const world = worldOf(manifest);
  const entry = join(folder, values.app);
  if (!existsSync(entry)) {
    fail(`${entry} is missing: it exports \`${world === 'step' ? 'run' : 'check'}\` = define${world === 'step' ? 'Step' : 'Check'}(...)`);
  }
  const scopeHost = findScopeHost();
  const toolchain = findToolchain(scopeHost);
  const wit = process.env.SCOPE_STEP_WIT || join(REPO, 'wit');

  const started = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), 'scope-step-build-'));
  try {
    const bundled = join(tmp, 'step.js');
    try {
      await bundle(toolchain, entry, bundled);
    } catch (e) {
      // rolldown's message already shows the author's file, line and the code;
      // its Node stack is about rolldown, not the step.
      fail(`bundling ${entry} failed: ${String(e.message ?? e).replace(/^Build failed with \d+ errors?:\s*/, '')}`, 1);
    }
    console.error(`building ${basename(folder)} with componentize-js (it takes 15-30 s: it starts a JS engine and snapshots it)...`);
    const unpacked = join(tmp, 'unpacked.wasm');
    // -d http fetch-event: a step has no HTTP of its own; the host makes every call.
    run('componentize-js', process.execPath, [toolchain.cli, bundled, '--wit', wit, '--world-name', world, '-d', 'http', 'fetch-event', '-o', unpacked], {
      cwd: tmp,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    mkdirSync(dirname(output), { recursive: true });
    run('scope-host plugin pack', scopeHost, ['plugin', 'pack', unpacked, '--manifest', manifest, '-o', output]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`built ${values.output} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

await main();
