//! The manifest, declared in code and serialised to JSON at compile time into the
//! `scope-step-manifest` custom section, where the host reads it.

/// The contract version this SDK is built against.
pub const CONTRACT: &str = "0.2.0";

/// The custom section the host reads the manifest from.
pub const SECTION: &str = "scope-step-manifest";

/// Which world the plugin implements; set by [`crate::step!`] or [`crate::check!`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Step,
    Check,
}

/// A variable the plugin reads.
#[derive(Clone, Copy, Debug)]
pub struct Input {
    pub name: &'static str,
    pub required: bool,
    pub description: &'static str,
}

impl Input {
    /// A variable the step cannot run without.
    pub const fn required(name: &'static str) -> Self {
        Input {
            name,
            required: true,
            description: "",
        }
    }
    /// A variable the step reads when present.
    pub const fn optional(name: &'static str) -> Self {
        Input {
            name,
            required: false,
            description: "",
        }
    }
}

/// An output the plugin may return.
#[derive(Clone, Copy, Debug)]
pub struct OutputDecl {
    pub name: &'static str,
    pub secret: bool,
    pub description: &'static str,
}

impl OutputDecl {
    pub const fn plain(name: &'static str) -> Self {
        OutputDecl {
            name,
            secret: false,
            description: "",
        }
    }
    /// An output whose value the host redacts everywhere.
    pub const fn secret(name: &'static str) -> Self {
        OutputDecl {
            name,
            secret: true,
            description: "",
        }
    }
}

/// A cloud action on a resource pattern (IAM globbing, `${VAR}` resolved per call).
#[derive(Clone, Copy, Debug)]
pub struct Capability {
    pub action: &'static str,
    pub resource: &'static str,
}

impl Capability {
    pub const fn new(action: &'static str, resource: &'static str) -> Self {
        Capability { action, resource }
    }
}

/// The declaration. Start from [`Manifest::EMPTY`]:
/// `Manifest { name: "x", version: "0.1.0", ..Manifest::EMPTY }`.
#[derive(Clone, Copy, Debug)]
pub struct Manifest {
    pub name: &'static str,
    pub version: &'static str,
    pub description: &'static str,
    pub kind: Kind,
    pub inputs: &'static [Input],
    pub outputs: &'static [OutputDecl],
    pub capabilities: &'static [Capability],
}

impl Manifest {
    pub const EMPTY: Manifest = Manifest {
        name: "",
        version: "0.1.0",
        description: "",
        kind: Kind::Step,
        inputs: &[],
        outputs: &[],
        capabilities: &[],
    };

    /// The same manifest with `kind` set (used by the export macros).
    pub const fn with_kind(self, kind: Kind) -> Manifest {
        Manifest { kind, ..self }
    }

    /// Length of the JSON encoding.
    pub const fn json_len(&self) -> usize {
        let mut w = Writer {
            buf: [0u8; 0],
            pos: 0,
            counting: true,
        };
        self.write(&mut w);
        w.pos
    }

    /// The JSON encoding; `N` must be [`Manifest::json_len`].
    pub const fn to_json<const N: usize>(&self) -> [u8; N] {
        let mut w = Writer {
            buf: [0u8; N],
            pos: 0,
            counting: false,
        };
        self.write(&mut w);
        assert!(w.pos == N, "manifest length mismatch");
        w.buf
    }

    const fn write<const N: usize>(&self, w: &mut Writer<N>) {
        w.raw("{\"name\":");
        w.string(self.name);
        w.raw(",\"version\":");
        w.string(self.version);
        w.raw(",\"contract\":");
        w.string(CONTRACT);
        w.raw(",\"kind\":");
        w.string(match self.kind {
            Kind::Step => "step",
            Kind::Check => "check",
        });
        w.raw(",\"description\":");
        w.string(self.description);
        w.raw(",\"inputs\":[");
        let mut i = 0;
        while i < self.inputs.len() {
            if i > 0 {
                w.raw(",");
            }
            w.raw("{\"name\":");
            w.string(self.inputs[i].name);
            w.raw(if self.inputs[i].required {
                ",\"required\":true"
            } else {
                ",\"required\":false"
            });
            w.raw(",\"description\":");
            w.string(self.inputs[i].description);
            w.raw("}");
            i += 1;
        }
        w.raw("],\"outputs\":[");
        i = 0;
        while i < self.outputs.len() {
            if i > 0 {
                w.raw(",");
            }
            w.raw("{\"name\":");
            w.string(self.outputs[i].name);
            w.raw(if self.outputs[i].secret {
                ",\"secret\":true"
            } else {
                ",\"secret\":false"
            });
            w.raw(",\"description\":");
            w.string(self.outputs[i].description);
            w.raw("}");
            i += 1;
        }
        w.raw("],\"capabilities\":[");
        i = 0;
        while i < self.capabilities.len() {
            if i > 0 {
                w.raw(",");
            }
            w.raw("{\"action\":");
            w.string(self.capabilities[i].action);
            w.raw(",\"resource\":");
            w.string(self.capabilities[i].resource);
            w.raw("}");
            i += 1;
        }
        w.raw("]}");
    }
}

/// A const JSON writer: counts bytes in a first pass, fills a fixed array in the second.
struct Writer<const N: usize> {
    buf: [u8; N],
    pos: usize,
    counting: bool,
}

impl<const N: usize> Writer<N> {
    const fn byte(&mut self, b: u8) {
        if !self.counting {
            self.buf[self.pos] = b;
        }
        self.pos += 1;
    }

    const fn raw(&mut self, s: &str) {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            self.byte(b[i]);
            i += 1;
        }
    }

    const fn string(&mut self, s: &str) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.byte(b'"');
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c == b'"' || c == b'\\' {
                self.byte(b'\\');
                self.byte(c);
            } else if c < 0x20 {
                self.raw("\\u00");
                self.byte(HEX[(c >> 4) as usize]);
                self.byte(HEX[(c & 0xf) as usize]);
            } else {
                self.byte(c);
            }
            i += 1;
        }
        self.byte(b'"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_lengths_agree() {
        const M: Manifest = Manifest {
            name: "x",
            description: "say \"hi\"\\\n",
            inputs: &[Input::required("A")],
            capabilities: &[Capability::new("lambda:GetFunction", "*")],
            ..Manifest::EMPTY
        };
        const LEN: usize = M.json_len();
        const JSON: [u8; LEN] = M.to_json::<LEN>();
        let text = core::str::from_utf8(&JSON).unwrap();
        assert!(text.contains(r#""description":"say \"hi\"\\\u000a""#), "{text}");
        assert!(
            text.starts_with(r#"{"name":"x","version":"0.1.0","contract":"0.1.0","kind":"step""#),
            "{text}"
        );
    }
}
