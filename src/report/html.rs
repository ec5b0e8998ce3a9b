//! `--format html` and `rxlint report`: JSON Lines records in, one
//! self-contained HTML page out, for the pharmacist in charge.
//!
//! Both commands feed the same [`Aggregate`] with records of the JSON Lines
//! contract (`check --format html` renders each outcome as its JSON line and
//! reads it back), so a report built from a cluster's `--format json` run is
//! the report `check` would have written. The aggregate holds counts, fixed
//! histogram bins and at most [`DRILL_CAP`] records per rule: its memory and
//! the page's size do not grow with the number of records.

mod aggregate;
mod limit;

use askama::Template;
use sha2::{Digest, Sha256};

pub use aggregate::{Aggregate, Record};

use crate::rules::RuleSet;

/// Records listed per rule in the drill-down; the rest are counted, and
/// the page points to the full JSON Lines.
pub const DRILL_CAP: usize = 200;

/// What the page says about the run besides its records.
#[derive(Clone, Debug)]
pub struct Provenance {
    /// The profile the rules were selected for.
    pub profile: String,
    /// Where the records came from (`check` inputs, or the JSON Lines files
    /// given to `report`).
    pub sources: Vec<String>,
    /// The command that produced the records (`rxlint check`, `rxlint report`).
    pub command: String,
    /// When the page was written, UTC.
    pub time: String,
}

/// One rule in force, as the page describes it.
#[derive(Clone, Debug)]
pub struct RuleInfo {
    /// Rule id.
    pub id: String,
    /// Title.
    pub title: String,
    /// `error`, `warning` or `info`.
    pub severity: String,
    /// The `violation` condition as written.
    pub condition: String,
    /// The cited sentence.
    pub quote: String,
    /// Source and section of the citation.
    pub cited: String,
    /// The numeric limit its condition compares its primary fact with.
    pub limit: Option<limit::Limit>,
}

/// The rules in force for a profile, and a hash of the rule files' text.
#[derive(Clone, Debug)]
pub struct Catalog {
    /// Rules in force, in load order, each id once.
    pub rules: Vec<RuleInfo>,
    /// sha256 over the rule packs' file names and text, in name order.
    pub hash: String,
}

impl Catalog {
    /// The rules of `set` that are in force in `profile`.
    pub fn new(set: &RuleSet, profile: &str) -> Catalog {
        let mut rules: Vec<RuleInfo> = Vec::new();
        // A product pack may restate a rule under the same id with its own
        // limit (Absorica LD's 1.6 mg/kg/day): the base pack's wording comes
        // first, each product's condition is added, and all limits drawn.
        let mut packs: Vec<&crate::rules::Pack> = set.packs.iter().collect();
        packs.sort_by_key(|p| p.is_product_pack());
        for pack in packs {
            for rule in pack.rules.iter().filter(|r| r.in_profile(profile)) {
                let limit = rule.primary.and_then(|fact| {
                    limit::Limit::find(&rule.violation.text, &set.vocabulary.info(fact).path)
                });
                if let Some(known) = rules.iter_mut().find(|r| r.id == rule.id) {
                    if known.condition != rule.violation.text {
                        known
                            .condition
                            .push_str(&format!("\n({}: {})", pack.name, rule.violation.text));
                        known.limit = limit::Limit::merge(known.limit.take(), limit);
                    }
                    continue;
                }
                let citation = rule.citation_in(profile);
                rules.push(RuleInfo {
                    id: rule.id.clone(),
                    title: rule.title.clone(),
                    severity: rule.severity.as_str().to_owned(),
                    condition: rule.violation.text.clone(),
                    quote: citation.quote.clone(),
                    cited: citation.short.clone(),
                    limit,
                });
            }
        }
        let mut files: Vec<(&str, &str)> = set
            .packs
            .iter()
            .map(|p| (p.file.name(), p.file.text()))
            .collect();
        files.sort_unstable();
        files.dedup();
        let mut hasher = Sha256::new();
        for (name, text) in files {
            // Lengths first, so that no two sets of files hash alike by
            // moving text across a file boundary.
            hasher.update((name.len() as u64).to_le_bytes());
            hasher.update(name.as_bytes());
            hasher.update((text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
        }
        let hash = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Catalog { rules, hash }
    }
}

/// The current time as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    let date = crate::date::Date::parse("1970-01-01")
        .ok()
        .and_then(|epoch| epoch.add_days(days))
        .map_or_else(|| "?".to_owned(), |d| d.to_string());
    format!(
        "{date} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    version: &'a str,
    provenance: &'a Provenance,
    hash: &'a str,
    view: aggregate::View<'a>,
    cap: usize,
}

/// Renders the page.
pub fn render(aggregate: &Aggregate, provenance: &Provenance) -> Result<String, String> {
    Page {
        version: env!("CARGO_PKG_VERSION"),
        provenance,
        hash: &aggregate.catalog().hash,
        view: aggregate.view(),
        cap: DRILL_CAP,
    }
    .render()
    .map_err(|e| format!("cannot render the HTML report: {e}"))
}
