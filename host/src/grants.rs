//! Least privilege: a call is allowed only when the plugin declared it *and* the
//! operator's policy grants it. Both sides are lists of (action, resource pattern);
//! patterns use IAM globbing (`*`, `?`) and may name variables (`${NAME}`) that are
//! resolved when the call is made. Anything unresolved or unmatched is denied.

use crate::manifest::Capability;
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;
use thiserror::Error;

/// A refusal: what was asked for, on what, and what would allow it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    pub action: String,
    pub resource: String,
    pub reason: String,
}

/// One statement of the operator policy.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub action: String,
    #[serde(default = "any_resource")]
    pub resource: String,
}

fn any_resource() -> String {
    "*".to_owned()
}

/// The operator's policy: what any plugin may be granted.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub allow: Vec<Statement>,
}

/// Why a policy could not be read.
#[derive(Debug, Error)]
pub enum PolicyError {
    #[error("reading policy {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("policy {path} line {line} column {column}: {message} (expected {{\"allow\": [{{\"action\": \"lambda:GetFunction\", \"resource\": \"arn:…\"}}]}})")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("grant `{0}` is not `service:Action[=resource-pattern]` (e.g. `lambda:GetFunction=arn:aws:lambda:*:*:function:my-fn`)")]
    Flag(String),
    #[error("policy {path}: {message}")]
    Invalid { path: String, message: String },
}

impl Policy {
    /// Grants whatever a plugin declares. The default for local runs: the check
    /// against each plugin's own declaration still applies to every call.
    pub fn allow_all() -> Self {
        Policy {
            allow: vec![Statement {
                action: "*".into(),
                resource: "*".into(),
            }],
        }
    }

    /// Reads a JSON policy file: `{"allow": [{"action": …, "resource": …}]}`.
    pub fn from_file(path: &Path) -> Result<Self, PolicyError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read { path: p.clone(), source })?;
        let policy: Policy = serde_json::from_str(&text).map_err(|e| PolicyError::Syntax {
            path: p.clone(),
            line: e.line(),
            column: e.column(),
            message: crate::json_error::message(&e),
        })?;
        policy.validate(&p)?;
        Ok(policy)
    }

    /// Refuses statements whose action is not `service:Action` (or `*`) or whose
    /// resource pattern has a malformed `${…}`; `origin` names the policy in errors.
    pub fn validate(&self, origin: &str) -> Result<(), PolicyError> {
        for s in &self.allow {
            if !s.action.contains(':') && s.action != "*" {
                return Err(PolicyError::Invalid {
                    path: origin.to_owned(),
                    message: format!("action `{}` is not `service:Action`", s.action),
                });
            }
            pattern_variables(&s.resource).map_err(|e| PolicyError::Invalid {
                path: origin.to_owned(),
                message: format!("resource `{}`: {e}", s.resource),
            })?;
        }
        Ok(())
    }

    /// Builds a policy from `--grant ACTION[=RESOURCE]` flags.
    pub fn from_flags<S: AsRef<str>>(flags: &[S]) -> Result<Self, PolicyError> {
        let mut allow = Vec::new();
        for flag in flags {
            let flag = flag.as_ref();
            let (action, resource) = flag.split_once('=').unwrap_or((flag, "*"));
            if !(action == "*" || action.split_once(':').is_some_and(|(s, a)| !s.is_empty() && !a.is_empty())) || resource.is_empty() {
                return Err(PolicyError::Flag(flag.to_owned()));
            }
            allow.push(Statement {
                action: action.to_owned(),
                resource: resource.to_owned(),
            });
        }
        Ok(Policy { allow })
    }

    /// Adds another policy's statements to this one.
    pub fn extend(&mut self, other: Policy) {
        self.allow.extend(other.allow);
    }
}

/// What one plugin may do in one step: its declaration ∩ the operator policy.
#[derive(Clone, Debug)]
pub struct Grant {
    plugin: String,
    declared: Arc<[Capability]>,
    policy: Arc<Policy>,
}

impl Grant {
    pub fn new(plugin: &str, declared: &[Capability], policy: Arc<Policy>) -> Self {
        Grant {
            plugin: plugin.to_owned(),
            declared: declared.into(),
            policy,
        }
    }

