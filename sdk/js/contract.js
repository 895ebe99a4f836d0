// The bridge to componentize-js's conventions, and the only code that knows them:
// a failed host call arrives as a thrown `ComponentError` whose `payload` is the
// `call-error` variant ({tag, val}); an export fails by throwing the `step-error`
// variant itself. Throwing anything else from an export traps the component with
// no message, so every exit of the author's code goes through `toStepError`.

import { CloudError, Denied, InvalidArgument, InvalidInput, LimitReached, StepError, StepFailed } from './errors.js';

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
    return { tag: 'cloud', val: { service, operation, code, message: cloudMessage, requestId, retryable } };
  }
  if (thrown instanceof InvalidInput || thrown instanceof InvalidArgument) {
    return { tag: 'invalid-input', val: thrown.message };
  }
  if (thrown instanceof StepError) {
    return { tag: 'failed', val: thrown.message };
  }
  return { tag: 'failed', val: describeUnexpected(thrown) };
}

/** `TypeError: x is undefined (in helper)`: one line for the operator. */
export function describeUnexpected(thrown) {
  if (!(thrown instanceof Error)) {
    return `threw a ${typeof thrown}, not an Error: ${safeString(thrown)}`;
  }
  const text = thrown.message ? `${thrown.name}: ${thrown.message}` : thrown.name;
  const where = innermostFunction(thrown.stack);
  return where ? `${text} (in ${where})` : text;
}

/** Is this thrown value already a step-error variant (thrown by hand, the raw way)? */
export function isStepErrorVariant(thrown) {
  return ['invalid-input', 'denied', 'cloud', 'failed'].includes(thrown?.tag) && 'val' in thrown;
}

// Stack lines look like `helper@step.js:216:2`. Line numbers are the bundle's,
// which the author never sees, so the function's name is what locates the
// error (the whole stack goes to the log).
function innermostFunction(stack) {
  const first = String(stack ?? '').split('\n')[0];
  const name = first.slice(0, Math.max(first.lastIndexOf('@'), 0)).replace(/[/<]+$/, '');
  return name || undefined;
}

function safeString(value) {
  try {
    return typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    return String(value);
  }
}
