//! The resources of a FHIR input and the references between them.
//!
//! Takes the resources of a Bundle or of Bulk Data files (and those
//! contained in a request) and gives an [`Index`] that resolves
//! `Patient/123`, `#id` and `fullUrl` references, and the Medication a
//! request names; a reference that is missing or ambiguous is reported.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Mapper, seq, text};
use crate::codes::InputCode;
use crate::source::SourceFile;
use crate::tree::Node;

/// A resource of the input (or one contained in a MedicationRequest).
#[derive(Clone, Copy)]
pub(super) struct Resource<'a> {
    pub(super) node: &'a Node,
    pub(super) kind: &'a str,
    pub(super) id: Option<&'a str>,
    pub(super) file: usize,
    pub(super) line: usize,
    pub(super) contained: bool,
}

/// Every resource of the input, with lookups by reference.
pub(super) struct Index<'a> {
    pub(super) sources: &'a [Arc<SourceFile>],
    /// How to say "not in the input" in a message.
    pub(super) scope: &'static str,
    pub(super) all: Vec<Resource<'a>>,
    by_url: HashMap<&'a str, Vec<usize>>,
    by_key: HashMap<(&'a str, &'a str), Vec<usize>>,
    /// Observations by the index of the resource their `subject` resolves to.
    pub(super) observations: HashMap<usize, Vec<usize>>,
}

/// What a reference resolves to.
pub(super) enum Lookup {
    Found(usize),
    Missing,
    Ambiguous(usize),
}

impl<'a> Index<'a> {
    /// An empty index over `sources`; `scope` says "not in ..." in messages.
    pub(super) fn new(sources: &'a [Arc<SourceFile>], scope: &'static str) -> Self {
        Self {
            sources,
            scope,
            all: Vec::new(),
            by_url: HashMap::new(),
            by_key: HashMap::new(),
            observations: HashMap::new(),
        }
    }

    /// Adds a resource, or every entry of a Bundle, found in `file`.
    pub(super) fn collect(
        &mut self,
        node: &'a Node,
        file: usize,
        line: &dyn Fn(usize) -> usize,
        full_url: Option<&'a str>,
    ) {
        let Some(kind) = node.get("resourceType").and_then(Node::as_str) else {
            return;
        };
        if kind == "Bundle" {
            for entry in seq(node.get("entry")) {
                if let Some(resource) = entry.get("resource") {
                    let url = entry.get("fullUrl").and_then(Node::as_str);
                    self.collect(resource, file, line, url);
                }
            }
            return;
        }
        let i = self.all.len();
        let id = node.get("id").and_then(Node::as_str);
        self.all.push(Resource {
            node,
            kind,
            id,
            file,
            line: line(node.span.start()),
            contained: false,
        });
        if let Some(url) = full_url {
            self.by_url.entry(url).or_default().push(i);
        }
        if let Some(id) = id {
            self.by_key.entry((kind, id)).or_default().push(i);
        }
    }

    /// Files every Observation under the resource its `subject` names.
    pub(super) fn link(&mut self) {
        for (i, r) in self.all.iter().enumerate() {
            if r.kind != "Observation" {
                continue;
            }
            let reference = r.node.get("subject").and_then(|s| text(s.get("reference")));
            if let Some(Lookup::Found(p)) = reference.map(|x| self.resolve(x)) {
                self.observations.entry(p).or_default().push(i);
            }
        }
    }

    /// The MedicationRequests, in input order.
    pub(super) fn requests(&self) -> impl Iterator<Item = Resource<'a>> + '_ {
        self.all
            .iter()
            .filter(|r| r.kind == "MedicationRequest")
            .copied()
    }

    /// Resolves a literal reference: a Bundle `fullUrl`, else `Type/id`
    /// (relative, or the end of an absolute URL, without `/_history/..`).
    pub(super) fn resolve(&self, reference: &str) -> Lookup {
        let one = |hits: &Vec<usize>| match hits.as_slice() {
            [i] => Lookup::Found(*i),
            [] => Lookup::Missing,
            more => Lookup::Ambiguous(more.len()),
        };
        if let Some(hits) = self.by_url.get(reference) {
            return one(hits);
        }
        let path = reference.split("/_history/").next().unwrap_or(reference);
        let mut parts = path.rsplit('/');
        match (parts.next(), parts.next()) {
            (Some(id), Some(kind)) => self.by_key.get(&(kind, id)).map_or(Lookup::Missing, one),
            _ => Lookup::Missing,
        }
    }

    /// The display name of source `file`.
    pub(super) fn name(&self, file: usize) -> &str {
        self.sources.get(file).map_or("?", |s| s.name())
    }
}

impl<'a> Mapper<'a, '_> {
    /// The Medication `target` names: `#id` among the request's contained
    /// resources, else a resource of the input. Reports what it cannot find.
    pub(super) fn medication_of(&mut self, reference: &Node, target: &str) -> Option<Resource<'a>> {
        let mr = self.mr;
        let found = if let Some(local) = target.strip_prefix('#') {
            let hit = seq(mr.node.get("contained"))
                .iter()
                .find(|c| text(c.get("id")) == Some(local));
            match hit {
                Some(node) => Ok(Resource {
                    node,
                    kind: node
                        .get("resourceType")
                        .and_then(Node::as_str)
                        .unwrap_or("?"),
                    id: node.get("id").and_then(Node::as_str),
                    file: mr.file,
                    line: mr.line,
                    contained: true,
                }),
                None => Err((
                    InputCode::FhirMissingReference,
                    format!("`{target}` names no resource in this request's `contained`"),
                )),
            }
        } else {
            match self.index.resolve(target) {
                Lookup::Found(i) => self.index.all.get(i).copied().ok_or((
                    InputCode::FhirMissingReference,
                    format!("`{target}` is not in {}", self.index.scope),
                )),
                Lookup::Missing => Err((
                    InputCode::FhirMissingReference,
                    format!("`{target}` is not in {}", self.index.scope),
                )),
                Lookup::Ambiguous(n) => Err((
                    InputCode::FhirAmbiguous,
                    format!("`{target}` matches {n} resources in {}", self.index.scope),
                )),
            }
        };
        match found {
            Ok(res) if res.kind == "Medication" => Some(res),
            Ok(res) => {
                let message = format!("`{target}` is a {}, not a Medication", res.kind);
                self.unmapped(&mr, reference, "medicationReference", message, None);
                None
            }
            Err((code, message)) => {
                let label = if code == InputCode::FhirAmbiguous {
                    "ambiguous"
                } else {
                    "not found"
                };
                self.report(
                    code,
                    &mr,
                    reference,
                    "medicationReference",
                    message,
                    label,
                    None,
                );
                None
            }
        }
    }
}
