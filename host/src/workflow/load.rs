//! Reading a workflow: the file, its overrides (applied in order), its included
//! values files (recursively, cycles refused) and `--values` files, into one typed
//! workflow and its starting variables. Every syntax error and unknown key names its
//! file, line and column.

use super::expand::expand;
use super::merge;
use super::model::{config_string, ConfigValue, OverridesFile, ValuesFile, Workflow};
use super::yaml_limits;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a workflow could not be read.
#[derive(Debug, Error)]
pub enum WorkflowError {
    #[error("reading {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Syntax0 { path: String, message: String },
    #[error("include cycle: {0}")]
    IncludeCycle(String),
    #[error("{0}")]
    Invalid(String),
    /// An overrides file does not apply to the workflow; the message names the file.
    #[error(transparent)]
    Overrides(#[from] merge::MergeError),
}

/// What to read.
#[derive(Clone, Debug, Default)]
pub struct WorkflowSource {
    pub path: PathBuf,
    /// Overrides files, applied in order.
    pub overrides: Vec<PathBuf>,
    /// Values files (`configuration:` maps), applied after the workflow's own.
    pub values: Vec<PathBuf>,
}

/// A workflow ready to check or run.
#[derive(Clone, Debug)]
pub struct LoadedWorkflow {
    pub path: PathBuf,
    /// The workflow's folder: relative plugin paths start here.
    pub dir: PathBuf,
    /// The workflow after overrides.
    pub workflow: Workflow,
    /// Starting variables: `base`, then included values, the workflow's
    /// configuration, and `--values` files, later wins.
    pub variables: BTreeMap<String, String>,
    /// Every values file read, in order.
    pub included: Vec<PathBuf>,
    /// Where each starting variable's value came from: the file that set it last
    /// (`scope-host render --explain` shows it).
    pub origins: BTreeMap<String, String>,
}

/// What an overrides file holds, for the error when one has another shape.
const OVERRIDES_SHAPE: &str = "an overrides file holds `steps:`, a list of `{name: <step>, …}` entries (no `action` merges the \
keys given into the step, `action: replace` replaces it, `action: skip` removes it, a new name goes `before:` or `after:` \
a step), and optionally `configuration:` and `continue_on_error:`; see docs/overrides.md";

/// Reads `src`; `base` holds variables known before any file (SERVICE_PATH …),
/// used to expand include paths and configuration values.
pub fn load(src: &WorkflowSource, base: &BTreeMap<String, String>) -> Result<LoadedWorkflow, WorkflowError> {
    let path_s = src.path.display().to_string();
    let text = read(&src.path)?;
    // Typed first: unknown keys and wrong types are reported where they are.
    let typed: Workflow = parse_typed(&text, &path_s)?;
    let workflow = if src.overrides.is_empty() {
        typed
    } else {
        // Overrides merge into the untyped tree, which is typed again afterwards.
        let mut tree: serde_yaml_ng::Value = parse_typed(&text, &path_s)?;
        for ov in &src.overrides {
            let ov_s = ov.display().to_string();
            let ov_text = read(ov)?;
            let _: OverridesFile =
                parse_typed(&ov_text, &ov_s).map_err(|e| WorkflowError::Invalid(format!("{e}\n  hint: {OVERRIDES_SHAPE}")))?;
            let ov_tree: serde_yaml_ng::Value = parse_typed(&ov_text, &ov_s)?;
            merge::apply(&mut tree, &ov_tree, &ov_s)?;
        }
        serde_yaml_ng::from_value(tree).map_err(|e| WorkflowError::Invalid(format!("{path_s}: after applying the overrides: {e}")))?
    };

    let dir = src.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut vars = Vars {
        values: base.clone(),
        origins: base
            .keys()
            .map(|k| (k.clone(), "the service folder (--service-path, $SERVICE_PATH or found)".to_owned()))
            .collect(),
    };
    let mut included = Vec::new();
    let mut stack = vec![canonical(&src.path)];
    let roots = IncludeRoots::of(src, base);
    for inc in &workflow.include {
        include(inc, &dir, &roots, &mut vars, &mut included, &mut stack)?;
    }
    let after_overrides = if src.overrides.is_empty() { "" } else { ", after overrides" };
    vars.apply(&workflow.configuration, &format!("{path_s} (configuration{after_overrides})"));
    for values in &src.values {
        let v: ValuesFile = parse_typed(&read(values)?, &values.display().to_string())?;
        let values_dir = values.parent().map(Path::to_path_buf).unwrap_or_default();
        for inc in &v.include {
            include(inc, &values_dir, &roots, &mut vars, &mut included, &mut stack)?;
        }
        vars.apply(&v.configuration, &format!("{} (--values)", values.display()));
        included.push(values.clone());
    }
    Ok(LoadedWorkflow {
        path: src.path.clone(),
        dir,
        workflow,
        variables: vars.values,
        included,
        origins: vars.origins,
    })
}

/// The starting variables as files set them, and which file set each last.
struct Vars {
    values: BTreeMap<String, String>,
    origins: BTreeMap<String, String>,
}

impl Vars {
    fn apply(&mut self, config: &BTreeMap<String, ConfigValue>, origin: &str) {
        apply_configuration(config, &mut self.values);
        for k in config.keys() {
            self.origins.insert(k.clone(), origin.to_owned());
        }
    }
}

/// The folders `include:` may read from: the service folder (`SERVICE_PATH`), the
/// workflow's folder, and the folders of the overrides and values files given. An
/// include is a values file; letting it name any file would let a workflow read
/// anything the host can (a token, a key) and show it in a parse error.
struct IncludeRoots(Vec<PathBuf>);

impl IncludeRoots {
    fn of(src: &WorkflowSource, base: &BTreeMap<String, String>) -> Self {
        let parent = |p: &Path| p.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut roots: Vec<PathBuf> = base.get("SERVICE_PATH").map(PathBuf::from).into_iter().collect();
        roots.push(parent(&src.path));
        roots.extend(src.overrides.iter().chain(&src.values).map(|p| parent(p)));
        IncludeRoots(
            roots
                .iter()
                .map(|r| canonical(if r.as_os_str().is_empty() { Path::new(".") } else { r }))
                .collect(),
        )
    }

