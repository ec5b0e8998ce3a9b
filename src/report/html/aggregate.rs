//! Records of the JSON Lines contract in, counts out: per verdict, per rule,
//! per missing fact, a fixed-bin histogram of each limited rule's value, and
//! the worst [`DRILL_CAP`] records of each rule.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use serde::Deserialize;

use super::limit::{Limit, quantity};
use super::{Catalog, DRILL_CAP, RuleInfo};
use crate::eval::Verdict;
use crate::report::Summary;

/// One line of `--format json` (the contract in the README), as read back.
#[derive(Debug, Deserialize)]
pub struct Record {
    /// Regimen id.
    pub id: String,
    /// `file:line` of the regimen.
    pub input: String,
    /// Profile.
    #[serde(default)]
    pub profile: String,
    /// `pass`, `warn`, `fail` or `invalid`.
    pub verdict: String,
    /// Findings, input problems first.
    #[serde(default)]
    pub findings: Vec<FindingRecord>,
}

/// One finding of a [`Record`].
#[derive(Debug, Deserialize)]
pub struct FindingRecord {
    /// Rule id or `input.*` code.
    pub rule: String,
    /// `error`, `warning` or `info`.
    pub severity: String,
    /// `violation` or `unevaluated`.
    pub kind: String,
    /// The message.
    pub message: String,
    /// The values the rule read, by fact name.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Facts whose absence left the rule unevaluated.
    #[serde(default)]
    pub missing: Vec<String>,
    /// Line of the finding in the input.
    #[serde(default)]
    pub line: Option<usize>,
}

/// Bars of a histogram between 0 and twice the greatest limit; one more
/// bar counts the values beyond.
const BINS: usize = 20;

/// Counts of one rule.
#[derive(Debug)]
struct RuleStats {
    info: RuleInfo,
    in_force: bool,
    violations: usize,
    unevaluated: usize,
    /// Findings by the verdict of their regimen: pass, warn, fail, invalid.
    by_verdict: [usize; 4],
    /// `BINS` bars and the overflow.
    bins: Vec<usize>,
    /// Values whose unit is not the limit's.
    other_unit: usize,
    /// The worst rows, least bad on top.
    rows: BinaryHeap<Reverse<Row>>,
}

/// One finding in a rule's drill-down.
#[derive(Debug)]
struct Row {
    /// 3 error, 2 warning, 1 info, 0 unevaluated.
    rank: u8,
    /// Distance of the value from the nearest limit.
    distance: f64,
    /// Input order.
    seq: u64,
    id: String,
    location: String,
    verdict: Verdict,
    kind: String,
    message: String,
    values: String,
}

impl Row {
    fn key(&self) -> (u8, f64, Reverse<u64>) {
        (self.rank, self.distance, Reverse(self.seq))
    }
}

impl PartialEq for Row {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Row {}
impl PartialOrd for Row {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Row {
    /// Greater is worse.
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.key(), other.key());
        a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2))
    }
}

/// Everything the page shows, gathered one record at a time.
#[derive(Debug)]
pub struct Aggregate {
    catalog: Catalog,
    summary: Summary,
    rules: Vec<RuleStats>,
    index: HashMap<String, usize>,
    /// Per missing fact: findings it left unevaluated, and the rules.
    missing: BTreeMap<String, (usize, BTreeMap<String, usize>)>,
    /// Regimens per input file, the first `INPUTS_CAP` files.
    inputs: BTreeMap<String, usize>,
    other_inputs: usize,
    profiles: BTreeMap<String, usize>,
    unreadable: usize,
    seq: u64,
}

const INPUTS_CAP: usize = 100;

fn verdict_of(text: &str) -> Option<Verdict> {
    match text {
        "pass" => Some(Verdict::Pass),
        "warn" => Some(Verdict::Warn),
        "fail" => Some(Verdict::Fail),
        "invalid" => Some(Verdict::Invalid),
        _ => None,
    }
}

fn verdict_slot(v: Verdict) -> usize {
    match v {
        Verdict::Pass => 0,
        Verdict::Warn => 1,
        Verdict::Fail => 2,
        Verdict::Invalid => 3,
    }
}

