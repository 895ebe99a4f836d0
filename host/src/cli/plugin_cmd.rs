//! `plugin inspect` and `plugin pack`: looking into plugin components, and giving
//! components built by other toolchains their manifest.

use super::EngineArgs;
use crate::pack::{self, step_toml};
use anyhow::{Context as _, Result};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `plugin pack`'s arguments.
#[derive(Args)]
#[command(after_help = "A step.toml (the same keys as the manifest the Rust SDK writes):\n\n  \
name = \"tag-compliance\"\n  \
version = \"0.1.0\"\n  \
contract = \"0.1.0\"            # the scope:step version the component was built against\n  \
kind = \"check\"                # \"step\" (exports run, the default) or \"check\" (exports check)\n  \
description = \"Reports functions missing required tags\"\n\n  \
[[inputs]]\n  \
name = \"REQUIRED_TAGS\"\n  \
required = true\n\n  \
[[outputs]]\n  \
name = \"MISSING\"\n  \
secret = false\n\n  \
[[capabilities]]\n  \
action = \"tag:GetResources\"\n  \
resource = \"*\"\n\n\
The packed component is loaded as a run would load it (compiled, or found in the compile cache), so a \
component of the wrong world or one importing what this host does not serve is refused here.\n\n\
Example: scope-host plugin pack step.wasm --manifest step.toml -o tag-compliance.wasm")]
pub struct PackArgs {
    /// The component (.wasm), e.g. from componentize-py or componentize-js.
    component: PathBuf,
    /// The manifest, a step.toml.
    #[arg(long, value_name = "TOML")]
    manifest: PathBuf,
    /// Where to write the packed component (may be the input itself).
    #[arg(short = 'o', long = "output", value_name = "WASM")]
    output: PathBuf,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn pack(args: &PackArgs) -> Result<ExitCode> {
    let manifest = step_toml::read(&args.manifest)?;
    let bytes = std::fs::read(&args.component).with_context(|| format!("reading the component {}", args.component.display()))?;
    let runtime = args.engine.runtime()?;
    let packed = pack::pack(&runtime, &bytes, &args.component.display().to_string(), &manifest)?;
    write_atomically(&args.output, &packed.bytes)?;
    let m = &packed.manifest;
    outln!(
        "packed {} {} ({}; contract scope:step@{}) into {}",
        m.name,
        m.version,
        m.kind.as_str(),
        m.contract,
        args.output.display()
    );
    if packed.replaced > 0 {
        outln!("  replaced the manifest it carried before");
    }
    outln!(
        "  checked: it links against this host and exports `{}`; digest {}",
        m.kind.export_name(),
        packed.plugin.digest
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes beside the target and renames, so a failed write never leaves half a
/// plugin where a workflow would find it.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("plugin.wasm");
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

pub fn inspect(path: &Path, json: bool, engine: &EngineArgs) -> Result<ExitCode> {
    let runtime = engine.runtime()?;
    let plugin = runtime.load_file(path)?;
    let ty = plugin.component.component_type();
    let imports: Vec<String> = ty.imports(runtime.engine()).map(|(name, _)| name.to_owned()).collect();
    let exports: Vec<String> = ty.exports(runtime.engine()).map(|(name, _)| name.to_owned()).collect();
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if json {
        let doc = serde_json::json!({
            "file": path, "digest": plugin.digest, "size_bytes": size,
            "manifest": plugin.manifest, "imports": imports, "exports": exports,
        });
        outln!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(ExitCode::SUCCESS);
    }
    let m = &plugin.manifest;
    outln!("{} {} ({}; contract scope:step@{})", m.name, m.version, m.kind.as_str(), m.contract);
    if !m.description.is_empty() {
        outln!("  {}", m.description);
    }
    outln!("file:    {} ({} bytes)", path.display(), size);
    outln!("digest:  {}", plugin.digest);
    let list = |title: &str, items: Vec<String>| {
        outln!("{title}:");
        if items.is_empty() {
            outln!("  (none)");
        }
        for i in items {
            outln!("  {i}");
        }
    };
    list(
        "inputs",
        m.inputs
            .iter()
            .map(|i| format!("{}{}", i.name, if i.required { " (required)" } else { "" }))
            .collect(),
    );
    list(
        "outputs",
        m.outputs
            .iter()
            .map(|o| format!("{}{}", o.name, if o.secret { " (secret)" } else { "" }))
            .collect(),
    );
    list(
        "capabilities",
        m.capabilities.iter().map(|c| format!("{} on {}", c.action, c.resource)).collect(),
    );
    list("imports", imports);
    list("exports", exports);
    Ok(ExitCode::SUCCESS)
}
