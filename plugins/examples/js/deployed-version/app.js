// deployed-version: records what an alias serves before a deployment changes it
// (the version, the deployment id it was published with, any traffic split), so
// a later rollback step knows where to go back to. A function with no alias yet
// (the first deployment) is not an error: the outputs are empty.

import { CloudError, defineStep, getVar, lambda, log, requireVar, StepFailed } from 'scope-step';
import { describeRouting } from './routing.js';

export const run = defineStep(() => {
  const functionName = requireVar('LAMBDA_FUNCTION_NAME');
  const aliasName = getVar('ALIAS', 'main');

  // First, so a missing function fails the step (GetAlias would answer the same
  // ResourceNotFoundException for a missing function as for a missing alias).
  const versions = lambda.listVersionsByFunction(functionName);
  let alias;
  try {
    alias = lambda.getAlias(functionName, aliasName);
  } catch (e) {
    if (e instanceof CloudError && e.code === 'ResourceNotFoundException') {
      log.warn(`${functionName} has no alias ${aliasName} yet: nothing is deployed`);
      return { DEPLOYED_VERSION: '', DEPLOYED_DEPLOYMENT_ID: '', DEPLOYED_ROUTING: '' };
    }
    throw e; // denied, throttled …: the step fails with the host's own message
  }

  const published = versions.find((v) => v.version === alias.functionVersion);
  if (!published) {
    throw new StepFailed(
      `alias ${aliasName} of ${functionName} points to version ${alias.functionVersion}, which does not exist (versions: ${versions.map((v) => v.version).join(', ')})`,
    );
  }
  const routing = describeRouting(alias.routing);
  log.info(`${functionName}:${aliasName} serves version ${published.version} (${published.description || 'no description'})${routing ? `, routing ${routing}` : ''}`);
  return {
    DEPLOYED_VERSION: published.version,
    DEPLOYED_DEPLOYMENT_ID: published.description,
    DEPLOYED_ROUTING: routing,
  };
});
