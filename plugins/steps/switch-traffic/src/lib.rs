//! switch_traffic: routes DESIRED_TRAFFIC percent (0–100) of the main alias to the
//! new (green) version, keeping the alias on its current version. Same version →
//! no-op; an alias on `$LATEST` → 100; 100 → the alias moves wholly to the new version.

use scope_step::lambda;
use scope_step::prelude::*;

struct SwitchTraffic;

/// What to do with the alias, from its current version, the new version and the
/// desired percentage: `(function_version, routing)`; `None` when nothing changes.
pub fn plan(current: &str, new: &str, pct: u32) -> Option<(String, Vec<(String, f64)>)> {
    if current == new {
        return None;
    }
    let pct = if current == "$LATEST" { 100 } else { pct };
    if pct == 100 {
        Some((new.to_owned(), vec![]))
    } else if pct == 0 {
        Some((current.to_owned(), vec![]))
    } else {
        Some((current.to_owned(), vec![(new.to_owned(), f64::from(pct) / 100.0)]))
    }
}

impl Step for SwitchTraffic {
    fn run() -> Result<Vec<Output>, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let alias = lambda_scope::var_or("LAMBDA_MAIN_ALIAS_NAME", "main");
        let raw = lambda_scope::var_or("DESIRED_TRAFFIC", "100");
        let pct: u32 = raw
            .trim()
            .parse()
            .ok()
            .filter(|p| *p <= 100)
            .ok_or_else(|| StepError::InvalidInput(format!("DESIRED_TRAFFIC is `{raw}`; it must be a whole number from 0 to 100")))?;
        let new = var("LAMBDA_GREEN_VERSION").filter(|v| !v.is_empty()).ok_or_else(|| {
            StepError::InvalidInput(
                "no version was published for this deployment (LAMBDA_GREEN_VERSION is empty); run the blue_green deployment first".into(),
            )
        })?;
        let current = lambda::get_alias(&fname, &alias)?;
        let Some((version, routing)) = plan(&current.function_version, &new, pct) else {
            log::info(&format!("alias {alias} already serves version {new}: nothing to switch"));
            return Ok(vec![output("TRAFFIC_ON_NEW_VERSION", "100")]);
        };
        let weights: Vec<lambda::VersionWeight> = routing
            .iter()
            .map(|(v, w)| lambda::VersionWeight {
                version: v.clone(),
                weight: *w,
            })
            .collect();
        let updated = lambda::update_alias(&fname, &alias, Some(&version), Some(&weights), None)?;
        let on_new = if updated.function_version == new {
            100
        } else {
            weights.first().map(|w| (w.weight * 100.0).round() as u32).unwrap_or(0)
        };
        log::info(&format!(
            "alias {alias}: version {} with {on_new}% on version {new}",
            updated.function_version
        ));
        Ok(vec![output("TRAFFIC_ON_NEW_VERSION", on_new.to_string())])
    }
}

scope_step::step!(
    SwitchTraffic,
    Manifest {
        name: "switch-traffic",
        version: "0.1.0",
        description: "Shifts DESIRED_TRAFFIC percent of the main alias to the new version",
        inputs: &[
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::optional("LAMBDA_MAIN_ALIAS_NAME"),
            Input::optional("DESIRED_TRAFFIC"),
            Input::optional("LAMBDA_GREEN_VERSION")
        ],
        outputs: &[OutputDecl::plain("TRAFFIC_ON_NEW_VERSION")],
        capabilities: &lambda_scope::ALIAS_CAPABILITIES,
        ..Manifest::EMPTY
    }
);

#[cfg(test)]
mod tests {
    use super::plan;

    #[test]
    fn switch_arithmetic() {
        assert_eq!(plan("3", "3", 50), None);
        assert_eq!(plan("$LATEST", "4", 10), Some(("4".into(), vec![])));
        assert_eq!(plan("3", "4", 100), Some(("4".into(), vec![])));
        assert_eq!(plan("3", "4", 0), Some(("3".into(), vec![])));
        assert_eq!(plan("3", "4", 25), Some(("3".into(), vec![("4".into(), 0.25)])));
    }
}
