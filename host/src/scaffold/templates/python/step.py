"""{{name}}: looks up the Lambda function named by LAMBDA_FUNCTION_NAME and returns
its ARN and state for later steps.

A step reaches the cloud only through the host: every call below is checked against
step.toml (and the operator's policy) before it leaves. Change `run`, declare what
it reads, returns and calls in step.toml, and say in tests/{{name}}.yaml what must
come of it. The SDK is scope-step/sdk/python/scope_step (help(scope) lists it).
"""

import scope_step as scope


def run():
    # Variables come from the workflow's configuration, earlier steps' outputs, or --var.
    name = scope.require_var("LAMBDA_FUNCTION_NAME")
    try:
        function = scope.lambda_.get_function(name, None)
    except scope.CloudError as e:
        # Say what is wrong and what to do about it, rather than pass the cloud's code on.
        if e.kind == "not-found":
            raise scope.StepFailed(f"function {name} does not exist; deploy it first, or check LAMBDA_FUNCTION_NAME")
        raise  # throttled …: the step fails with the host's own message, as a denial does
    config = function.configuration
    state = scope.aws_name(config.state)  # "Active", as AWS spells it
    scope.log.info(f"{name} is {state} (last update {scope.aws_name(config.last_update_status)})")
    return {"FUNCTION_ARN": config.function_arn, "FUNCTION_STATE": state}


WitWorld = scope.define_step(run)
