//! Loading `--cloud-state` for the simulated cloud, recordings included.
//!
//! A recording names accounts only by placeholder. To replay it against the accounts
//! the run used, the replaying run's own inputs (context, provider data, variables)
//! are laid over the recorded ones: where a recorded string has a placeholder and
//! the given string is the same text with a twelve-digit account in its place, that
//! account is what the placeholder stands for. The placeholders found are put back
//! throughout the fixture; any other stays as it is (a replay given the recorded
//! inputs themselves runs on placeholders throughout, consistently).

use super::scrub::{digit_runs, is_account_id, replace_accounts};
use super::{Inputs, RecordingSection};
use crate::cloud::sim::{FixtureError, SimCloud};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

/// Why a `--cloud-state` file could not be loaded.
#[derive(Debug, Error)]
pub enum ReplayError {
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    #[error("{file}: its `recording` section is malformed: {message}")]
    Section { file: String, message: String },
    #[error(
        "replaying {file}: {conflict}; give the run the inputs it was recorded with (the recording's own are under `recording.inputs`)"
    )]
    Accounts { file: String, conflict: AccountConflict },
}

/// The run's inputs do not map the recording's placeholder accounts one to one.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AccountConflict {
    /// One placeholder stands for two different accounts.
    #[error("the recording's account {placeholder} is {known} in one place of this run's inputs and {real} in another")]
    TwoForOne { placeholder: String, known: String, real: String },
    /// Two placeholders stand for the same account.
    #[error("this run's inputs name {real} where the recording has two different accounts, {other} and {placeholder}")]
    OneForTwo { real: String, other: String, placeholder: String },
}

/// Loads a fixture file into a simulated cloud; a recording gets its accounts back
/// from `inputs` (see the module docs). Errors name the file.
pub fn load_sim(path: &Path, inputs: &Inputs) -> Result<SimCloud, ReplayError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
        file: file.clone(),
        source,
    })?;
    // Malformed JSON is reported by the fixture loader, with its position.
    let recording = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|mut doc| doc.get_mut("recording").map(Value::take));
    let Some(recording) = recording else {
        return Ok(SimCloud::from_named_json(&text, &file)?);
    };
    let section: RecordingSection = serde_json::from_value(recording).map_err(|e| ReplayError::Section {
        file: file.clone(),
        message: e.to_string(),
    })?;
    let accounts = recover_accounts(&section, inputs).map_err(|conflict| ReplayError::Accounts {
        file: file.clone(),
        conflict,
    })?;
    // Placeholders and accounts are both twelve digits: positions in errors stay right.
    Ok(SimCloud::from_named_json(&replace_accounts(&text, &accounts), &file)?)
}

/// Placeholder → the real account the given inputs name in its place; an error
/// when they name two for one, or one for two.
fn recover_accounts(section: &RecordingSection, inputs: &Inputs) -> Result<BTreeMap<String, String>, AccountConflict> {
    let mut pairs = Vec::new();
    overlay(&section.inputs, &inputs.to_value(), &mut pairs);
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (placeholder, real) in pairs {
        if !section.accounts.contains(&placeholder) {
            continue;
        }
        if let Some(known) = map.get(&placeholder) {
            if *known != real {
                return Err(AccountConflict::TwoForOne {
                    known: known.clone(),
                    placeholder,
                    real,
                });
            }
            continue;
        }
        if let Some((other, _)) = map.iter().find(|(_, r)| **r == real) {
            return Err(AccountConflict::OneForTwo {
                other: other.clone(),
                placeholder,
                real,
            });
        }
        map.insert(placeholder, real);
    }
    Ok(map)
}

