//! Test guest: a valid step component without a manifest section.
struct Bare;
impl scope_step::step_world::Guest for Bare {
    fn run() -> Result<Vec<scope_step::Output>, scope_step::StepError> {
        Ok(vec![])
    }
}
scope_step::step_world::__export_step_world!(Bare with_types_in scope_step::step_world);
