//! The smallest step: reads `WHO`, logs a greeting, returns it as `GREETING`.

use scope_step::prelude::*;

struct Hello;

impl Step for Hello {
    fn run() -> Result<Vec<Output>, StepError> {
        let who = var("WHO").unwrap_or_else(|| "world".into());
        log::info(&format!("hello, {who}"));
        Ok(vec![output("GREETING", format!("hello, {who}"))])
    }
}

scope_step::step!(
    Hello,
    Manifest {
        name: "hello",
        version: "0.1.0",
        description: "Greets WHO (default: world) and returns the greeting",
        inputs: &[Input::optional("WHO")],
        outputs: &[OutputDecl::plain("GREETING")],
        ..Manifest::EMPTY
    }
);
