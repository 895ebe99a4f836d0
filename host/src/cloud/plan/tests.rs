//! The plan's pieces on their own: merging what was read, showing a change.

use super::*;
use serde_json::json;

#[test]
fn what_the_plan_deleted_is_not_seeded_again_and_what_the_overlay_holds_wins() {
    let mut overlay = json!({"region": "us-east-1", "lambda": {"functions": [
        {"name": "f", "region": "us-east-1", "memory_size": 512, "aliases": [{"name": "main", "function_version": "2"}]}
    ]}});
    let read = json!({"region": "us-east-1", "lambda": {"functions": [
        {"name": "f", "region": "us-east-1", "memory_size": 128,
         "aliases": [{"name": "main", "function_version": "1"}, {"name": "warm", "function_version": "1"}, {"name": "gone", "function_version": "1"}],
         "versions": [{"version": "1"}]},
        {"name": "g", "memory_size": 128},
        {"name": "deleted", "region": "us-east-1"}
    ]}});
    let deleted: BTreeSet<String> = [
        merge::function_identity("us-east-1", "deleted"),
        merge::alias_identity("us-east-1", "f", "gone"),
    ]
    .into();
    merge::absorb(&mut overlay, &read, &deleted);
    let functions = overlay["lambda"]["functions"].as_array().unwrap();
    let names: Vec<&str> = functions.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["f", "g"], "a new function is added, a deleted one is not");
    let f = &functions[0];
    assert_eq!(f["memory_size"], 512, "the overlay's change is kept");
    let aliases: Vec<(&str, &str)> = f["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].as_str().unwrap(), a["function_version"].as_str().unwrap()))
        .collect();
    assert_eq!(
        aliases,
        [("main", "2"), ("warm", "1")],
        "an alias read later is added, with its version"
    );
    assert_eq!(f["versions"], json!([{"version": "1"}]));
}

#[test]
fn a_change_is_shown_field_by_field_with_environment_values_masked() {
    let before = json!({"memory_size": 256, "environment": {"DB_PASSWORD": "old-secret", "KEEP": "same"},
        "aliases": [{"name": "main", "function_version": "1", "revision_id": "r1"}], "revision_id": "a"});
    let after = json!({"memory_size": 512, "environment": {"DB_PASSWORD": "new-secret", "KEEP": "same", "NEW": "x"},
        "aliases": [{"name": "main", "function_version": "2", "revision_id": "r2"}], "revision_id": "b"});
    let changes = diff::changes(&before, &after);
    let shown: Vec<(String, String, String)> = changes
        .iter()
        .map(|c| (c.path.clone(), diff::short(&c.before), diff::short(&c.after)))
        .collect();
    assert_eq!(
        shown,
        [
            ("aliases.main.function_version".into(), "1".into(), "2".into()),
            ("environment.DB_PASSWORD".into(), "[REDACTED]".into(), "[REDACTED]".into()),
            ("environment.NEW".into(), "(none)".into(), "[REDACTED]".into()),
            ("memory_size".into(), "256".into(), "512".into()),
        ]
    );
    let text = serde_json::to_string(&changes).unwrap();
    assert!(!text.contains("secret"), "{text}");
    // A created resource is shown field by field too, so its secrets stay masked.
    let created = diff::changes(&Value::Null, &json!({"environment": {"TOKEN": "t0ps3cret"}}));
    assert!(!serde_json::to_string(&created).unwrap().contains("t0ps3cret"));
}

#[test]
fn keys_name_the_resource_whatever_form_the_call_gives() {
    let ctx = CallCtx {
        identity: Identity {
            arn: "arn:aws:iam::111122223333:user/u".into(),
            account: "111122223333".into(),
            expires_at: None,
            credentials: None,
        },
        region: "us-east-1".into(),
    };
    let by_name = keys::function(&ctx, "f");
    assert_eq!(keys::function(&ctx, "arn:aws:lambda:us-east-1:111122223333:function:f"), by_name);
    assert_eq!(
        keys::function(&ctx, "arn:aws:lambda:us-east-1:111122223333:function:f:main"),
        by_name
    );
    assert_eq!(keys::function(&ctx, "f:main"), by_name);
    assert_ne!(keys::function(&ctx, "arn:aws:lambda:eu-west-1:111122223333:function:f"), by_name);
    assert_eq!(
        keys::secret_name("arn:aws:secretsmanager:us-east-1:1:secret:db-pass-AbC123"),
        "db-pass"
    );
    assert_eq!(keys::secret_name("db-pass"), "db-pass");
}
