// The errors of a step. Throw `InvalidInput` or `StepFailed` to fail the step with
// that kind. A host call that does not succeed throws a `CallError` (`Denied`,
// `CloudError`, `InvalidArgument` or `LimitReached`); left uncaught it fails the
// step with the kind the contract gives it. Anything else thrown fails the step as
// `failed`, with its message and where it was thrown.

/** Base of every error that fails a step with a kind. */
export class StepError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

/** The step's inputs (variables, context) are missing or malformed. */
export class InvalidInput extends StepError {}

/** The step failed for a reason of its own; the message is for the operator. */
export class StepFailed extends StepError {}

/** A host call (a cloud operation, assume-role, providers …) did not succeed. */
export class CallError extends StepError {}

/** The host refused the call before it left: no grant covers it. */
export class Denied extends CallError {
  constructor({ action, resource, reason }) {
    super(`denied: ${action} on ${resource}: ${reason}`);
    Object.assign(this, { action, resource, reason });
  }
}

/**
 * The cloud answered with an error; `code` is the AWS error code and `kind` its
 * portable kind, the same on every service: 'not-found', 'conflict', 'throttled',
 * 'access-denied', 'invalid-parameter', 'expired-credentials' or 'other'.
 */
export class CloudError extends CallError {
  constructor({ service, operation, code, kind = 'other', message, requestId, retryable }) {
    super(`${service} ${operation} failed: ${code}: ${message}`);
    // `cloudMessage`: the service's own words (`message` is the whole line).
    Object.assign(this, { service, operation, code, kind, cloudMessage: message, requestId, retryable });
  }
}

/** An argument of the call was malformed (bad ARN, empty name …); nothing was sent. */
export class InvalidArgument extends CallError {}

/** A host limit stopped the call: a waiter's deadline, a handle limit. */
export class LimitReached extends CallError {}
