//! Overrides, applied in order on the YAML tree of a workflow: steps are matched by
//! name anywhere (top level, nested `steps`, `pre`/`post`, `before_each`/`after_each`);
//! no `action` deep-merges, `replace` replaces, `skip` removes; an unknown name is
//! inserted at `before:`/`after:` an existing step.

use serde_yaml_ng::{Mapping, Value};
use thiserror::Error;

/// Why an overrides file could not be applied, and which file it is.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{origin}: {problem}")]
pub struct MergeError {
    /// The overrides file, as it is named to the user.
    pub origin: String,
    pub problem: OverrideProblem,
}

/// What is wrong with an overrides file. `steps` lists the workflow's step names,
/// so that a misspelt name can be corrected from the message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum OverrideProblem {
    /// The document is neither empty nor a mapping.
    #[error("an overrides file is a mapping with `steps:` and/or `configuration:`")]
    NotAMapping,
    /// An entry of `steps:` has no `name`, so it matches nothing.
    #[error("every override step needs a `name`")]
    Unnamed,
    /// `replace` or `skip` of a step the workflow does not have.
    #[error("override `{name}` has action `{action}`, but the workflow has no step named `{name}`{}", step_list(.steps))]
    NoSuchStep { name: String, action: String, steps: Vec<String> },
    /// A new step placed both `before` and `after` an anchor.
    #[error("override `{name}` gives both `before` and `after`; give one")]
    BothAnchors { name: String },
    /// A name that matches no step, without `before`/`after` to insert it.
    #[error("override `{name}` matches no step; to add it, say where with `before: <step>` or `after: <step>`{}", step_list(.steps))]
    NoAnchor { name: String, steps: Vec<String> },
    /// A new step placed next to a step the workflow does not have.
    #[error("override `{name}` goes next to `{anchor}`, but the workflow has no step named `{anchor}`{}", step_list(.steps))]
    NoSuchAnchor { name: String, anchor: String, steps: Vec<String> },
    /// The anchor is a `pre`/`post` (or `before_each`/`after_each`) step, which has
    /// no list to insert into.
    #[error("override `{name}`: `{anchor}` is a single pre/post step, not in a list of steps")]
    AnchorNotInList { name: String, anchor: String },
    /// The `steps` holding the anchor are not a list.
    #[error("steps around `{anchor}` are not a list")]
    NotAList { anchor: String },
    /// An `action` other than replace or skip (no action means merge).
    #[error("override `{name}`: unknown action `{action}` (use replace or skip, or leave it out to merge)")]
    UnknownAction { name: String, action: String },
}

/// Keys that hold a single step.
const SINGLE_STEP_KEYS: [&str; 4] = ["pre", "post", "before_each", "after_each"];

#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Applies one overrides document to a workflow document. `origin` names the
/// overrides file in errors.
pub fn apply(workflow: &mut Value, overrides: &Value, origin: &str) -> Result<(), MergeError> {
    apply_document(workflow, overrides).map_err(|problem| MergeError {
        origin: origin.to_owned(),
        problem,
    })
}

fn apply_document(workflow: &mut Value, overrides: &Value) -> Result<(), OverrideProblem> {
    let Some(ov) = overrides.as_mapping() else {
        return if overrides.is_null() {
            Ok(())
        } else {
            Err(OverrideProblem::NotAMapping)
        };
    };
    if let Some(config) = ov.get("configuration") {
        let target = ensure_mapping(workflow, "configuration");
        deep_merge(target, config);
    }
    if let Some(flag) = ov.get("continue_on_error") {
        if let Some(m) = workflow.as_mapping_mut() {
            m.insert("continue_on_error".into(), flag.clone());
        }
    }
    for entry in ov.get("steps").and_then(Value::as_sequence).into_iter().flatten() {
        apply_step(workflow, entry)?;
    }
    Ok(())
}

