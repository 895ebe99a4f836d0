// {{name}}: looks up the Lambda function named by LAMBDA_FUNCTION_NAME and returns
// its ARN and state for later steps.
//
// A step reaches the cloud only through the host: every call below is checked
// against step.toml (and the operator's policy) before it leaves. Change the
// function, declare what it reads, returns and calls in step.toml, and say in
// tests/{{name}}.yaml what must come of it. The SDK is scope-step/sdk/js/index.js.

import { awsName, CloudError, defineStep, lambda, log, requireVar, StepFailed } from 'scope-step';

export const run = defineStep(() => {
  // Variables come from the workflow's configuration, earlier steps' outputs, or --var.
  const name = requireVar('LAMBDA_FUNCTION_NAME');
  let fn;
  try {
    fn = lambda.getFunction(name, undefined);
  } catch (e) {
    // Say what is wrong and what to do about it, rather than pass the cloud's code on.
    if (e instanceof CloudError && e.kind === 'not-found') {
      throw new StepFailed(`function ${name} does not exist; deploy it first, or check LAMBDA_FUNCTION_NAME`);
    }
    throw e; // denied, throttled …: the step fails with the host's own message
  }
  const config = fn.configuration;
  const state = awsName(config.state); // 'Active', as AWS spells it
  log.info(`${name} is ${state} (last update ${awsName(config.lastUpdateStatus)})`);
  return { FUNCTION_ARN: config.functionArn, FUNCTION_STATE: state };
});