impl Aggregate {
    /// An empty aggregate over the rules of `catalog`.
    pub fn new(catalog: Catalog) -> Aggregate {
        let mut aggregate = Aggregate {
            catalog,
            summary: Summary::default(),
            rules: Vec::new(),
            index: HashMap::new(),
            missing: BTreeMap::new(),
            inputs: BTreeMap::new(),
            other_inputs: 0,
            profiles: BTreeMap::new(),
            unreadable: 0,
            seq: 0,
        };
        for info in aggregate.catalog.rules.clone() {
            aggregate.add_rule(info, true);
        }
        aggregate
    }

    fn add_rule(&mut self, info: RuleInfo, in_force: bool) -> usize {
        let bins = if info.limit.is_some() {
            vec![0; BINS + 1]
        } else {
            Vec::new()
        };
        self.index.insert(info.id.clone(), self.rules.len());
        self.rules.push(RuleStats {
            info,
            in_force,
            violations: 0,
            unevaluated: 0,
            by_verdict: [0; 4],
            bins,
            other_unit: 0,
            rows: BinaryHeap::new(),
        });
        self.rules.len() - 1
    }

    /// The rules the page describes.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The verdict counts so far.
    pub fn summary(&self) -> Summary {
        self.summary
    }

    /// Lines that were not records of the contract.
    pub fn unreadable(&self) -> usize {
        self.unreadable
    }