    /// Allows the call, or says which side lacks the grant and how to add it.
    /// `var` resolves `${NAME}` in patterns; an unset variable matches nothing.
    pub fn check(&self, action: &str, resource: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<(), Denial> {
        let deny = |reason: String| Denial {
            action: action.to_owned(),
            resource: resource.to_owned(),
            reason,
        };
        let mut unresolved = Vec::new();
        let declared = self.declared.iter().any(|cap| {
            action_matches(&cap.action, action)
                && match resolve(&cap.resource, var) {
                    Ok(pattern) => glob_matches(&pattern, resource),
                    Err(missing) => {
                        unresolved.push((cap.resource.clone(), missing));
                        false
                    }
                }
        });
        if !declared {
            let mut reason = format!("plugin `{}` does not declare `{action}` on `{resource}`", self.plugin);
            let for_action: Vec<&str> = self
                .declared
                .iter()
                .filter(|c| action_matches(&c.action, action))
                .map(|c| c.resource.as_str())
                .collect();
            if !unresolved.is_empty() {
                let (pattern, var) = &unresolved[0];
                reason.push_str(&format!("; its pattern `{pattern}` needs variable `{var}`, which is not set"));
            } else if for_action.is_empty() {
                // Authors write manifests as step.toml (Python, JS, `plugin pack`) or
                // in Rust (the SDK's `step!`): the fix in both forms, not the JSON the
                // host reads.
                reason.push_str(&format!(
                    "; declare it: in step.toml, `[[capabilities]]` with `action = \"{action}\"` and `resource = \"{resource}\"`; in Rust, `Capability {{ action: \"{action}\", resource: \"{resource}\" }}` in the manifest"
                ));
            } else {
                reason.push_str(&format!(
                    "; it declares `{action}` only on {}",
                    for_action.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
                ));
            }
            return Err(deny(reason));
        }
        let granted = self
            .policy
            .allow
            .iter()
            .any(|s| action_matches(&s.action, action) && resolve(&s.resource, var).is_ok_and(|p| glob_matches(&p, resource)));
        if !granted {
            return Err(deny(format!(
                "the operator policy does not grant `{action}` on `{resource}` to plugin `{}`; add {{\"action\": \"{action}\", \"resource\": \"{resource}\"}} to the policy file (--policy) or pass --grant '{action}={resource}'",
                self.plugin
            )));
        }
        Ok(())
    }

    /// Declared capabilities the operator policy grants nowhere, for `check` and
    /// up-front warnings. Variables are not known yet, so a statement counts when its
    /// action matches and its resource can match the declared pattern for some value
    /// of its variables (`function:*-*-*` can grant `function:${LAMBDA_FUNCTION_NAME}`);
    /// each call is checked with the values it has.
    pub fn ungranted(&self) -> Vec<Capability> {
        self.declared
            .iter()
            .filter(|cap| {
                !self.policy.allow.iter().any(|s| {
                    action_matches(&s.action, &cap.action)
                        && (s.resource == "*"
                            || s.resource == cap.resource
                            || glob_matches(&s.resource, &cap.resource)
                            || can_overlap(&s.resource, &cap.resource))
                })
            })
            .cloned()
            .collect()
    }
}

/// Whether an action is the platform's (`platform:PatchScope`): held by the host
/// with the platform's key, so never part of an AWS session policy.
pub fn is_platform_action(action: &str) -> bool {
    action.get(..9).is_some_and(|prefix| prefix.eq_ignore_ascii_case("platform:"))
}

/// Whether two resource patterns can match one resource, reading each `${VAR}` as
/// any text. ARNs are compared field by field (partition, service, region, account,
/// resource): a `*` in one field does not reach into the next, as it could in IAM's
/// character-level globbing — this is a static estimate; every call is checked
/// exactly.
fn can_overlap(a: &str, b: &str) -> bool {
    let (fa, fb): (Vec<&str>, Vec<&str>) = (a.splitn(6, ':').collect(), b.splitn(6, ':').collect());
    if fa.len() == 6 && fb.len() == 6 && fa[0] == "arn" && fb[0] == "arn" {
        return fa.iter().zip(&fb).all(|(x, y)| patterns_overlap(x, y));
    }
    patterns_overlap(a, b)
}

fn patterns_overlap(a: &str, b: &str) -> bool {
    let open = |p: &str| replace_vars(p, &mut |_| "*".to_owned());
    intersect_globs(&open(a), &open(b)).is_ok_and(|pieces| !pieces.is_empty())
}

/// `pattern` with each `${NAME}` replaced by `value(NAME)`; an unclosed `${` and
/// what follows stay as written. (A call's grant check resolves with
/// [`resolve`], which refuses unset and wildcard values instead.)
pub fn replace_vars(pattern: &str, value: &mut dyn FnMut(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start + 2..].find('}') {
            Some(end) => {
                out.push_str(&value(&rest[start + 2..start + 2 + end]));
                rest = &rest[start + 3 + end..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// AWS's limit on an inline session policy, in characters of compact JSON.
pub const SESSION_POLICY_LIMIT: usize = 2048;

impl Grant {
    /// The grant as an IAM session policy: for every declared capability and every
    /// operator statement, the actions and resources both allow, with variables
    /// resolved. AWS then enforces the same least privilege the host does, so a host
    /// bug cannot widen what a step's session may do; and it allows every call the
    /// host allows, so AWS does not refuse what the grant permits.
    ///
    /// The platform's capabilities are left out (AWS knows nothing of them), and
    /// so are capabilities whose variables are unset (the host would deny them
    /// too). `None` when nothing is granted. An error when the exact policy cannot be
    /// written within AWS's limits: a wider one would outgrow the grant, and a
    /// narrower one would refuse calls the step is allowed to make.
    pub fn session_policy(&self, var: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, String> {
        self.session_policy_of(var, false)
    }

    /// The session policy of a plan (`--plan`): the read actions of the grant only
    /// (see [`is_read_action`]), so that AWS itself refuses any change the session
    /// might attempt. Never `None`: with no read action granted the policy denies
    /// everything, where no policy at all would leave the role's own permissions.
    pub fn read_only_session_policy(&self, var: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
        Ok(self.session_policy_of(var, true)?.unwrap_or_else(|| DENY_ALL_POLICY.to_owned()))
    }

    fn session_policy_of(&self, var: &dyn Fn(&str) -> Option<String>, reads_only: bool) -> Result<Option<String>, String> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        // Services the grant may change something in (for a plan's seed reads).
        let mut changing: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for cap in self.declared.iter().filter(|c| !is_platform_action(&c.action)) {
            let Ok(declared) = resolve(&cap.resource, var) else { continue };
            for s in &self.policy.allow {
                let Ok(granted) = resolve(&s.resource, var) else { continue };
                let mut actions = intersect_actions(&cap.action, &s.action).map_err(|e| self.inexpressible(&e))?;
                if reads_only {
                    changing.extend(
                        actions
                            .iter()
                            .filter(|a| may_write(a))
                            .filter_map(|a| a.split_once(':'))
                            .map(|(svc, _)| svc.to_ascii_lowercase()),
                    );
                    actions = read_actions_of(&actions).map_err(|e| self.inexpressible(&e))?;
                }
                if actions.is_empty() {
                    continue;
                }
                let resources = intersect_globs(&declared, &granted).map_err(|e| self.inexpressible(&e))?;
                for action in &actions {
                    for resource in &resources {
                        pairs.push((action.clone(), resource.clone()));
                    }
                }
            }
        }
        if reads_only {
            // A plan reads a function whole before it plans a change to one of its
            // aliases or versions: the unqualified ARN, too.
            let unqualified: Vec<(String, String)> = pairs
                .iter()
                .filter(|(action, _)| action.to_ascii_lowercase().starts_with("lambda:"))
                .filter_map(|(action, resource)| {
                    let parts: Vec<&str> = resource.split(':').collect();
                    (parts.len() == 8 && parts[5] == "function").then(|| (action.clone(), parts[..7].join(":")))
                })
                .collect();
            pairs.extend(unqualified);
            // Listings AWS authorizes on `*` only.
            for (service, action) in WIDE_SEED_READS {
                if changing.contains(service) {
                    pairs.push((action.to_owned(), "*".to_owned()));
                }
            }
        }
        // The union of what each pair allows is the grant; a pair inside another adds
        // nothing but length.
        let pairs = drop_covered(pairs, |outer, inner| {
            glob_contains(&outer.0.to_ascii_lowercase(), &inner.0.to_ascii_lowercase()) && glob_contains(&outer.1, &inner.1)
        });
        if pairs.is_empty() {
            return Ok(None);
        }
        let document = policy_document(group_by_resources(&pairs));
        if document.len() > SESSION_POLICY_LIMIT {
            return Err(self.too_long(document.len(), &pairs));
        }
        Ok(Some(document))
    }

    fn inexpressible(&self, why: &str) -> String {
        format!(
            "plugin `{}`: the session policy for its grant cannot be written exactly: {why}",
            self.plugin
        )
    }

    /// Names what makes the policy long: the actions with the most resource patterns.
    fn too_long(&self, length: usize, pairs: &[(String, String)]) -> String {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for (action, _) in pairs {
            match counts.iter_mut().find(|(a, _)| a == action) {
                Some((_, n)) => *n += 1,
                None => counts.push((action, 1)),
            }
        }
        counts.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
        let widest: Vec<String> = counts.iter().take(3).map(|(a, n)| format!("`{a}` ({n})")).collect();
        format!(
            "plugin `{}` is granted {} (action, resource pattern) pairs; as a session policy that is {length} characters, more than AWS's {SESSION_POLICY_LIMIT}. \
             The actions with the most resource patterns are {}: declare fewer capabilities or broader resource patterns in the plugin's manifest, \
             or narrow the operator policy (--policy, --grant) to the resources this plugin needs",
            self.plugin,
            pairs.len(),
            widest.join(", ")
        )
    }
}

/// More glob patterns than this for one intersection is refused: a policy that long
/// is better fixed by simpler patterns than written out.
const MAX_PIECES: usize = 16;

/// The bound while intersecting: partial results may hold patterns that a later
/// step finds redundant, so they get more room than the final answer.
const MAX_WORKING_PIECES: usize = 4 * MAX_PIECES;

/// The action patterns matching what both action patterns match. IAM compares
/// actions without regard to case, so the comparison is lowercased; when one pattern
/// lies inside the other it is kept as written (it is what the manifest or the
/// operator spelled), otherwise the pieces are lowercase, which AWS reads the same.
fn intersect_actions(declared: &str, granted: &str) -> Result<Vec<String>, String> {
    let (d, g) = (declared.to_ascii_lowercase(), granted.to_ascii_lowercase());
    if glob_contains(&g, &d) {
        return Ok(vec![declared.to_owned()]);
    }
    if glob_contains(&d, &g) {
        return Ok(vec![granted.to_owned()]);
    }
    intersect_globs(&d, &g)
}

/// The glob patterns whose union matches exactly the texts both `a` and `b` match;
/// empty when they share none. An error naming both when that takes more than
/// [`MAX_PIECES`] patterns.
fn intersect_globs(a: &str, b: &str) -> Result<Vec<String>, String> {
    let (na, nb) = (normalize_glob(a), normalize_glob(b));
    // The common case, and the one whose output should read as the input did.
    if glob_contains(&nb, &na) {
        return Ok(vec![a.to_owned()]);
    }
    if glob_contains(&na, &nb) {
        return Ok(vec![b.to_owned()]);
    }
    let too_many = || format!("`{a}` and `{b}` overlap in more ways than {MAX_PIECES} patterns can say; simplify one of them (fewer `*`)");
    let pieces = GlobProduct::new(&na, &nb).pieces().ok_or_else(too_many)?;
    if pieces.len() > MAX_PIECES {
        return Err(too_many());
    }
    Ok(pieces)
}

/// The product of two glob automata. A glob is a chain of states, one per pattern
/// character, where `*` loops on any character; the pair of positions `(i, j)`
/// stands for the texts both suffixes `a[i..]` and `b[j..]` match. Every move goes
/// forward in `i + j` except the loop where both sides sit on a `*`, which becomes a
/// `*` in the output: so the language is a finite union of globs, one per path.
struct GlobProduct {
    a: Vec<char>,
    b: Vec<char>,
}

/// One way out of a product state: the pattern character it writes (none for a
/// move where one side skips its `*`), and the state it leads to.
type Move = (Option<char>, (usize, usize));

impl GlobProduct {
    fn new(a: &str, b: &str) -> Self {
        GlobProduct {
            a: a.chars().collect(),
            b: b.chars().collect(),
        }
    }

    /// The texts both suffixes match: a single empty text once both are used up.
    fn accepts(&self, (i, j): (usize, usize)) -> bool {
        i == self.a.len() && j == self.b.len()
    }

    fn moves(&self, (i, j): (usize, usize)) -> Vec<Move> {
        match (self.a.get(i).copied(), self.b.get(j).copied()) {
            // Both loop together on any text, then one of them moves on.
            (Some('*'), Some('*')) => vec![(Some('*'), (i + 1, j)), (Some('*'), (i, j + 1))],
            // A `*` facing a character either matches nothing or takes that character.
            (Some('*'), other) => {
                let mut moves = vec![(None, (i + 1, j))];
                moves.extend(other.map(|c| (Some(c), (i, j + 1))));
                moves
            }
            (other, Some('*')) => {
                let mut moves = vec![(None, (i, j + 1))];
                moves.extend(other.map(|c| (Some(c), (i + 1, j))));
                moves
            }
            (Some(x), Some(y)) => match (x, y) {
                ('?', c) | (c, '?') => vec![(Some(c), (i + 1, j + 1))],
                _ if x == y => vec![(Some(x), (i + 1, j + 1))],
                _ => Vec::new(),
            },
            // One side needs a character the other cannot give.
            _ => Vec::new(),
        }
    }

    /// The states reachable from the start, each after every state it moves to.
    fn reachable(&self) -> Vec<(usize, usize)> {
        let mut seen = std::collections::HashSet::from([(0, 0)]);
        let mut todo = vec![(0, 0)];
        while let Some(state) = todo.pop() {
            for (_, next) in self.moves(state) {
                if seen.insert(next) {
                    todo.push(next);
                }
            }
        }
        let mut states: Vec<(usize, usize)> = seen.into_iter().collect();
        // Moves only ever increase `i + j`.
        states.sort_by_key(|&(i, j)| std::cmp::Reverse((i + j, i)));
        states
    }

    /// The intersection as globs, built from the end states back to the start
    /// (iteratively: patterns can be long). `None` when it grows past the bound.
    fn pieces(&self) -> Option<Vec<String>> {
        let mut done: std::collections::HashMap<(usize, usize), Vec<String>> = std::collections::HashMap::new();
        for state in self.reachable() {
            let mut out = Vec::new();
            if self.accepts(state) {
                out.push(String::new());
            }
            for (written, next) in self.moves(state) {
                for rest in &done[&next] {
                    out.push(written.map_or_else(|| rest.clone(), |c| format!("{c}{rest}")));
                }
            }
            let out = simplest_union(out);
            if out.len() > MAX_WORKING_PIECES {
                return None;
            }
            done.insert(state, out);
        }
        done.remove(&(0, 0))
    }
}

/// The same union of globs, normalised, shortest first, without a pattern another
/// one already covers.
fn simplest_union(pieces: Vec<String>) -> Vec<String> {
    let mut pieces: Vec<String> = pieces.iter().map(|p| normalize_glob(p)).collect();
    pieces.sort_by(|x, y| x.len().cmp(&y.len()).then_with(|| x.cmp(y)));
    // Paths through the product often spell the same pattern: one copy is enough,
    // and spares the pairwise containment checks below a quadratic number of calls.
    pieces.dedup();
    drop_covered(pieces, |outer, inner| glob_contains(outer, inner))
}

/// Drops every item another covers; of equal ones the first stays, and an item that
/// replaces others takes the place of the first (so statements keep the order of
/// the declaration). The union is kept because an item is dropped only for one that
/// stays or for one covering that.
pub(crate) fn drop_covered<T>(items: Vec<T>, covers: impl Fn(&T, &T) -> bool) -> Vec<T> {
    let mut kept: Vec<T> = Vec::new();
    for item in items {
        if kept.iter().any(|k| covers(k, &item)) {
            continue;
        }
        // Nothing before the first covered item is removed, so its place stays put.
        let at = kept.iter().position(|k| covers(&item, k)).unwrap_or(kept.len());
        kept.retain(|k| !covers(&item, k));
        kept.insert(at, item);
    }
    kept
}

/// Writes each run of wildcards as its `?`s followed by at most one `*`: the run
/// means "at least that many characters, more if it has a `*`", so the language is
/// the same and equal patterns read the same.
fn normalize_glob(pattern: &str) -> String {
    fn flush(out: &mut String, questions: &mut usize, star: &mut bool) {
        out.extend(std::iter::repeat_n('?', *questions));
        if *star {
            out.push('*');
        }
        (*questions, *star) = (0, false);
    }
    let mut out = String::with_capacity(pattern.len());
    let (mut questions, mut star) = (0, false);
    for c in pattern.chars() {
        match c {
            '?' => questions += 1,
            '*' => star = true,
            _ => {
                flush(&mut out, &mut questions, &mut star);
                out.push(c);
            }
        }
    }
    flush(&mut out, &mut questions, &mut star);
    out
}

/// Whether every text `inner` matches, `outer` matches too: `outer` matches `inner`
/// read as text, where a `?` of `outer` may take a `?` of `inner` (one character
/// either way) but not a `*` (any run). A "no" may be wrong for some unusual pairs
/// (and costs only length), a "yes" never is.
pub(crate) fn glob_contains(outer: &str, inner: &str) -> bool {
    glob_walk(outer, inner, |o, i| i != '*' && (o == '?' || o == i))
}

/// Statements sharing a resource list become one: `[(actions, resources)]`.
pub(crate) fn group_by_resources(pairs: &[(String, String)]) -> Vec<(Vec<String>, Vec<String>)> {
    let mut by_action: Vec<(String, Vec<String>)> = Vec::new();
    for (action, resource) in pairs {
        match by_action.iter_mut().find(|(a, _)| a == action) {
            Some((_, rs)) => rs.push(resource.clone()),
            None => by_action.push((action.clone(), vec![resource.clone()])),
        }
    }
    let mut statements: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    for (action, mut resources) in by_action {
        resources.sort();
        match statements.iter_mut().find(|(_, rs)| *rs == resources) {
            Some((actions, _)) => actions.push(action),
            None => statements.push((vec![action], resources)),
        }
    }
    statements
}

/// Compact IAM policy JSON.
fn policy_document(statements: Vec<(Vec<String>, Vec<String>)>) -> String {
    let statements: Vec<serde_json::Value> = statements
        .into_iter()
        .map(|(actions, resources)| serde_json::json!({"Effect": "Allow", "Action": actions, "Resource": resources}))
        .collect();
    serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// A session policy that allows nothing.
pub const DENY_ALL_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;

/// The patterns of the actions that only read, whatever the service: AWS names
/// them `Get…`, `List…`, `Describe…`, `BatchGet…` and `Filter…` (CloudWatch Logs'
/// FilterLogEvents); API Gateway v2 authorizes by HTTP verb, and `GET` reads.
const READ_ACTION_PATTERNS: [&str; 5] = ["Get*", "List*", "Describe*", "BatchGet*", "Filter*"];

/// Whether `action` (`service:Operation`, no wildcard) only reads.
pub fn is_read_action(action: &str) -> bool {
    let Some((_, operation)) = action.split_once(':') else {
        return false;
    };
    READ_ACTION_PATTERNS
        .iter()
        .any(|p| glob_matches(&p.to_ascii_lowercase(), &operation.to_ascii_lowercase()))
}

/// What a plan reads of a resource before it plans a change to it (`cloud::plan`'s
/// seeds), by service: a plan's session may read what its step may change.
fn seed_reads(service: &str) -> &'static [&'static str] {
    match service.to_ascii_lowercase().as_str() {
        "lambda" => &[
            "lambda:GetFunction",
            "lambda:ListVersionsByFunction",
            "lambda:GetAlias",
            "lambda:GetProvisionedConcurrencyConfig",
        ],
        "iam" => &[
            "iam:GetRole",
            "iam:ListRolePolicies",
            "iam:GetRolePolicy",
            "iam:ListAttachedRolePolicies",
        ],
        "ecr" => &["ecr:GetRepositoryPolicy", "ecr:DescribeImages"],
        "apigateway" => &["apigateway:GET"],
        "elasticloadbalancing" => &[
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetHealth",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeRules",
        ],
        "route53" => &["route53:GetHostedZone", "route53:ListResourceRecordSets"],
        _ => &[],
    }
}

/// Seed reads AWS authorizes on every resource (`*`): a plan's session that may
/// read a log group or a secret before changing it must be let list them all.
const WIDE_SEED_READS: [(&str, &str); 2] = [("logs", "logs:DescribeLogGroups"), ("secretsmanager", "secretsmanager:ListSecrets")];

/// Whether an action pattern may name an action that changes something.
fn may_write(action: &str) -> bool {
    let Some((service, _)) = action.split_once(':') else {
        return true;
    };
    READ_ACTION_PATTERNS
        .iter()
        .all(|p| !glob_contains(&format!("{service}:{p}").to_ascii_lowercase(), &action.to_ascii_lowercase()))
}

/// The read actions among `actions` (patterns): each narrowed to the read patterns
/// of its service, so that `lambda:*` becomes `lambda:Get*`, `lambda:List*` …; and
/// for an action that may change something, the reads a plan makes before planning
/// that change ([`seed_reads`]).
fn read_actions_of(actions: &[String]) -> Result<Vec<String>, String> {
    let mut reads = Vec::new();
    for action in actions {
        let Some((service, _)) = action.split_once(':') else {
            continue;
        };
        if may_write(action) {
            for seed in seed_reads(service) {
                if !reads.iter().any(|r: &String| r.eq_ignore_ascii_case(seed)) {
                    reads.push((*seed).to_owned());
                }
            }
        }
        for pattern in READ_ACTION_PATTERNS {
            // API Gateway's GET is matched by `Get*` too: IAM compares actions ignoring case.
            for narrowed in intersect_actions(action, &format!("{service}:{pattern}"))? {
                if !reads.contains(&narrowed) {
                    reads.push(narrowed);
                }
            }
        }
    }
    Ok(reads)
}

/// IAM action matching: case-insensitive glob over `service:Action`.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    glob_matches(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase())
}

/// IAM globbing: `*` any run of characters (also none), `?` exactly one.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    glob_walk(pattern, text, |p, t| p == '?' || p == t)
}

/// The matcher behind [`glob_matches`] and [`glob_contains`]: a `*` of the pattern
/// takes any run of the text, any other pattern character takes one text character
/// that `takes` accepts. Matching each stretch between stars as early as it fits is
/// enough, so only the last `*` is ever retried.
fn glob_walk(pattern: &str, text: &str, takes: impl Fn(char, char) -> bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        // A `*` is a wildcard even facing a `*` in the text (a pattern read as text,
        // in `glob_contains`): taken as a literal it would leave no point to retry.
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && takes(p[pi], t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// The variable names a pattern uses, or why its `${…}` syntax is wrong.
pub fn pattern_variables(pattern: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| format!("unclosed `${{` in `{pattern}`"))?;
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`${{{name}}}` is not a variable reference"));
        }
        names.push(name.to_owned());
        rest = &after[end + 1..];
    }
    Ok(names)
}

/// Substitutes `${NAME}`; the first unset name is the error. A value's own glob
/// characters are kept literal by refusing them (a variable cannot widen a grant).
fn resolve(pattern: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { return Err(after.to_owned()) };
        let name = &after[..end];
        match var(name) {
            Some(v) if !v.is_empty() && !v.contains(['*', '?']) => out.push_str(&v),
            _ => return Err(name.to_owned()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(action: &str, resource: &str) -> Capability {
        Capability {
            action: action.into(),
            resource: resource.into(),
        }
    }

    #[test]
    fn glob_table() {
        for (p, t, want) in [
            ("*", "", true),
            ("arn:*:function:f", "arn:aws:lambda:us-east-1:1:function:f", true),
            ("arn:*:function:f", "arn:aws:lambda:us-east-1:1:function:f:3", false),
            ("arn:*:function:f:*", "arn:aws:lambda:us-east-1:1:function:f:3", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("a*:b", "a*:*:b", true),
            ("*b", "*ab", true),
        ] {
            assert_eq!(glob_matches(p, t), want, "{p} vs {t}");
        }
        for (outer, inner, want) in [
            ("a*", "a?b*", true),
            ("??*", "a?*", true),
            ("?", "*", false),
            ("a?", "a*", false),
            ("*a*", "*b*", false),
        ] {
            assert_eq!(glob_contains(outer, inner), want, "{outer} ⊇ {inner}");
        }
        assert!(action_matches("lambda:get*", "lambda:GetFunction"));
        assert!(!action_matches("lambda:Get*", "lambda:UpdateAlias"));
    }

    #[test]
    fn grant_needs_declaration_and_policy() {
        let vars = |n: &str| (n == "FN").then(|| "11-app-web".to_owned());
        let declared = [cap("lambda:PublishVersion", "arn:aws:lambda:*:*:function:${FN}")];
        let arn = "arn:aws:lambda:us-east-1:1:function:11-app-web";
        let other = "arn:aws:lambda:us-east-1:1:function:other";
        let open = Grant::new("p", &declared, Arc::new(Policy::allow_all()));
        assert!(open.check("lambda:PublishVersion", arn, &vars).is_ok());
        let err = open.check("lambda:PublishVersion", other, &vars).unwrap_err();
        assert!(err.reason.contains("declares `lambda:PublishVersion` only on"), "{}", err.reason);
        let err = open.check("lambda:DeleteFunction", arn, &vars).unwrap_err();
        assert!(
            err.reason.contains("`[[capabilities]]` with `action = \"lambda:DeleteFunction\"`")
                && err.reason.contains("Capability { action: \"lambda:DeleteFunction\""),
            "{}",
            err.reason
        );
        let err = open.check("lambda:PublishVersion", arn, &|_| None).unwrap_err();
        assert!(err.reason.contains("needs variable `FN`"), "{}", err.reason);
        let narrow = Grant::new("p", &declared, Arc::new(Policy::from_flags(&["lambda:GetFunction"]).unwrap()));
        let err = narrow.check("lambda:PublishVersion", arn, &vars).unwrap_err();
        assert!(err.reason.contains("operator policy does not grant"), "{}", err.reason);
        assert_eq!(narrow.ungranted(), declared.to_vec());
    }

    #[test]
    fn a_policy_by_naming_rule_counts_as_granting_a_variable_pattern_and_a_disjoint_one_does_not() {
        let declared = [cap("lambda:GetFunction", "arn:aws:lambda:*:*:function:${FN}")];
        let by_rule = Policy::from_flags(&["lambda:GetFunction=arn:aws:lambda:*:*:function:*-*-*"]).unwrap();
        assert!(Grant::new("p", &declared, Arc::new(by_rule)).ungranted().is_empty());
        let elsewhere = Policy::from_flags(&["lambda:GetFunction=arn:aws:lambda:*:*:layer:*"]).unwrap();
        assert_eq!(Grant::new("p", &declared, Arc::new(elsewhere)).ungranted(), declared.to_vec());
    }

    #[test]
    fn a_variable_cannot_widen_a_pattern() {
        let declared = [cap("lambda:GetFunction", "arn:aws:lambda:*:*:function:${FN}")];
        let g = Grant::new("p", &declared, Arc::new(Policy::allow_all()));
        assert!(g
            .check("lambda:GetFunction", "arn:aws:lambda:r:1:function:x", &|_| Some("*".into()))
            .is_err());
    }

    #[test]
    fn the_session_policy_is_the_grant_resolved_and_narrowed() {
        let vars = |n: &str| (n == "FN").then(|| "11-app-web".to_owned());
        let declared = [
            cap("lambda:PublishVersion", "arn:aws:lambda:*:*:function:${FN}"),
            cap("lambda:GetFunction", "arn:aws:lambda:*:*:function:*"),
            cap("lambda:UpdateAlias", "arn:aws:lambda:*:*:function:${UNSET}"),
            cap("ecr:GetRepositoryPolicy", "arn:aws:ecr:*:*:repository/*"),
        ];
        let policy = Policy {
            allow: vec![
                Statement {
                    action: "lambda:*".into(),
                    resource: "arn:aws:lambda:us-east-1:1:function:11-*".into(),
                },
                Statement {
                    action: "*".into(),
                    resource: "arn:aws:ecr:*".into(),
                },
            ],
        };
        let g = Grant::new("p", &declared, Arc::new(policy));
        let doc: serde_json::Value = serde_json::from_str(&g.session_policy(&vars).unwrap().unwrap()).unwrap();
        // PublishVersion is declared in any region and account but granted only in
        // one: the session gets the function there, no longer the declaration as
        // written (which was wider than the grant). A glob's `*` spans colons, so the
        // granted `11-*` also reaches a name that itself ends in the declared
        // `:function:11-app-web`; the host allows that text too, and so must AWS.
        assert_eq!(
            doc,
            serde_json::json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["lambda:PublishVersion"], "Resource": [
                    "arn:aws:lambda:us-east-1:1:function:11-*:function:11-app-web",
                    "arn:aws:lambda:us-east-1:1:function:11-app-web",
                ]},
                {"Effect": "Allow", "Action": ["lambda:GetFunction"], "Resource": ["arn:aws:lambda:us-east-1:1:function:11-*"]},
                {"Effect": "Allow", "Action": ["ecr:GetRepositoryPolicy"], "Resource": ["arn:aws:ecr:*:*:repository/*"]},
            ]})
        );
        // Nothing granted: no policy at all (the step makes no call a session could serve).
        let none = Grant::new("p", &declared, Arc::new(Policy::from_flags(&["s3:GetObject"]).unwrap()));
        assert_eq!(none.session_policy(&vars).unwrap(), None);
    }

    #[test]
    fn a_plan_session_policy_allows_only_reads_of_the_grant_and_of_what_it_may_change() {
        let vars = |_: &str| None;
        let declared = [
            cap("lambda:UpdateFunctionCode", "arn:aws:lambda:*:*:function:f"),
            cap("lambda:Get*", "arn:aws:lambda:*:*:function:*"),
            cap("logs:PutRetentionPolicy", "arn:aws:logs:*:*:log-group:/aws/lambda/*"),
            cap("iam:*", "arn:aws:iam::*:role/r"),
        ];
        let g = Grant::new("p", &declared, Arc::new(Policy::allow_all()));
        let doc: serde_json::Value = serde_json::from_str(&g.read_only_session_policy(&vars).unwrap()).unwrap();
        let mut allowed: Vec<(String, String)> = Vec::new();
        for statement in doc["Statement"].as_array().unwrap() {
            assert_eq!(statement["Effect"], "Allow");
            for action in statement["Action"].as_array().unwrap() {
                for resource in statement["Resource"].as_array().unwrap() {
                    allowed.push((action.as_str().unwrap().into(), resource.as_str().unwrap().into()));
                }
            }
        }
        for (action, _) in &allowed {
            assert!(
                is_read_action(action) || action.ends_with(":Get*") || action.ends_with(":List*"),
                "{action} is not a read"
            );
        }
        let has = |a: &str, r: &str| allowed.iter().any(|(x, y)| x == a && y == r);
        assert!(has("lambda:Get*", "arn:aws:lambda:*:*:function:*"), "{allowed:?}");
        assert!(
            has("lambda:ListVersionsByFunction", "arn:aws:lambda:*:*:function:f"),
            "the function it may change: {allowed:?}"
        );
        assert!(
            has("iam:GetRole", "arn:aws:iam::*:role/r") || has("iam:Get*", "arn:aws:iam::*:role/r"),
            "{allowed:?}"
        );
        assert!(has("logs:DescribeLogGroups", "*"), "log groups are listed on `*` only: {allowed:?}");
        assert!(
            !allowed
                .iter()
                .any(|(a, _)| a.contains("Update") || a.contains("Put") || a == "iam:*"),
            "{allowed:?}"
        );
        // Nothing readable granted: everything denied, never the role's own permissions.
        let none = Grant::new("p", &declared, Arc::new(Policy::from_flags(&["s3:GetObject"]).unwrap()));
        assert_eq!(none.read_only_session_policy(&vars).unwrap(), DENY_ALL_POLICY);
        assert!(is_read_action("apigateway:GET") && !is_read_action("apigateway:POST"));
        assert!(is_read_action("logs:FilterLogEvents") && !is_read_action("lambda:InvokeFunction"));
    }

    #[test]
    fn a_session_policy_too_long_for_aws_is_refused_with_what_to_narrow() {
        let many: Vec<Capability> = (0..8)
            .map(|i| cap(&format!("lambda:Action{i}"), &format!("arn:aws:lambda:*:*:function:fn-{i}")))
            .collect();
        let text = Grant::new("p", &many, Arc::new(Policy::allow_all()))
            .session_policy(&|_| None)
            .unwrap()
            .unwrap();
        assert!(text.len() <= SESSION_POLICY_LIMIT, "{}", text.len());
        // Each action on its own resource: pairing every action with every resource
        // would be shorter but would grant what nobody declared, so it is refused.
        let wide: Vec<Capability> = (0..40)
            .map(|i| {
                cap(
                    &format!("lambda:SomeLongActionName{}", i % 20),
                    &format!("arn:aws:lambda:*:*:function:function-name-{i}"),
                )
            })
            .collect();
        let err = Grant::new("big-plugin", &wide, Arc::new(Policy::allow_all()))
            .session_policy(&|_| None)
            .unwrap_err();
        assert!(err.contains("plugin `big-plugin`"), "{err}");
        assert!(err.contains("more than AWS's 2048"), "{err}");
        assert!(err.contains("`lambda:SomeLongActionName0` (2)"), "names the widest actions: {err}");
        assert!(err.contains("operator policy"), "{err}");
    }

    #[test]
    fn overlapping_patterns_are_narrowed_to_their_intersection() {
        let declared = [cap("lambda:GetFunction", "arn:aws:lambda:*:*:function:app-*")];
        let policy = Policy::from_flags(&["lambda:GetFunction=arn:aws:lambda:us-east-1:1:function:*-web"]).unwrap();
        let g = Grant::new("p", &declared, Arc::new(policy));
        let doc: serde_json::Value = serde_json::from_str(&g.session_policy(&|_| None).unwrap().unwrap()).unwrap();
        let allows = |resource: &str| session_allows(&doc, "lambda:GetFunction", resource);
        assert!(allows("arn:aws:lambda:us-east-1:1:function:app-web"), "{doc}");
        assert!(allows("arn:aws:lambda:us-east-1:1:function:app-x-web"), "{doc}");
        assert!(!allows("arn:aws:lambda:us-east-1:1:function:app-api"), "{doc}");
        assert!(!allows("arn:aws:lambda:us-west-2:1:function:app-web"), "{doc}");
        assert!(!allows("arn:aws:lambda:us-east-1:2:function:app-web"), "{doc}");
        assert!(!session_allows(
            &doc,
            "lambda:DeleteFunction",
            "arn:aws:lambda:us-east-1:1:function:app-web"
        ));
    }

    #[test]
    fn glob_intersections() {
        let cases: [(&str, &str, &[&str]); 7] = [
            ("a*", "*b", &["a*b"]),
            ("a*", "b*", &[]),
            ("a?c", "*b*", &["abc"]),
            ("*", "x?y", &["x?y"]),
            ("a**?", "*", &["a**?"]),
            ("*a*", "*b*", &["*a*b*", "*b*a*"]),
            ("??", "*a", &["?a"]),
        ];
        for (a, b, want) in cases {
            let mut got = intersect_globs(a, b).unwrap();
            got.sort();
            assert_eq!(got, want, "{a} ∩ {b}");
        }
        // Every interleaving of two runs of distinct letters is its own pattern.
        let err = intersect_globs("*a*b*c*", "*d*e*f*").unwrap_err();
        assert!(err.contains("`*a*b*c*` and `*d*e*f*`"), "{err}");
        // The narrower action keeps its spelling; a true overlap is written lowercase.
        assert_eq!(intersect_actions("lambda:GetFunction", "lambda:*").unwrap(), ["lambda:GetFunction"]);
        assert_eq!(intersect_actions("LAMBDA:*", "lambda:Get*").unwrap(), ["lambda:Get*"]);
        assert_eq!(
            intersect_actions("lambda:Get*", "lambda:*Function").unwrap(),
            ["lambda:get*function"]
        );
        assert!(intersect_actions("lambda:Get*", "ecr:*").unwrap().is_empty());
        let kept = drop_covered(vec!["x", "a1", "y", "a2", "a*", "a1"], |o, i| glob_contains(o, i));
        assert_eq!(kept, ["x", "a*", "y"]);
    }

    /// IAM's reading of a session policy of Allow statements: some statement matches
    /// the action (without regard to case) and the resource.
    fn session_allows(doc: &serde_json::Value, action: &str, resource: &str) -> bool {
        let strings =
            |v: &serde_json::Value| -> Vec<String> { v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect() };
        doc["Statement"].as_array().unwrap().iter().any(|s| {
            assert_eq!(s["Effect"], "Allow");
            strings(&s["Action"]).iter().any(|a| action_matches(a, action))
                && strings(&s["Resource"]).iter().any(|r| glob_matches(r, resource))
        })
    }

    mod property {
        use super::*;
        use proptest::prelude::*;

        const ACTIONS: [&str; 6] = ["svc:A", "svc:B", "svc:*", "*", "SVC:a", "svc:?"];
        const PROBE_ACTIONS: [&str; 5] = ["svc:A", "svc:a", "svc:B", "svc:AB", "other:A"];
        const TEXT: [char; 3] = ['a', 'b', ':'];

        fn text(max: usize) -> impl Strategy<Value = String> {
            prop::collection::vec(prop::sample::select(TEXT.to_vec()), 0..=max).prop_map(|cs| cs.into_iter().collect())
        }

        /// A resource pattern over a tiny alphabet, sometimes with a variable (`W`
        /// is never set).
        fn resource() -> impl Strategy<Value = String> {
            let chars = prop::collection::vec(prop::sample::select(vec!['a', 'b', ':', '*', '?']), 0..=6);
            let variable = prop::option::of((0..=6usize, prop::sample::select(vec!["${V}", "${W}"])));
            (chars, variable).prop_map(|(cs, variable)| {
                let mut p: String = cs.into_iter().collect();
                if let Some((at, name)) = variable {
                    p.insert_str(at.min(p.len()), name);
                }
                p
            })
        }

        fn capabilities(max: usize) -> impl Strategy<Value = Vec<Capability>> {
            prop::collection::vec((prop::sample::select(ACTIONS.to_vec()), resource()), 1..=max)
                .prop_map(|list| list.into_iter().map(|(a, r)| cap(a, &r)).collect())
        }

        /// Every text up to a short length, and texts shaped like each pattern (its
        /// wildcards filled in), so that the probes land inside the grant often.
        fn probes(patterns: &[String], fills: &[String]) -> Vec<String> {
            let mut level = vec![String::new()];
            let mut out = level.clone();
            for _ in 0..4 {
                level = level.iter().flat_map(|t| TEXT.iter().map(move |c| format!("{t}{c}"))).collect();
                out.extend(level.iter().cloned());
            }
            for p in patterns {
                for shift in 0..fills.len() {
                    let mut t = String::new();
                    for (n, c) in p.chars().enumerate() {
                        match c {
                            '*' => t.push_str(&fills[(shift + n) % fills.len()]),
                            '?' => t.push(TEXT[(shift + n) % TEXT.len()]),
                            c => t.push(c),
                        }
                    }
                    out.push(t);
                }
            }
            out
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn the_session_policy_allows_exactly_what_the_grant_allows(
                declared in capabilities(3),
                granted in capabilities(3),
                value in prop::option::of(text(3)),
                fills in prop::collection::vec(text(3), 1..=4),
            ) {
                let var = |n: &str| if n == "V" { value.clone() } else { None };
                let policy = Policy {
                    allow: granted.iter().map(|c| Statement { action: c.action.clone(), resource: c.resource.clone() }).collect(),
                };
                let grant = Grant::new("p", &declared, Arc::new(policy));
                let patterns: Vec<String> =
                    declared.iter().chain(&granted).filter_map(|c| resolve(&c.resource, &var).ok()).collect();
                let probes = probes(&patterns, &fills);
                match grant.session_policy(&var) {
                    Ok(Some(text)) => {
                        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
                        for action in PROBE_ACTIONS {
                            for resource in &probes {
                                let by_host = grant.check(action, resource, &var).is_ok();
                                let by_aws = session_allows(&doc, action, resource);
                                prop_assert_eq!(by_host, by_aws, "{} on `{}` under {}", action, resource, doc);
                            }
                        }
                    }
                    Ok(None) => {
                        for action in PROBE_ACTIONS {
                            for resource in &probes {
                                prop_assert!(grant.check(action, resource, &var).is_err(), "{} on `{}` with no policy", action, resource);
                            }
                        }
                    }
                    Err(e) => prop_assert!(e.contains("cannot be written exactly"), "{}", e),
                }
            }
        }
    }

    #[test]
    fn bad_flags_are_refused() {
        assert!(Policy::from_flags(&["GetFunction"]).is_err());
        assert!(Policy::from_flags(&["lambda:GetFunction="]).is_err());
        assert_eq!(Policy::from_flags(&["lambda:Get*"]).unwrap().allow[0].resource, "*");
    }
}