    fn check(&self, spec: &str, path: &Path) -> Result<(), WorkflowError> {
        let real = canonical(path);
        let yaml = real.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if yaml && self.0.iter().any(|root| real.starts_with(root)) {
            return Ok(());
        }
        Err(WorkflowError::Invalid(format!(
            "include `{spec}` resolves to {}, {}: includes read values files (.yaml) inside {}",
            real.display(),
            if yaml {
                "outside the folders a workflow may include from"
            } else {
                "which is not a .yaml file"
            },
            self.0.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ")
        )))
    }
}

fn include(
    spec: &str,
    from_dir: &Path,
    roots: &IncludeRoots,
    vars: &mut Vars,
    included: &mut Vec<PathBuf>,
    stack: &mut Vec<PathBuf>,
) -> Result<(), WorkflowError> {
    let expanded = expand(spec, &|n| vars.values.get(n).cloned());
    if expanded.contains('$') {
        return Err(WorkflowError::Invalid(format!(
            "include `{spec}`: `{expanded}` refers to a variable that is not set (set SERVICE_PATH with --service-path?)"
        )));
    }
    let path = resolve_path(&expanded, from_dir);
    roots.check(spec, &path)?;
    let key = canonical(&path);
    if let Some(pos) = stack.iter().position(|p| *p == key) {
        let chain: Vec<String> = stack[pos..]
            .iter()
            .chain(std::iter::once(&key))
            .map(|p| p.display().to_string())
            .collect();
        return Err(WorkflowError::IncludeCycle(chain.join(" → ")));
    }
    let text = read(&path)?;
    let values: ValuesFile = parse_typed(&text, &path.display().to_string())?;
    stack.push(key);
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    for inner in &values.include {
        include(inner, &dir, roots, vars, included, stack)?;
    }
    stack.pop();
    vars.apply(&values.configuration, &format!("{} (include)", path.display()));
    included.push(path);
    Ok(())
}

/// Adds configuration values as variables, expanding references to earlier ones.
pub fn apply_configuration(config: &BTreeMap<String, ConfigValue>, variables: &mut BTreeMap<String, String>) {
    if config.is_empty() {
        return;
    }
    let snapshot = variables.clone();
    for (k, v) in config {
        let value = expand(&config_string(v), &|n| snapshot.get(n).cloned());
        variables.insert(k.clone(), value);
    }
}

/// A path relative to `dir` unless absolute.
pub fn resolve_path(p: &str, dir: &Path) -> PathBuf {
    let path = PathBuf::from(p);
    if path.is_absolute() {
        path
    } else {
        dir.join(path)
    }
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

fn read(path: &Path) -> Result<String, WorkflowError> {
    yaml_limits::read_capped(path).map_err(|source| WorkflowError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Parses YAML into `T`, with the file, line and column of any error. Text past
/// the size and nesting limits of [`yaml_limits`] is refused before it is parsed.
pub fn parse_typed<T: DeserializeOwned>(text: &str, path: &str) -> Result<T, WorkflowError> {
    if text.trim().is_empty() {
        return Err(WorkflowError::Syntax0 {
            path: path.to_owned(),
            message: "the file is empty".into(),
        });
    }
    yaml_limits::check(text).map_err(|refused| match refused.at {
        Some((line, column)) => WorkflowError::Syntax {
            path: path.to_owned(),
            line,
            column,
            message: refused.message,
        },
        None => WorkflowError::Syntax0 {
            path: path.to_owned(),
            message: refused.message,
        },
    })?;
    serde_yaml_ng::from_str(text).map_err(|e| match e.location() {
        Some(loc) => WorkflowError::Syntax {
            path: path.to_owned(),
            line: loc.line(),
            column: loc.column(),
            message: clean_message(&e.to_string()),
        },
        None => WorkflowError::Syntax0 {
            path: path.to_owned(),
            message: e.to_string(),
        },
    })
}

/// serde_yaml_ng appends " at line X column Y" to messages; the location is printed
/// separately. A scalar the parser quotes (`invalid type: string "…"`) is left out:
/// the location says where it is, and the file may not be meant to be shown (a file
/// included by mistake, a secret in a values file).
fn clean_message(m: &str) -> String {
    let m = match m.rfind(" at line ") {
        Some(i) => &m[..i],
        None => m,
    };
    without_quoted_scalars(m)
}

/// `m` with the content of `string "…"` / `value "…"` quotes replaced by `…`.
fn without_quoted_scalars(m: &str) -> String {
    let mut out = String::with_capacity(m.len());
    let mut rest = m;
    while let Some(at) = rest.find(" \"") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        // The closing quote is the last `"` before `, expected` or the end.
        let end = after.find("\", expected").or_else(|| after.rfind('"'));
        match end {
            Some(end) => {
                out.push_str(" \"…\"");
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(" \"");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn includes_configuration_and_values_in_precedence_order() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "values.yaml",
            "configuration: {A: from-values, B: from-values, DEEP: $SERVICE_PATH/x}\ninclude: [more.yaml]\n",
        );
        write(d.path(), "more.yaml", "configuration: {A: from-more, M: m}\n");
        let wf = write(
            d.path(),
            "wf.yaml",
            "include: [\"$SERVICE_PATH/values.yaml\"]\nconfiguration: {B: from-workflow}\nsteps: []\n",
        );
        let extra = write(d.path(), "extra.yaml", "configuration: {C: from-extra}\n");
        let base = BTreeMap::from([("SERVICE_PATH".to_owned(), d.path().display().to_string())]);
        let loaded = load(
            &WorkflowSource {
                path: wf,
                overrides: vec![],
                values: vec![extra],
            },
            &base,
        )
        .unwrap();
        let v = &loaded.variables;
        assert_eq!(v["A"], "from-values", "the including file wins over what it includes");
        assert_eq!(v["B"], "from-workflow");
        assert_eq!(v["C"], "from-extra");
        assert_eq!(v["M"], "m");
        assert_eq!(v["DEEP"], format!("{}/x", d.path().display()));
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let d = tempfile::tempdir().unwrap();
        let bad = write(d.path(), "wf.yaml", "steps:\n  - name: a\n    typo: 1\n");
        let e = load(
            &WorkflowSource {
                path: bad.clone(),
                ..Default::default()
            },
            &BTreeMap::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("wf.yaml:2:") || e.contains("wf.yaml:3:"), "{e}");
        assert!(e.contains("unknown field `typo`"), "{e}");
        write(d.path(), "wf.yaml", "steps: [\n  {name: a\n");
        let e = load(
            &WorkflowSource {
                path: bad,
                ..Default::default()
            },
            &BTreeMap::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("wf.yaml:"), "{e}");
    }

    #[test]
    fn deeply_nested_or_huge_files_are_refused_before_parsing() {
        // 100 000 nested `[a: `: seconds in the parser before its own depth limit.
        let e = parse_typed::<Workflow>(
            &format!("steps:\n  - name: a\n    configuration: {}", "[a: ".repeat(100_000)),
            "wf.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("wf.yaml:3:") && e.contains("nested more than 64 deep"), "{e}");
        let deep: String = (0..1000).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        let e = parse_typed::<ConfigValue>(&deep, "values.yaml").unwrap_err().to_string();
        assert!(e.starts_with("values.yaml:514:514: ") && e.contains("limit of 512"), "{e}");
        // Through `load`, a file over the size limit is not even read whole.
        let d = tempfile::tempdir().unwrap();
        let wf = write(
            d.path(),
            "wf.yaml",
            &format!("steps: []\n# {}\n", "x".repeat(yaml_limits::MAX_BYTES)),
        );
        let e = load(
            &WorkflowSource {
                path: wf,
                ..Default::default()
            },
            &BTreeMap::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("wf.yaml: larger than 4 MiB"), "{e}");
    }

    #[test]
    fn includes_stay_inside_the_service_and_workflow_folders_and_never_echo_content() {
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "token.yaml", "ghp_s3cr3t-token-content\n");
        write(outside.path(), "token", "ghp_s3cr3t-token-content\n");
        let d = tempfile::tempdir().unwrap();
        for inc in [
            outside.path().join("token.yaml").display().to_string(),
            outside.path().join("token").display().to_string(),
            "../../../../../../etc/passwd".to_owned(),
        ] {
            let wf = write(d.path(), "wf.yaml", &format!("include: [\"{inc}\"]\nsteps: []\n"));
            let e = load(
                &WorkflowSource {
                    path: wf,
                    ..Default::default()
                },
                &BTreeMap::from([("SERVICE_PATH".to_owned(), d.path().display().to_string())]),
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains("includes read values files"), "{inc}: {e}");
            assert!(!e.contains("s3cr3t") && !e.contains("root:"), "{e}");
        }
        // Inside the service folder, a values file that is not one is refused
        // without its content.
        write(d.path(), "wrong.yaml", "ghp_s3cr3t-token-content\n");
        let wf = write(d.path(), "wf.yaml", "include: [wrong.yaml]\nsteps: []\n");
        let e = load(
            &WorkflowSource {
                path: wf,
                ..Default::default()
            },
            &BTreeMap::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("wrong.yaml:") && !e.contains("s3cr3t"), "{e}");
    }

    #[test]
    fn quoted_scalars_leave_parse_messages() {
        assert_eq!(
            without_quoted_scalars("invalid type: string \"hunter2, really\", expected struct ValuesFile"),
            "invalid type: string \"…\", expected struct ValuesFile"
        );
        assert_eq!(
            without_quoted_scalars("unknown field `typo`, expected one of `a`"),
            "unknown field `typo`, expected one of `a`"
        );
    }

    #[test]
    fn include_cycles_and_self_includes_are_refused() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "a.yaml", "include: [b.yaml]\n");
        write(d.path(), "b.yaml", "include: [a.yaml]\n");
        write(d.path(), "self.yaml", "include: [self.yaml]\n");
        for start in ["a.yaml", "self.yaml"] {
            let wf = write(d.path(), "wf.yaml", &format!("include: [{start}]\nsteps: []\n"));
            let e = load(
                &WorkflowSource {
                    path: wf,
                    ..Default::default()
                },
                &BTreeMap::new(),
            )
            .unwrap_err()
            .to_string();
            assert!(e.starts_with("include cycle:"), "{e}");
        }
        let wf = write(d.path(), "wf.yaml", "include: [\"$NOPE/x.yaml\"]\nsteps: []\n");
        let e = load(
            &WorkflowSource {
                path: wf,
                ..Default::default()
            },
            &BTreeMap::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not set"), "{e}");
    }
}