/// Walks the recorded and the given inputs side by side, collecting (recorded
/// digits, given digits) for every twelve-digit run that differs between two strings
/// that are otherwise the same.
fn overlay(recorded: &Value, given: &Value, pairs: &mut Vec<(String, String)>) {
    match (recorded, given) {
        (Value::String(r), Value::String(g)) => overlay_text(r, g, pairs),
        (Value::Array(r), Value::Array(g)) => r.iter().zip(g).for_each(|(r, g)| overlay(r, g, pairs)),
        (Value::Object(r), Value::Object(g)) => {
            for (key, r) in r {
                if let Some(g) = g.get(key) {
                    overlay(r, g, pairs);
                }
            }
        }
        _ => {}
    }
}

fn overlay_text(recorded: &str, given: &str, pairs: &mut Vec<(String, String)>) {
    if recorded == given {
        return;
    }
    let (r_runs, g_runs) = (digit_runs(recorded), digit_runs(given));
    if r_runs.len() != g_runs.len() {
        return;
    }
    // The text around the digits must be the same, or the strings say different things.
    let (mut r_at, mut g_at) = (0, 0);
    for (&(rs, re), &(gs, ge)) in r_runs.iter().zip(&g_runs) {
        if recorded[r_at..rs] != given[g_at..gs] {
            return;
        }
        (r_at, g_at) = (re, ge);
    }
    if recorded[r_at..] != given[g_at..] {
        return;
    }
    for (&(rs, re), &(gs, ge)) in r_runs.iter().zip(&g_runs) {
        let (r, g) = (&recorded[rs..re], &given[gs..ge]);
        if r != g && is_account_id(r) && is_account_id(g) {
            pairs.push((r.to_owned(), g.to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn section(inputs: Value) -> RecordingSection {
        RecordingSection {
            format: 1,
            backend: "aws".into(),
            target: "t".into(),
            outcome: "ok".into(),
            accounts: vec!["000000000001".into(), "000000000002".into()],
            inputs,
            calls: vec![],
            notes: vec![],
        }
    }

    fn given(context: Value) -> Inputs {
        Inputs {
            context,
            ..Inputs::default()
        }
    }

    #[test]
    fn placeholders_are_matched_to_the_accounts_the_given_inputs_name_in_their_place() {
        let rec = section(json!({"context": {
            "asset": {"url": "000000000001.dkr.ecr.us-east-1.amazonaws.com/app:v1.0.0"},
            "ci": "arn:aws:iam::000000000002:role/ci",
            "password": "[REDACTED]",
        }}));
        let inputs = given(json!({
            "asset": {"url": "999988887777.dkr.ecr.us-east-1.amazonaws.com/app:v1.0.0"},
            "ci": "arn:aws:iam::444455556666:role/ci",
            "password": "s3cr3t",
        }));
        let map = recover_accounts(&rec, &inputs).unwrap();
        assert_eq!(
            map,
            BTreeMap::from([
                ("000000000001".to_owned(), "999988887777".to_owned()),
                ("000000000002".to_owned(), "444455556666".to_owned())
            ])
        );
    }

    #[test]
    fn strings_that_differ_beyond_the_account_teach_nothing() {
        let rec = section(json!({"context": {"url": "000000000001.dkr.ecr.us-east-1.amazonaws.com/app:v1.0.0"}}));
        let inputs = given(json!({"url": "999988887777.dkr.ecr.us-east-1.amazonaws.com/other:v2"}));
        assert!(recover_accounts(&rec, &inputs).unwrap().is_empty());
        // The recording's own inputs: nothing to put back.
        let inputs = given(json!({"url": "000000000001.dkr.ecr.us-east-1.amazonaws.com/app:v1.0.0"}));
        assert!(recover_accounts(&rec, &inputs).unwrap().is_empty());
    }

    #[test]
    fn one_placeholder_named_as_two_accounts_is_a_conflict() {
        let rec = section(json!({"context": {"a": "000000000001", "b": "arn:aws:iam::000000000001:root"}}));
        let inputs = given(json!({"a": "999988887777", "b": "arn:aws:iam::444455556666:root"}));
        let message = recover_accounts(&rec, &inputs).unwrap_err().to_string();
        assert!(
            message.contains("000000000001 is 999988887777 in one place") && message.contains("444455556666 in another"),
            "{message}"
        );
    }
}
