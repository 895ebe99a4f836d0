//! Workflows in the existing YAML dialect: model, loading (includes, overrides,
//! values), expansion, plugin resolution, static checks, notification routing, and
//! the runner.

pub mod check;
pub mod dispatch;
pub mod expand;
pub mod load;
pub mod merge;
pub mod model;
pub mod plugins;
pub mod routing;
pub mod runner;
pub mod yaml_limits;

pub use load::{load, LoadedWorkflow, WorkflowError, WorkflowSource};
pub use model::{Step, StepKind, Workflow};