fn apply_step(workflow: &mut Value, entry: &Value) -> Result<(), OverrideProblem> {
    let name = entry
        .get("name")
        .and_then(Value::as_str)
        .ok_or(OverrideProblem::Unnamed)?
        .to_owned();
    let action = entry.get("action").and_then(Value::as_str).unwrap_or("merge").to_owned();
    let mut body = entry.clone();
    if let Some(m) = body.as_mapping_mut() {
        for k in ["action", "before", "after"] {
            m.remove(k);
        }
    }
    match (locate(workflow, &name), action.as_str()) {
        (Some(path), "merge") => deep_merge(get_mut(workflow, &path), &body),
        (Some(path), "replace") => *get_mut(workflow, &path) = body,
        (Some(path), "skip") => remove(workflow, &path),
        (None, "replace" | "skip") => {
            return Err(OverrideProblem::NoSuchStep {
                steps: step_names(workflow),
                name,
                action,
            })
        }
        (None, "merge") => {
            let (anchor, after) = match (
                entry.get("before").and_then(Value::as_str),
                entry.get("after").and_then(Value::as_str),
            ) {
                (Some(b), None) => (b.to_owned(), false),
                (None, Some(a)) => (a.to_owned(), true),
                (Some(_), Some(_)) => return Err(OverrideProblem::BothAnchors { name }),
                (None, None) => {
                    return Err(OverrideProblem::NoAnchor {
                        steps: step_names(workflow),
                        name,
                    })
                }
            };
            let Some(path) = locate(workflow, &anchor) else {
                return Err(OverrideProblem::NoSuchAnchor {
                    steps: step_names(workflow),
                    name,
                    anchor,
                });
            };
            let Some((Seg::Index(i), parent)) = path.split_last() else {
                return Err(OverrideProblem::AnchorNotInList { name, anchor });
            };
            let Some(list) = get_mut(workflow, parent).as_sequence_mut() else {
                return Err(OverrideProblem::NotAList { anchor });
            };
            list.insert(if after { i + 1 } else { *i }, body);
        }
        (_, other) => {
            return Err(OverrideProblem::UnknownAction {
                action: other.to_owned(),
                name,
            })
        }
    }
    Ok(())
}

/// Maps merge key by key, recursively; anything else is replaced.
pub fn deep_merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

fn ensure_mapping<'a>(v: &'a mut Value, key: &str) -> &'a mut Value {
    if !v.is_mapping() {
        *v = Value::Mapping(Mapping::new());
    }
    let m = v.as_mapping_mut().expect("just made a mapping");
    m.entry(key.into()).or_insert_with(|| Value::Mapping(Mapping::new()))
}

/// The path of the first step named `name`, depth first in document order.
fn locate(v: &Value, name: &str) -> Option<Vec<Seg>> {
    let steps = v.get("steps").and_then(Value::as_sequence);
    for (i, step) in steps.into_iter().flatten().enumerate() {
        let here = vec![Seg::Key("steps".into()), Seg::Index(i)];
        if step.get("name").and_then(Value::as_str) == Some(name) {
            return Some(here);
        }
        if let Some(mut inner) = locate_in_step(step, name) {
            let mut path = here;
            path.append(&mut inner);
            return Some(path);
        }
    }
    None
}

fn locate_in_step(step: &Value, name: &str) -> Option<Vec<Seg>> {
    for key in SINGLE_STEP_KEYS {
        if let Some(single) = step.get(key) {
            if single.get("name").and_then(Value::as_str) == Some(name) {
                return Some(vec![Seg::Key(key.into())]);
            }
            if let Some(mut inner) = locate_in_step(single, name) {
                let mut path = vec![Seg::Key(key.into())];
                path.append(&mut inner);
                return Some(path);
            }
        }
    }
    locate(step, name)
}

fn get_mut<'a>(mut v: &'a mut Value, path: &[Seg]) -> &'a mut Value {
    for seg in path {
        v = match seg {
            Seg::Key(k) => v.get_mut(k.as_str()).expect("located path exists"),
            Seg::Index(i) => v.get_mut(*i).expect("located path exists"),
        };
    }
    v
}

fn remove(v: &mut Value, path: &[Seg]) {
    let Some((last, parent)) = path.split_last() else { return };
    let parent = get_mut(v, parent);
    match last {
        Seg::Key(k) => {
            if let Some(m) = parent.as_mapping_mut() {
                m.remove(k.as_str());
            }
        }
        Seg::Index(i) => {
            if let Some(s) = parent.as_sequence_mut() {
                s.remove(*i);
            }
        }
    }
}

fn step_names(workflow: &Value) -> Vec<String> {
    let mut names = Vec::new();
    collect_names(workflow, &mut names);
    names
}

/// ` (steps: a, b)`, or nothing for a workflow without named steps.
fn step_list(names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!(" (steps: {})", names.join(", "))
    }
}

