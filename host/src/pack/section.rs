//! The bytes of packing: a component's top-level sections copied as they are, any
//! earlier manifest section dropped, and the new one appended at the end (a
//! custom section may sit anywhere in a component, the end included).

use crate::manifest::SECTION;
use std::ops::Range;
use wasmparser::{Chunk, Parser, Payload};

/// What the top level of a component holds that packing cares about.
pub struct Scanned {
    /// Every top-level section except manifest sections: (id, byte range of its contents).
    pub kept: Vec<(u8, Range<usize>)>,
    /// How many top-level manifest sections were dropped.
    pub dropped_manifests: usize,
    /// The contract versions named by the component's `scope:step/…@version` imports.
    pub contract_imports: Vec<String>,
}

/// Why the top level of a component could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// wasmparser's own message, with its byte offset.
    #[error(transparent)]
    Parse(#[from] wasmparser::BinaryReaderError),
    /// The file stops inside a section's header or contents.
    #[error("the component ends in the middle of a section")]
    Truncated,
    /// A nested module or component claims more bytes than the file has left.
    #[error("a nested module ends past the end of the file (offset {end})")]
    NestedPastEnd { end: usize },
}

/// Reads the top level of a component without descending into its modules.
pub fn scan(bytes: &[u8]) -> Result<Scanned, ScanError> {
    let mut scanned = Scanned {
        kept: Vec::new(),
        dropped_manifests: 0,
        contract_imports: Vec::new(),
    };
    let mut parser = Parser::new(0);
    let mut pos = 0;
    loop {
        let (payload, consumed) = match parser.parse(&bytes[pos..], true)? {
            Chunk::Parsed { payload, consumed } => (payload, consumed),
            Chunk::NeedMoreData(_) => return Err(ScanError::Truncated),
        };
        pos += consumed;
        match &payload {
            Payload::End(_) => return Ok(scanned),
            // Nested modules and components are copied whole; the parser has
            // already stepped over their bytes, so the slice must step too.
            Payload::ModuleSection { unchecked_range, .. } | Payload::ComponentSection { unchecked_range, .. } => {
                if unchecked_range.end > bytes.len() {
                    return Err(ScanError::NestedPastEnd { end: unchecked_range.end });
                }
                pos = unchecked_range.end;
            }
            Payload::CustomSection(reader) if reader.name() == SECTION => {
                scanned.dropped_manifests += 1;
                continue;
            }
            Payload::ComponentImportSection(reader) => {
                for import in reader.clone() {
                    let name = import?.name.name;
                    if let Some(version) = contract_version_of(name) {
                        if !scanned.contract_imports.iter().any(|v| v == version) {
                            scanned.contract_imports.push(version.to_owned());
                        }
                    }
                }
            }
            _ => {}
        }
        if let Some(section) = payload.as_section() {
            scanned.kept.push(section);
        }
    }
}

/// `0.1.0` for `scope:step/log@0.1.0`.
fn contract_version_of(import_name: &str) -> Option<&str> {
    import_name.strip_prefix("scope:step/")?.split_once('@').map(|(_, v)| v)
}

/// The component rebuilt from its kept sections, with `manifest_json` appended as
/// the manifest section.
pub fn rebuild(bytes: &[u8], scanned: &Scanned, manifest_json: &[u8]) -> Vec<u8> {
    use wasm_encoder::{ComponentSection as _, CustomSection, RawSection};
    // The 8-byte preamble (magic, version, layer) is kept as the input has it.
    let mut out = bytes[..8].to_vec();
    for (id, range) in &scanned.kept {
        RawSection {
            id: *id,
            data: &bytes[range.clone()],
        }
        .append_to_component(&mut out);
    }
    CustomSection {
        name: SECTION.into(),
        data: manifest_json.into(),
    }
    .append_to_component(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component_with(manifests: &[&str]) -> Vec<u8> {
        let customs: String = manifests
            .iter()
            .map(|m| format!("(@custom \"{SECTION}\" \"{}\")", m.replace('"', "\\\"")))
            .collect();
        wat::parse_str(format!(
            "(component (import \"scope:step/log@0.1.0\" (instance)) (core module (@custom \"{SECTION}\" \"nested\")) {customs})"
        ))
        .unwrap()
    }

    fn top_level_manifests(bytes: &[u8]) -> Vec<Vec<u8>> {
        let scanned = scan(bytes).unwrap();
        let mut found = Vec::new();
        let mut parser = Parser::new(0);
        let mut pos = 0;
        while let Ok(Chunk::Parsed { payload, consumed }) = parser.parse(&bytes[pos..], true) {
            pos += consumed;
            match payload {
                Payload::End(_) => break,
                Payload::ModuleSection { unchecked_range, .. } => pos = unchecked_range.end,
                Payload::CustomSection(r) if r.name() == SECTION => found.push(r.data().to_vec()),
                _ => {}
            }
        }
        assert_eq!(scanned.dropped_manifests, found.len());
        found
    }

    #[test]
    fn appends_one_manifest_and_replaces_earlier_ones() {
        let before = component_with(&["{\"old\":1}", "{\"old\":2}"]);
        let scanned = scan(&before).unwrap();
        assert_eq!(scanned.dropped_manifests, 2);
        assert_eq!(scanned.contract_imports, vec!["0.1.0".to_owned()]);
        let after = rebuild(&before, &scanned, b"{\"new\":true}");
        wasmparser::Validator::new().validate_all(&after).expect("still a valid component");
        assert_eq!(top_level_manifests(&after), vec![b"{\"new\":true}".to_vec()]);
        // The section inside the core module is not the top level's business.
        let nested = Parser::new(0)
            .parse_all(&after)
            .filter(|p| matches!(p, Ok(Payload::CustomSection(r)) if r.data() == b"nested"))
            .count();
        assert_eq!(nested, 1);
    }

    #[test]
    fn a_truncated_component_is_an_error_not_a_panic() {
        let bytes = component_with(&[]);
        assert!(scan(&bytes[..bytes.len() - 3]).is_err());
    }
}
