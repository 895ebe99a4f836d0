// scope-step: write scope-host steps and diagnose checks in JavaScript.
//
// A step is a plain function returning its outputs; a check returns a verdict.
// Export it under the name the contract's world gives it:
//
//   import { defineStep, getVar, log } from 'scope-step';
//
//   export const run = defineStep(() => {
//     const who = getVar('WHO', 'world');
//     log.info(`hello, ${who}`);
//     return { GREETING: `hello, ${who}` };
//   });
//
// Cloud calls go through the host (`lambda`, `tagging`, `ecr`, `iam`, `logs`, `secrets`,
// `providers`, `credentials`): the contract's functions in camelCase with records
// as plain objects (`option` is `undefined` or the value), but a failed call
// throws `Denied`, `CloudError`, `InvalidArgument` or `LimitReached`. Whatever the
// function throws ends the step as a failure with a message, never a trap.
//
// Build with `sdk/js/scope-step-build.mjs <folder> -o step.wasm` (the folder holds
// `app.js` and `step.toml`).

import * as apigatewayWit from 'scope:step/apigateway@0.2.0';
import * as cloudwatchWit from 'scope:step/cloudwatch@0.2.0';
import * as contextWit from 'scope:step/context@0.2.0';
import * as credentialsWit from 'scope:step/credentials@0.2.0';
import * as ecrWit from 'scope:step/ecr@0.2.0';
import * as elbWit from 'scope:step/elb@0.2.0';
import * as iamWit from 'scope:step/iam@0.2.0';
import * as lambdaWit from 'scope:step/lambda@0.2.0';
import * as logWit from 'scope:step/log@0.2.0';
import * as logsWit from 'scope:step/logs@0.2.0';
import * as platformWit from 'scope:step/platform@0.2.0';
import * as providersWit from 'scope:step/providers@0.2.0';
import * as route53Wit from 'scope:step/route53@0.2.0';
import * as secretsWit from 'scope:step/secrets@0.2.0';
import * as taggingWit from 'scope:step/tagging@0.2.0';
import { fromCallError, isStepErrorVariant, readableStack, toStepError } from './contract.js';
import { InvalidInput, StepError } from './errors.js';

export * from './errors.js';

// Host interfaces.

/** A host interface whose functions throw typed errors. */
function typedInterface(module) {
  const wrapped = {};
  for (const [name, value] of Object.entries(module)) {
    wrapped[name] =
      typeof value === 'function' && !isClass(value)
        ? (...args) => {
            try {
              return value(...args);
            } catch (thrown) {
              throw fromCallError(thrown);
            }
          }
        : value;
  }
  return Object.freeze(wrapped);
}

// Resources (e.g. credentials' `Identity`) are classes: they pass through.
function isClass(f) {
  return /^class\b/.test(Function.prototype.toString.call(f));
}

// The contract's closed sets (function state, update status, provisioned-concurrency
// status, architecture, package type) are variants, `{ tag: 'in-progress' }`; AWS
// spells them differently per set.
const AWS_SPELLINGS = {
  'provisioned-concurrency-status': { 'in-progress': 'IN_PROGRESS', ready: 'READY', failed: 'FAILED' },
  architecture: { 'x86-64': 'x86_64', arm64: 'arm64' },
};

/**
 * A state, status, architecture or package type as AWS spells it:
 * `awsName(config.state)` is 'Active', `awsName(config.architectures[0], 'architecture')`
 * is 'arm64', `awsName(pc.status, 'provisioned-concurrency-status')` is 'READY'.
 * Without a set the tag is written as AWS writes states ('in-progress' → 'InProgress').
 * An `other` value is AWS's own spelling already.
 */
export function awsName(value, set) {
  if (value?.tag === 'other') return value.val;
  const tag = value?.tag;
  if (typeof tag !== 'string') throw new TypeError(`${JSON.stringify(value)} is not one of the contract's closed sets`);
  const table = AWS_SPELLINGS[set] ?? AWS_SPELLINGS[tag === 'x86-64' || tag === 'arm64' ? 'architecture' : ''];
  if (table?.[tag]) return table[tag];
  return tag.replace(/(^|-)([a-z0-9])/g, (_, _dash, c) => c.toUpperCase());
}

export const lambda = typedInterface(lambdaWit);
export const ecr = typedInterface(ecrWit);
export const apigateway = typedInterface(apigatewayWit);
export const elb = typedInterface(elbWit);
export const route53 = typedInterface(route53Wit);
export const iam = typedInterface(iamWit);
/** CloudWatch Logs (log groups); `log` is the step's own log lines. */
export const logs = typedInterface(logsWit);
/** CloudWatch metrics. */
export const cloudwatch = typedInterface(cloudwatchWit);
/** The platform the scope belongs to (metadata, domain, checks, live output). */
export const platform = typedInterface(platformWit);
export const secrets = typedInterface(secretsWit);
export const tagging = typedInterface(taggingWit);
export const providers = typedInterface(providersWit);
export const credentials = typedInterface(credentialsWit);