fn collect_names(v: &Value, names: &mut Vec<String>) {
    for step in v.get("steps").and_then(Value::as_sequence).into_iter().flatten() {
        if let Some(n) = step.get("name").and_then(Value::as_str) {
            names.push(n.to_owned());
        }
        for key in SINGLE_STEP_KEYS {
            if let Some(single) = step.get(key) {
                if let Some(n) = single.get("name").and_then(Value::as_str) {
                    names.push(n.to_owned());
                }
            }
        }
        collect_names(step, names);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Value {
        serde_yaml_ng::from_str(s).unwrap()
    }

    fn names(v: &Value) -> Vec<String> {
        let mut n = Vec::new();
        collect_names(v, &mut n);
        n
    }

    const BASE: &str = "
configuration: {A: '1'}
steps:
  - name: assume_role
    type: wasm
    plugin: assume-role
  - name: build_context
    type: wasm
    plugin: build-context
    configuration: {X: a, Y: b}
    pre: {name: notify, type: wasm, plugin: notify}
  - name: deploy
    type: workflow
    steps:
      - {name: update_code, type: wasm, plugin: update-code}
      - {name: publish, type: wasm, plugin: publish-version}
";

    #[test]
    fn table_of_overrides() {
        // (what, overrides, the step names after, or the error's words)
        type Case<'a> = (&'a str, &'a str, Result<Vec<&'a str>, &'a str>);
        let cases: Vec<Case> = vec![
            (
                "merge keeps the order",
                "steps: [{name: build_context, configuration: {Y: c}}]",
                Ok(vec!["assume_role", "build_context", "notify", "deploy", "update_code", "publish"]),
            ),
            (
                "skip top level",
                "steps: [{name: assume_role, action: skip}]",
                Ok(vec!["build_context", "notify", "deploy", "update_code", "publish"]),
            ),
            (
                "skip a pre step",
                "steps: [{name: notify, action: skip}]",
                Ok(vec!["assume_role", "build_context", "deploy", "update_code", "publish"]),
            ),
            (
                "skip nested",
                "steps: [{name: update_code, action: skip}]",
                Ok(vec!["assume_role", "build_context", "notify", "deploy", "publish"]),
            ),
            (
                "add before",
                "steps: [{name: audit, type: wasm, plugin: audit, before: build_context}]",
                Ok(vec![
                    "assume_role",
                    "audit",
                    "build_context",
                    "notify",
                    "deploy",
                    "update_code",
                    "publish",
                ]),
            ),
            (
                "add after nested",
                "steps: [{name: smoke, plugin: smoke, after: publish}]",
                Ok(vec![
                    "assume_role",
                    "build_context",
                    "notify",
                    "deploy",
                    "update_code",
                    "publish",
                    "smoke",
                ]),
            ),
            (
                "replace unknown",
                "steps: [{name: nope, action: replace}]",
                Err("has action `replace`, but the workflow has no step named `nope`"),
            ),
            ("skip unknown", "steps: [{name: nope, action: skip}]", Err("no step named `nope`")),
            (
                "add without anchor",
                "steps: [{name: nope, plugin: x}]",
                Err("say where with `before: <step>`"),
            ),
            (
                "anchor unknown",
                "steps: [{name: nope, plugin: x, after: ghost}]",
                Err("no step named `ghost`"),
            ),
            (
                "bad action",
                "steps: [{name: deploy, action: explode}]",
                Err("unknown action `explode`"),
            ),
        ];
        for (what, ov, want) in cases {
            let mut wf = yaml(BASE);
            let got = apply(&mut wf, &yaml(ov), "o.yaml").map(|_| names(&wf));
            match (got, want) {
                (Ok(n), Ok(w)) => assert_eq!(n, w, "{what}"),
                (Err(e), Err(w)) => assert!(e.to_string().contains(w), "{what}: `{e}` lacks `{w}`"),
                (got, want) => panic!("{what}: got {got:?}, want {want:?}"),
            }
        }
        // The whole message: the file, the problem, and the steps to choose from.
        let e = apply(&mut yaml(BASE), &yaml("steps: [{name: nope, action: skip}]"), "o.yaml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "o.yaml: override `nope` has action `skip`, but the workflow has no step named `nope` (steps: assume_role, build_context, notify, deploy, update_code, publish)"
        );
    }

    #[test]
    fn merge_is_deep_and_replace_is_whole() {
        let mut wf = yaml(BASE);
        apply(
            &mut wf,
            &yaml("configuration: {B: '2'}\nsteps: [{name: build_context, configuration: {Y: c}}]"),
            "o",
        )
        .unwrap();
        let step = &wf["steps"][1];
        assert_eq!(step["configuration"]["X"], "a");
        assert_eq!(step["configuration"]["Y"], "c");
        assert_eq!(step["plugin"], "build-context");
        assert_eq!(wf["configuration"]["A"], "1");
        assert_eq!(wf["configuration"]["B"], "2");

        apply(
            &mut wf,
            &yaml("steps: [{name: build_context, action: replace, type: wasm, plugin: other}]"),
            "o",
        )
        .unwrap();
        let step = &wf["steps"][1];
        assert_eq!(step["plugin"], "other");
        assert!(step.get("configuration").is_none());
        assert!(step.get("action").is_none());
    }

    #[test]
    fn overrides_apply_in_order() {
        let mut wf = yaml(BASE);
        apply(&mut wf, &yaml("steps: [{name: audit, plugin: a, after: assume_role}]"), "1").unwrap();
        apply(&mut wf, &yaml("steps: [{name: audit, configuration: {LEVEL: high}}]"), "2").unwrap();
        assert_eq!(wf["steps"][1]["name"], "audit");
        assert_eq!(wf["steps"][1]["configuration"]["LEVEL"], "high");
    }
}
