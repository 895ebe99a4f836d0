// {{name}}: a diagnose check that the Lambda function named by LAMBDA_FUNCTION_NAME
// exists and is Active.
//
// A check returns a verdict (pass, fail, warning or skipped) with the evidence it
// rests on and what the operator could do; throwing means it could not run at all.
// It reaches the cloud only through the host: every call below is checked against
// step.toml (and the operator's policy) before it leaves. The SDK is
// scope-step/sdk/js/index.js.

import { awsName, CloudError, defineCheck, lambda, log, requireVar, verdict } from 'scope-step';

export const check = defineCheck(() => {
  const name = requireVar('LAMBDA_FUNCTION_NAME');
  let config;
  try {
    config = lambda.getFunction(name, undefined).configuration;
  } catch (e) {
    // A missing function is the check's answer, not a failure to check.
    if (e instanceof CloudError && e.kind === 'not-found') {
      return verdict('fail', `function ${name} does not exist`, { function: name }, [
        'deploy the scope again, or check LAMBDA_FUNCTION_NAME',
      ]);
    }
    throw e; // denied, throttled …: the check could not run; the host says why
  }
  const state = awsName(config.state); // 'Active', as AWS spells it
  log.info(`${name} is ${state}`);
  if (state === 'Active') {
    return verdict('pass', `function ${name} is Active`, { state, last_update_status: awsName(config.lastUpdateStatus) });
  }
  return verdict('fail', `function ${name} is ${state}, not Active`, { state, state_reason: config.stateReason ?? '' }, [
    'look at the state reason; deploy again once its cause is fixed',
  ]);
});