    /// Adds one JSON line; a line that is not a record is counted as
    /// unreadable. Blank lines are skipped.
    pub fn add_line(&mut self, line: &[u8]) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match serde_json::from_slice::<Record>(line) {
            Ok(record) => self.add(record),
            Err(_) => self.unreadable += 1,
        }
    }

    /// Adds one record.
    pub fn add(&mut self, record: Record) {
        let Some(verdict) = verdict_of(&record.verdict) else {
            self.unreadable += 1;
            return;
        };
        self.seq += 1;
        self.summary.add(verdict);
        let (file, line) = match record.input.rsplit_once(':') {
            Some((file, line)) if line.parse::<usize>().is_ok() => (file, line),
            _ => (record.input.as_str(), ""),
        };
        if let Some(n) = self.inputs.get_mut(file) {
            *n += 1;
        } else if self.inputs.len() < INPUTS_CAP {
            self.inputs.insert(file.to_owned(), 1);
        } else {
            self.other_inputs += 1;
        }
        if let Some(n) = self.profiles.get_mut(&record.profile) {
            *n += 1;
        } else if self.profiles.len() < INPUTS_CAP {
            self.profiles.insert(record.profile.clone(), 1);
        }
        for finding in record.findings {
            let i = match self.index.get(&finding.rule) {
                Some(&i) => i,
                None => {
                    let input = finding.rule.starts_with("input.");
                    let info = RuleInfo {
                        id: finding.rule.clone(),
                        title: if input {
                            "Input problem".to_owned()
                        } else {
                            "Not among the rules loaded for this report".to_owned()
                        },
                        severity: finding.severity.clone(),
                        condition: String::new(),
                        quote: String::new(),
                        cited: String::new(),
                        limit: None,
                    };
                    self.add_rule(info, false)
                }
            };
            for fact in &finding.missing {
                let entry = self.missing.entry(fact.clone()).or_default();
                entry.0 += 1;
                *entry.1.entry(finding.rule.clone()).or_default() += 1;
            }
            let stats = &mut self.rules[i];
            stats.by_verdict[verdict_slot(verdict)] += 1;
            let unevaluated = finding.kind == "unevaluated";
            if unevaluated {
                stats.unevaluated += 1;
            } else {
                stats.violations += 1;
            }
            let mut distance = 0.0;
            if let Some(limit) = &stats.info.limit
                && let Some(text) = finding.values.get(&limit.key)
                && let Some((value, unit)) = quantity(text)
            {
                if unit == limit.unit {
                    stats.bins[bin(value, limit)] += 1;
                    distance = limit
                        .values
                        .iter()
                        .map(|l| (value - l).abs())
                        .fold(f64::INFINITY, f64::min);
                } else {
                    stats.other_unit += 1;
                }
            }
            let rank = match (unevaluated, finding.severity.as_str()) {
                (true, _) => 0,
                (false, "error") => 3,
                (false, "warning") => 2,
                (false, _) => 1,
            };
            let row = Row {
                rank,
                distance,
                seq: self.seq,
                id: record.id.clone(),
                location: match finding.line {
                    Some(n) => format!("{file}:{n}"),
                    None if line.is_empty() => file.to_owned(),
                    None => format!("{file}:{line}"),
                },
                verdict,
                kind: finding.kind,
                message: finding.message,
                values: finding
                    .values
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            // Keep the worst DRILL_CAP: a row no worse than the least bad
            // kept one is not even pushed.
            if stats.rows.len() < DRILL_CAP {
                stats.rows.push(Reverse(row));
            } else if stats.rows.peek().is_some_and(|Reverse(least)| row > *least) {
                stats.rows.pop();
                stats.rows.push(Reverse(row));
            }
        }
    }

    /// What the template shows.
    pub fn view(&self) -> View<'_> {
        let s = self.summary;
        let tiles = [
            ("pass", s.pass),
            ("warn", s.warn),
            ("fail", s.fail),
            ("invalid", s.invalid),
        ]
        .into_iter()
        .map(|(name, count)| Tile { name, count })
        .collect();
        let mut order: Vec<usize> = (0..self.rules.len()).collect();
        // Rules that fired most first; those in force that never fired last.
        order.sort_by_key(|&i| {
            let r = &self.rules[i];
            (Reverse(r.violations), Reverse(r.unevaluated), i)
        });
        let rules = order
            .into_iter()
            .enumerate()
            .map(|(n, i)| {
                let r = &self.rules[i];
                let mut rows: Vec<&Row> = r.rows.iter().map(|Reverse(row)| row).collect();
                rows.sort_by(|a, b| b.cmp(a));
                let total = r.violations + r.unevaluated;
                let status = match (r.violations, r.unevaluated) {
                    (0, 0) if r.in_force => "never fired",
                    (0, _) => "always unevaluated",
                    _ => "fired",
                };
                RuleView {
                    anchor: format!("rule-{n}"),
                    info: &r.info,
                    in_force: r.in_force,
                    violations: r.violations,
                    unevaluated: r.unevaluated,
                    by_verdict: r.by_verdict,
                    status,
                    chart: r
                        .info
                        .limit
                        .as_ref()
                        .map(|l| Chart::new(l, &r.bins, r.other_unit)),
                    rows: rows
                        .into_iter()
                        .map(|row| RowView {
                            id: &row.id,
                            location: &row.location,
                            verdict: row.verdict.as_str(),
                            kind: &row.kind,
                            message: &row.message,
                            values: &row.values,
                        })
                        .collect(),
                    dropped: total.saturating_sub(r.rows.len()),
                }
            })
            .collect();
        View {
            total: s.total(),
            tiles,
            rules,
            missing: self
                .missing
                .iter()
                .map(|(fact, (count, rules))| MissingView {
                    fact,
                    count: *count,
                    rules: rules
                        .iter()
                        .map(|(r, n)| format!("{r} ({n})"))
                        .collect::<Vec<_>>()
                        .join(", "),
                })
                .collect(),
            inputs: self.inputs.iter().map(|(f, n)| (f.as_str(), *n)).collect(),
            other_inputs: self.other_inputs,
            profiles: self
                .profiles
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            unreadable: self.unreadable,
        }
    }
}

/// The bar a value falls in: `BINS` bars over `[0, 2 × max limit)`, the
/// last one beyond.
fn bin(value: f64, limit: &Limit) -> usize {
    let hi = axis_end(limit);
    if value >= hi {
        return BINS;
    }
    let at = (value.max(0.0) / hi * BINS as f64).floor();
    // In range: `at` is between 0 and BINS - 1.
    (at as usize).min(BINS - 1)
}

fn axis_end(limit: &Limit) -> f64 {
    let max = limit.max();
    if max > 0.0 { 2.0 * max } else { 1.0 }
}

