// Test guest: each MODE exercises one promise of the JavaScript SDK (see
// tests/tests/sdk_errors.rs).

import * as scope from 'scope-step';

function ownerOf(tags) {
  return tags.owner.toUpperCase();
}

export const run = scope.defineStep(() => {
  const mode = scope.requireVar('MODE');
  switch (mode) {
    case 'outputs':
      return [
        scope.output('STEP', scope.stepName()),
        scope.secretOutput('TOKEN', 'tok-0123456789'),
        scope.output('VARS', Object.keys(scope.variables()).sort().join(',')),
      ];
    case 'unexpected-exception':
      return { OWNER: ownerOf({ team: 'payments' }) };
    case 'missing-input':
      scope.requireVar('NOT_GIVEN');
      break;
    case 'uncaught-cloud-error':
      scope.lambda.getFunction('absent-function', undefined);
      break;
    case 'caught-cloud-error':
      try {
        scope.lambda.getFunction('absent-function', undefined);
      } catch (e) {
        if (e instanceof scope.CloudError) {
          return { CODE: e.code, KIND: e.kind, OPERATION: e.operation, RETRYABLE: String(e.retryable) };
        }
        throw e;
      }
      break;
    case 'denied':
      try {
        scope.iam.getRole('lambda-exec');
      } catch (e) {
        if (e instanceof scope.Denied) scope.log.warn(`caught the denial of ${e.action}`);
        throw e;
      }
      break;
    case 'step-failed':
      throw new scope.StepFailed('the deployment window is closed');
    case 'not-a-string':
      return { COUNT: 3 };
    case 'leak-secret': {
      const password = scope.context().parameters.results[0].values[0].value;
      throw new Error(`cannot connect with password ${password}`);
    }
    case 'not-an-error':
      throw 'a bare string';
  }
  return undefined;
});
