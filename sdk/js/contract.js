// The bridge to componentize-js's conventions, and the only code that knows them:
// a failed host call arrives as a thrown `ComponentError` whose `payload` is the
// `call-error` variant ({tag, val}); an export fails by throwing the `step-error`
// variant itself. Throwing anything else from an export traps the component with
// no message, so every exit of the author's code goes through `toStepError`.

import { CloudError, Denied, InvalidArgument, InvalidInput, LimitReached, StepError, StepFailed } from './errors.js';

/** The contract's `error-kind` cases, as componentize-js spells enum cases. */
const ERROR_KINDS = ['not-found', 'conflict', 'throttled', 'access-denied', 'invalid-parameter', 'expired-credentials', 'other'];

/** The typed error for what a host call threw; other values pass through. */
export function fromCallError(thrown) {
  const payload = thrown?.payload;
  switch (payload?.tag) {
    case 'denied':
      return new Denied(payload.val);
    case 'cloud':
      return new CloudError(payload.val);
    case 'invalid-input':
      return new InvalidArgument(payload.val);
    case 'limit':
      return new LimitReached(payload.val);
    default:
      return thrown;
  }
}

/** The `step-error` variant for anything the author's code threw. */
export function toStepError(thrown) {
  if (thrown instanceof Denied) {
    const { action, resource, reason } = thrown;
    return { tag: 'denied', val: { action, resource, reason } };
  }
  if (thrown instanceof CloudError) {
    const { service, operation, code, cloudMessage, requestId, retryable } = thrown;
    const kind = ERROR_KINDS.includes(thrown.kind) ? thrown.kind : 'other';
    return { tag: 'cloud', val: { service, operation, code, kind, message: cloudMessage, requestId, retryable } };
  }
  if (thrown instanceof InvalidInput || thrown instanceof InvalidArgument) {
    return { tag: 'invalid-input', val: thrown.message };
  }
  if (thrown instanceof StepError) {
    return { tag: 'failed', val: thrown.message };
  }
  return { tag: 'failed', val: describeUnexpected(thrown) };
}

/** `TypeError: x is undefined (at app.js:12, in helper)`: one line for the operator. */
export function describeUnexpected(thrown) {
  if (!(thrown instanceof Error)) {
    return `threw a ${typeof thrown}, not an Error: ${safeString(thrown)}`;
  }
  const text = thrown.message ? `${thrown.name}: ${thrown.message}` : thrown.name;
  const frame = authorFrames(thrown.stack)[0];
  if (!frame) return text;
  const place = [frame.source && `at ${frame.source}:${frame.line}`, frame.name && `in ${frame.name}`].filter(Boolean);
  return place.length ? `${text} (${place.join(', ')})` : text;
}

/** The stack as the author wrote the code: `ownerOf (app.js:8)` per line, the SDK's frames left out. */
export function readableStack(stack) {
  return authorFrames(stack)
    .map((f) => `    at ${f.name || '<anonymous>'}${f.source ? ` (${f.source}:${f.line})` : ''}`)
    .join('\n');
}

/** Is this thrown value already a step-error variant (thrown by hand, the raw way)? */
export function isStepErrorVariant(thrown) {
  return ['invalid-input', 'denied', 'cloud', 'failed'].includes(thrown?.tag) && 'val' in thrown;
}

// SpiderMonkey's stack lines look like `helper@step.js:216:2` (the bundle). The
// build appends `__scopeStepLines`, mapping each bundle line to its source file
// and line; without it (a hand-made build) the function names still locate the
// error. Frames of the SDK and of componentize-js's glue are left out.
function authorFrames(stack) {
  const table = globalThis.__scopeStepLines;
  const frames = [];
  for (const text of String(stack ?? '').split('\n')) {
    const match = /^(.*)@(.*):(\d+):\d+$/.exec(text.trim());
    if (!match) continue;
    const [, rawName, file, bundleLine] = match;
    const name = rawName.replace(/[/<]+$/, '').split('/').pop();
    if (!file.endsWith('step.js')) continue;
    const entry = table?.lines[Number(bundleLine) - 1];
    const source = entry ? table.sources[entry[0]] : undefined;
    if (source?.startsWith('scope-step/')) continue;
    frames.push({ name, source, line: entry ? entry[1] + 1 : undefined });
  }
  return frames;
}

function safeString(value) {
  try {
    return typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    return String(value);
  }
}