/// The page's data.
pub struct View<'a> {
    pub total: usize,
    pub tiles: Vec<Tile>,
    pub rules: Vec<RuleView<'a>>,
    pub missing: Vec<MissingView<'a>>,
    pub inputs: Vec<(&'a str, usize)>,
    pub other_inputs: usize,
    pub profiles: String,
    pub unreadable: usize,
}

/// A verdict tile.
pub struct Tile {
    pub name: &'static str,
    pub count: usize,
}

/// A rule's table.
pub struct RuleView<'a> {
    pub anchor: String,
    pub info: &'a RuleInfo,
    pub in_force: bool,
    pub violations: usize,
    pub unevaluated: usize,
    pub by_verdict: [usize; 4],
    pub status: &'static str,
    pub chart: Option<Chart>,
    pub rows: Vec<RowView<'a>>,
    pub dropped: usize,
}

/// A row of a rule's drill-down.
pub struct RowView<'a> {
    pub id: &'a str,
    pub location: &'a str,
    pub verdict: &'static str,
    pub kind: &'a str,
    pub message: &'a str,
    pub values: &'a str,
}

/// A missing fact.
pub struct MissingView<'a> {
    pub fact: &'a str,
    pub count: usize,
    pub rules: String,
}

/// An SVG histogram, its geometry worked out here so that the template
/// only places numbers.
pub struct Chart {
    pub width: f64,
    pub height: f64,
    pub bars: Vec<Bar>,
    pub limits: Vec<Mark>,
    pub ticks: Vec<Mark>,
    pub unit: String,
    /// The fact drawn, as findings name it.
    pub key: String,
    pub plotted: usize,
    pub beyond: usize,
    pub other_unit: usize,
    pub axis_y: f64,
    pub left: f64,
    pub right: f64,
}

/// One bar.
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub count: usize,
    pub range: String,
}

/// A limit line or an axis tick: its value and where it is drawn.
pub struct Mark {
    pub x: f64,
    pub value: f64,
    pub label: String,
}

const LEFT: f64 = 40.0;
const PLOT: f64 = 400.0;
const TOP: f64 = 10.0;
const BAR_AREA: f64 = 100.0;

impl Chart {
    fn new(limit: &Limit, bins: &[usize], other_unit: usize) -> Chart {
        let hi = axis_end(limit);
        let width = hi / BINS as f64;
        let step = PLOT / BINS as f64;
        let most = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
        let x_of = |v: f64| LEFT + v / hi * PLOT;
        let bars = bins
            .iter()
            .enumerate()
            .map(|(i, &count)| {
                let h = count as f64 / most * BAR_AREA;
                let range = if i == BINS {
                    format!("≥ {} {}", fmt(hi), limit.unit)
                } else {
                    format!(
                        "{} to {} {}",
                        fmt(i as f64 * width),
                        fmt((i + 1) as f64 * width),
                        limit.unit
                    )
                };
                Bar {
                    // The overflow bar stands one step apart.
                    x: LEFT + i as f64 * step + if i == BINS { step / 2.0 } else { 0.0 } + 0.5,
                    y: TOP + BAR_AREA - h,
                    w: step - 1.0,
                    h,
                    count,
                    range,
                }
            })
            .collect();
        let ticks = [0.0, hi / 4.0, hi / 2.0, 3.0 * hi / 4.0, hi]
            .into_iter()
            .map(|v| Mark {
                x: x_of(v),
                value: v,
                label: fmt(v),
            })
            .collect();
        Chart {
            width: LEFT + PLOT + 2.0 * step + 10.0,
            height: TOP + BAR_AREA + 30.0,
            bars,
            limits: limit
                .values
                .iter()
                .map(|&v| Mark {
                    x: x_of(v),
                    value: v,
                    label: fmt(v),
                })
                .collect(),
            ticks,
            unit: limit.unit.clone(),
            key: limit.key.clone(),
            plotted: bins.iter().sum(),
            beyond: bins.get(BINS).copied().unwrap_or(0),
            other_unit,
            axis_y: TOP + BAR_AREA,
            left: LEFT,
            right: LEFT + PLOT,
        }
    }
}

/// A number as short as it reads: `2`, `0.5`, `1.25`.
pub fn fmt(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}
