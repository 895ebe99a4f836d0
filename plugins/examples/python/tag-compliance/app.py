"""tag-compliance: a diagnose check that every Lambda function of a scope carries
the tags the organisation requires (owner, cost centre …), so cost reports and
on-call routing never meet an anonymous function.

It finds the scope's functions through the Resource Groups Tagging API (by their
`nullplatform:scope-id` tag), and fails with one line of evidence per function
that misses a required tag, or empty values, which count as missing.
"""

import scope_step as scope

SCOPE_TAG = "nullplatform:scope-id"


def required_tags() -> list:
    keys = [k.strip() for k in scope.require_var("REQUIRED_TAGS").split(",")]
    keys = [k for k in keys if k]
    if not keys:
        raise scope.InvalidInput("REQUIRED_TAGS lists no tag key; give e.g. owner,cost-center")
    return keys


def check():
    scope_id = scope.require_var("SCOPE_ID")
    required = required_tags()
    functions = scope.tagging.get_resources(
        ["lambda:function"], [scope.tagging.TagFilter(SCOPE_TAG, [scope_id])]
    )
    if not functions:
        return scope.verdict(
            "skipped",
            f"scope {scope_id} has no Lambda function tagged {SCOPE_TAG}={scope_id}",
        )

    missing = {}
    for function in functions:
        tags = dict(function.tags)
        absent = [key for key in required if not tags.get(key, "").strip()]
        if absent:
            missing[function.arn.rsplit(":", 1)[-1]] = absent
    scope.log.info(f"checked {len(functions)} function(s) of scope {scope_id} for {', '.join(required)}")

    if not missing:
        return scope.verdict(
            "pass",
            f"all {len(functions)} function(s) of scope {scope_id} carry {', '.join(required)}",
            {"functions": len(functions)},
        )
    return scope.verdict(
        "fail",
        f"{len(missing)} of {len(functions)} function(s) of scope {scope_id} miss required tags",
        {name: "missing " + ", ".join(keys) for name, keys in sorted(missing.items())},
        [f"tag {name} with {', '.join(keys)}" for name, keys in sorted(missing.items())],
    )


WitWorld = scope.define_check(check)