// Log lines, shown live by the host and kept in the run record (secrets the host
// knows are redacted). console.log lands in the step's captured stdout instead.
export const log = Object.freeze({
  debug: (message) => logWit.write('debug', String(message)),
  info: (message) => logWit.write('info', String(message)),
  warn: (message) => logWit.write('warn', String(message)),
  error: (message) => logWit.write('error', String(message)),
});

// Inputs.

/** A variable's value (configuration, earlier steps' outputs, --var), or `fallback`. */
export function getVar(name, fallback = undefined) {
  return contextWit.getVar(name) ?? fallback;
}

/** A variable that must be set and non-empty; else the step fails as invalid input. */
export function requireVar(name) {
  const value = contextWit.getVar(name);
  if (!value) {
    throw new InvalidInput(`variable ${name} is required but not set`);
  }
  return value;
}

/** Every variable, as an object. */
export function variables() {
  return Object.fromEntries(contextWit.listVars());
}

/** The built context (scope, deployment, asset, parameters …), parsed. */
export function context() {
  return JSON.parse(contextWit.builtContext());
}

/** The step's name in the workflow. */
export function stepName() {
  return contextWit.stepName();
}

// Results.

/** An output later steps may read. */
export function output(name, value) {
  return { name, value, secret: false };
}

/** An output the host redacts everywhere it could appear. */
export function secretOutput(name, value) {
  return { name, value, secret: true };
}

const STATUSES = ['pass', 'fail', 'warning', 'skipped'];

/** A check's result: `status` is 'pass', 'fail', 'warning' or 'skipped'. */
export function verdict(status, summary, evidence = {}, suggestedActions = []) {
  if (!STATUSES.includes(status)) {
    throw new TypeError(`verdict status '${status}' is not one of ${STATUSES.join(', ')}`);
  }
  const pairs = Array.isArray(evidence) ? evidence : Object.entries(evidence);
  return {
    status,
    summary: String(summary),
    evidence: pairs.map(([k, v]) => [String(k), String(v)]),
    suggestedActions: [...suggestedActions].map(String),
  };
}

// Exports.

/**
 * The `run` export of the `step` world: `export const run = defineStep(fn)`.
 * `fn` returns `{NAME: 'value'}`, an array of `output(...)`/`secretOutput(...)`, or
 * nothing; whatever it throws fails the step with a message.
 */
export function defineStep(fn) {
  return () => guarded(() => toOutputs(synchronous(fn())));
}

/**
 * The `check` export of the `check` world: `export const check = defineCheck(fn)`.
 * `fn` returns `verdict(...)`; throwing means the check could not run at all.
 */
export function defineCheck(fn) {
  return () =>
    guarded(() => {
      const result = synchronous(fn());
      if (!STATUSES.includes(result?.status)) {
        throw new TypeError('a check returns verdict(status, summary, evidence, suggestedActions)');
      }
      return result;
    });
}

function guarded(body) {
  try {
    return body();
  } catch (thrown) {
    if (isStepErrorVariant(thrown)) {
      throw thrown;
    }
    const variant = toStepError(thrown);
    // A deliberate failure needs no stack; anything else gets one in the log.
    if (!(thrown instanceof StepError)) {
      log.error(thrown instanceof Error ? `${thrown.name}: ${thrown.message}\n${readableStack(thrown.stack)}`.trimEnd() : variant.val);
    }
    throw variant;
  }
}

// Exports are synchronous (host calls are too): a Promise would be dropped.
function synchronous(result) {
  if (typeof result?.then === 'function') {
    throw new TypeError('the step function returned a Promise: steps are synchronous (host calls block), drop `async`');
  }
  return result;
}

function toOutputs(result) {
  if (result === undefined || result === null) {
    return [];
  }
  const items = Array.isArray(result) ? result : Object.entries(result).map(([name, value]) => output(name, value));
  for (const item of items) {
    if (typeof item?.name !== 'string' || typeof item?.value !== 'string') {
      throw new TypeError(
        `output ${item?.name ?? JSON.stringify(item)} is not a string: a step returns {NAME: 'value'} or [output(name, value), …] with string values (use String(...))`,
      );
    }
  }
  return items.map(({ name, value, secret }) => ({ name, value, secret: Boolean(secret) }));
}
