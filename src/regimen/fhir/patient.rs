//! The patient: `Patient` and `Observation` resources to patient facts.
//!
//! Takes the request's `subject` and the Observations about it and gives
//! sex, age (whole years at the start), and the latest value on or before
//! the start of every fact the vocabulary gives LOINC codes for: a quantity
//! (weight, a lab value), a coded status (pregnancy), and the eGFR (or the
//! renal impairment category its bound decides).

use rust_decimal::Decimal;

use super::index::{Lookup, Resource};
use super::terminology::{LOINC, coded, coded_as};
use super::{Mapper, date_of, given, number, number_text, seq, text, unit_text};
use crate::codes::InputCode;
use crate::date::Date;
use crate::facts::{Fact, Type, Val};
use crate::regimen::Given;
use crate::tree::Node;
use crate::units::{Dim, Unit};
use crate::vocabulary::{FactInfo, Vocabulary};

/// Observations with the date they count from.
type Dated<'a> = Vec<(Date, Resource<'a>)>;

/// The LOINC codes of a fact's Observations, as the vocabulary declares them.
fn loinc(vocabulary: &Vocabulary, fact: Fact) -> Vec<&str> {
    vocabulary
        .info(fact)
        .fhir
        .loinc
        .iter()
        .map(String::as_str)
        .collect()
}

/// What one Observation of a fact is called, in the plural: "body weights".
fn plural(info: &FactInfo) -> String {
    let one = info.fhir.called.as_deref().unwrap_or(&info.doc);
    if one.ends_with('s') {
        format!("{one}es")
    } else {
        format!("{one}s")
    }
}

/// Year, month and (when given) day of a FHIR date (`1974-12-25`, `1974-12`).
fn ymd(t: &str) -> Option<(i64, i64, Option<i64>)> {
    let t = t.split_once('T').map_or(t, |(d, _)| d);
    let parts: Vec<&str> = t.split('-').collect();
    let num = |s: &&str| s.parse::<i64>().ok();
    match parts.as_slice() {
        [y, m] if y.len() == 4 && m.len() == 2 => {
            let m = num(m).filter(|m| (1..=12).contains(m))?;
            Some((num(y)?, m, None))
        }
        [y, m, d] => {
            Date::parse(t).ok()?;
            Some((num(y)?, num(m)?, Some(num(d)?)))
        }
        _ => None,
    }
}

/// Whole years from `birth` to `start`, when the text of `birth` decides them.
fn age_years(birth: &str, start: Date) -> Option<i64> {
    let (sy, sm, sd) = ymd(&start.to_string())?;
    let sd = sd?;
    let (by, bm, bd) = ymd(birth)?;
    let before_birthday = match bd {
        Some(bd) => (sm, sd) < (bm, bd),
        // Born in the start month, day unknown: the birthday may or may not have passed.
        None if sm == bm => return None,
        None => sm < bm,
    };
    Some(sy - by - i64::from(before_birthday))
}

/// Renal impairment categories in mL/day, as `[low, high)`, named as in
/// [`crate::facts::RENAL`]; the thresholds are the regimen format's.
const RENAL_BANDS: &[(&str, i64, Option<i64>)] = &[
    ("none", 90 * 1440, None),
    ("mild", 60 * 1440, Some(90 * 1440)),
    ("moderate", 30 * 1440, Some(60 * 1440)),
    ("severe", 0, Some(30 * 1440)),
];

/// The renal categories an eGFR reading (in mL/day) with its comparator allows.
fn renal_bands(value: Decimal, comparator: Option<&str>) -> Option<Vec<&'static str>> {
    let mut out = Vec::new();
    for &(name, low, high) in RENAL_BANDS {
        let low = Decimal::from(low);
        let below_high = |v: Decimal| high.is_none_or(|h| v < Decimal::from(h));
        let possible = match comparator {
            None => low <= value && below_high(value),
            Some("<") => low < value,
            Some("<=") => low <= value,
            Some(">" | ">=") => below_high(value),
            Some(_) => return None,
        };
        if possible {
            out.push(name);
        }
    }
    Some(out)
}

/// The resources dated on the latest day.
fn latest<'a>(dated: &[(Date, Resource<'a>)]) -> Vec<Resource<'a>> {
    let Some(last) = dated.iter().map(|(d, _)| *d).max() else {
        return Vec::new();
    };
    dated
        .iter()
        .filter(|(d, _)| *d == last)
        .map(|(_, r)| *r)
        .collect()
}

impl<'a> Mapper<'a, '_> {
    /// Sets sex, age and observations from the Patient of `subject`.
    pub(super) fn patient(&mut self, start: Option<Date>) {
        let mr = self.mr;
        let Some(subject) = mr.node.get("subject") else {
            return;
        };
        // A subject given only by display or identifier names nobody we can read.
        let Some(target) = text(subject.get("reference")) else {
            return;
        };
        let patient = match self.index.resolve(target) {
            Lookup::Found(p) => p,
            Lookup::Missing => {
                let message = format!("`{target}` is not in {}", self.index.scope);
                let help =
                    Some("include the Patient (and its Observations) in the input".to_owned());
                self.report(
                    InputCode::FhirMissingReference,
                    &mr,
                    subject,
                    "subject",
                    message,
                    "not found",
                    help,
                );
                return;
            }
            Lookup::Ambiguous(n) => {
                let message = format!("`{target}` matches {n} resources in {}", self.index.scope);
                self.report(
                    InputCode::FhirAmbiguous,
                    &mr,
                    subject,
                    "subject",
                    message,
                    "ambiguous",
                    None,
                );
                return;
            }
        };
        let Some(&res) = self.index.all.get(patient) else {
            return;
        };
        if res.kind != "Patient" {
            let message = format!("`{target}` is a {}, not a Patient", res.kind);
            self.unmapped(&mr, subject, "subject", message, None);
            return;
        }
        if let Some(gender) = res.node.get("gender") {
            self.set(Fact::SEX, &res, gender, given(gender), "gender");
        }
        if let (Some(birth), Some(start)) = (res.node.get("birthDate"), start)
            && let Some(years) = text(Some(birth)).and_then(|b| age_years(b, start))
        {
            self.set(
                Fact::AGE,
                &res,
                birth,
                Given::Text(format!("{years} years")),
                "birthDate",
            );
        }
        if let Some(start) = start {
            self.observations(patient, start);
        }
    }

    /// The facts the vocabulary reads from Observations (weight, eGFR,
    /// pregnancy, any lab value it declares a LOINC code for), each from
    /// the patient's latest Observations of it on or before `start`.
    pub(super) fn observations(&mut self, patient: usize, start: Date) {
        let index = self.index;
        let vocabulary = self.b.vocabulary();
        let egfr_codes = loinc(vocabulary, Fact::EGFR);
        // (fact, its codes, its Observations with their dates)
        let mut read: Vec<(Fact, Vec<&str>, Dated<'a>)> = vocabulary
            .facts()
            .filter(|f| !f.fhir.loinc.is_empty() && f.fact != Fact::EGFR)
            .map(|f| (f.fact, loinc(vocabulary, f.fact), Vec::new()))
            .collect();
        let mut egfrs: Vec<(Date, Resource<'a>)> = Vec::new();
        for &i in index
            .observations
            .get(&patient)
            .map_or(&[][..], Vec::as_slice)
        {
            let Some(&res) = index.all.get(i) else {
                continue;
            };
            let obs = res.node;
            if matches!(
                text(obs.get("status")),
                Some("entered-in-error" | "cancelled")
            ) {
                continue;
            }
            // `issued` is no earlier than the observation, so it never lets a later one in.
            let date = date_of(obs.get("effectiveDateTime"))
                .or_else(|| date_of(obs.get("effectiveInstant")))
                .or_else(|| {
                    let period = obs.get("effectivePeriod");
                    date_of(period.and_then(|p| p.get("end")))
                        .or_else(|| date_of(period.and_then(|p| p.get("start"))))
                })
                .or_else(|| date_of(obs.get("issued")));
            let Some(date) = date.filter(|d| *d <= start) else {
                continue;
            };
            let code = obs.get("code");
            for (fact, codes, found) in &mut read {
                let quantity = matches!(vocabulary.info(*fact).ty, Type::Quantity(_));
                if coded(code, LOINC, codes).is_some()
                    && (!quantity || obs.get("valueQuantity").is_some())
                {
                    found.push((date, res));
                }
            }
            let egfr_parts = coded(code, LOINC, &egfr_codes).is_some()
                || seq(obs.get("component"))
                    .iter()
                    .any(|c| coded(c.get("code"), LOINC, &egfr_codes).is_some());
            if egfr_parts {
                egfrs.push((date, res));
            }
        }
        for (fact, _, found) in read {
            match vocabulary.info(fact).ty {
                Type::Quantity(_) => self.quantity_observation(fact, latest(&found)),
                _ => self.coded_observation(fact, latest(&found)),
            }
        }
        self.egfr(latest(&egfrs));
    }

    /// Sets a quantity fact (the weight) from its latest Observations.
    fn quantity_observation(&mut self, fact: Fact, latest: Vec<Resource<'a>>) {
        let values: Vec<(Resource<'a>, &Node)> = latest
            .iter()
            .filter_map(|r| r.node.get("valueQuantity").map(|q| (*r, q)))
            .collect();
        let Some(&(res, q)) = values.first() else {
            return;
        };
        let key = |q: &Node| {
            (
                number(q.get("value")),
                unit_text(q).map(str::to_owned),
                text(q.get("comparator")).map(str::to_owned),
            )
        };
        if let Some((other, _)) = values.iter().find(|(_, o)| key(o) != key(q)) {
            let message = format!(
                "two {} on the same day disagree (also {})",
                plural(self.b.vocabulary().info(fact)),
                self.origin(other)
            );
            self.report(
                InputCode::FhirAmbiguous,
                &res,
                q,
                "valueQuantity",
                message,
                "ambiguous",
                None,
            );
            return;
        }
        // A bound (`>100 kg`) is not a value; absent, the rules say so.
        if text(q.get("comparator")).is_some() {
            return;
        }
        let value = Given::Quantity {
            value: number_text(q.get("value")).unwrap_or_default(),
            unit: unit_text(q).unwrap_or_default().to_owned(),
        };
        self.set(fact, &res, q, value, "valueQuantity");
    }

    /// Sets the eGFR, or the renal category a bound decides, from the latest
    /// eGFR Observations.
    fn egfr(&mut self, latest: Vec<Resource<'a>>) {
        let codes = loinc(self.b.vocabulary(), Fact::EGFR);
        // (resource, quantity node, element)
        let mut readings: Vec<(Resource<'a>, &Node, String)> = Vec::new();
        for res in &latest {
            let obs = res.node;
            if coded(obs.get("code"), LOINC, &codes).is_some()
                && let Some(q) = obs.get("valueQuantity")
            {
                readings.push((*res, q, "valueQuantity".into()));
            }
            for (k, c) in seq(obs.get("component")).iter().enumerate() {
                if coded(c.get("code"), LOINC, &codes).is_some()
                    && let Some(q) = c.get("valueQuantity")
                {
                    readings.push((*res, q, format!("component[{k}].valueQuantity")));
                }
            }
        }
        let key = |q: &Node| {
            (
                number(q.get("value")),
                unit_text(q).map(str::to_owned),
                text(q.get("comparator")).map(str::to_owned),
            )
        };
        let mut distinct: Vec<(Resource<'a>, &Node, String)> = Vec::new();
        for r in readings {
            if !distinct.iter().any(|(_, q, _)| key(q) == key(r.1)) {
                distinct.push(r);
            }
        }
        let Some((res, q, element)) = distinct.first().cloned() else {
            return;
        };
        if distinct.len() == 1 && text(q.get("comparator")).is_none() {
            let value = Given::Quantity {
                value: number_text(q.get("value")).unwrap_or_default(),
                unit: unit_text(q).unwrap_or_default().to_owned(),
            };
            self.set(Fact::EGFR, &res, q, value, &element);
            return;
        }
        // A bound (`>60`) or several values (one per population) is no number:
        // only the renal category they all allow can be used.
        let mut bands: Vec<&'static str> = Vec::new();
        for (r, q, element) in &distinct {
            let canonical = number(q.get("value")).and_then(|v| {
                let unit = Unit::parse(unit_text(q)?)
                    .ok()
                    .filter(|u| u.dim == Dim::EGFR || u.dim == Dim::FLOW)?;
                unit.factor.to_canonical(v)
            });
            let allowed = canonical.and_then(|v| renal_bands(v, text(q.get("comparator"))));
            let Some(allowed) = allowed else {
                let message =
                    "this eGFR has no number, unit or comparator rxlint can read".to_owned();
                self.unmapped(r, q, element, message, None);
                return;
            };
            for band in allowed {
                if !bands.contains(&band) {
                    bands.push(band);
                }
            }
        }
        let shown = distinct
            .iter()
            .map(|(_, q, _)| {
                format!(
                    "{}{}",
                    text(q.get("comparator")).unwrap_or(""),
                    number_text(q.get("value")).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        match bands.as_slice() {
            [band] => {
                let band = (*band).to_owned();
                self.set(Fact::RENAL_IMPAIRMENT, &res, q, Given::Text(band), &element);
            }
            // Not severe whatever the value: the rules read an absent renal
            // state as no impairment, which is all they would use it for.
            many if !many.contains(&"severe") => {}
            _ => {
                let message = format!(
                    "the eGFR ({shown}) may or may not be below 30 mL/min/1.73m2, so the renal rules cannot be applied"
                );
                self.report(
                    InputCode::FhirAmbiguous,
                    &res,
                    q,
                    &element,
                    message,
                    "ambiguous",
                    None,
                );
            }
        }
    }

    /// Sets a coded fact (pregnancy status) from its latest Observations:
    /// the value whose codes the vocabulary lists for the Observation's
    /// `valueCodeableConcept`.
    fn coded_observation(&mut self, fact: Fact, latest: Vec<Resource<'a>>) {
        let vocabulary = self.b.vocabulary();
        let info = vocabulary.info(fact);
        let status = |r: &Resource<'_>| {
            let value = r.node.get("valueCodeableConcept");
            info.fhir
                .values
                .iter()
                .find(|(_, codes)| coded_as(value, codes).is_some())
                .map(|(v, _)| *v)
        };
        let known: Vec<(Resource<'a>, Val)> = latest
            .iter()
            .filter_map(|r| status(r).map(|s| (*r, s)))
            .collect();
        let Some(&(res, value)) = known.first() else {
            return;
        };
        let Some(node) = res.node.get("valueCodeableConcept") else {
            return;
        };
        if let Some((other, _)) = known.iter().find(|(_, v)| *v != value) {
            let message = format!(
                "two {} on the same day disagree (also {})",
                plural(info),
                self.origin(other)
            );
            self.report(
                InputCode::FhirAmbiguous,
                &res,
                node,
                "valueCodeableConcept",
                message,
                "ambiguous",
                None,
            );
            return;
        }
        let given = match value {
            Val::Bool(b) => Given::Bool(b),
            Val::Enum(i) => Given::Text(info.value_name(i).to_owned()),
            Val::Num(_) | Val::Date(_) => return,
        };
        self.set(fact, &res, node, given, "valueCodeableConcept");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_whole_years_at_the_start() {
        let start = Date::parse("2016-09-12").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(age_years("1981-01-12", start), Some(35));
        assert_eq!(age_years("1998-09-12", start), Some(18));
        assert_eq!(age_years("1998-09-13", start), Some(17));
        assert_eq!(age_years("1998-08", start), Some(18));
        assert_eq!(age_years("1998-09", start), None);
        assert_eq!(age_years("1998", start), None);
        assert_eq!(age_years("2017-01-01", start), Some(-1));
    }

    #[test]
    fn renal_bounds() {
        let ml_day = |n: i64| Decimal::from(n * 1440);
        assert_eq!(
            renal_bands(ml_day(60), Some(">")),
            Some(vec!["none", "mild"])
        );
        assert_eq!(renal_bands(ml_day(30), Some("<")), Some(vec!["severe"]));
        assert_eq!(
            renal_bands(ml_day(30), Some("<=")),
            Some(vec!["moderate", "severe"])
        );
        assert_eq!(renal_bands(ml_day(90), Some(">=")), Some(vec!["none"]));
        assert_eq!(renal_bands(ml_day(60), None), Some(vec!["mild"]));
        assert_eq!(renal_bands(ml_day(60), Some("ad")), None);
    }
}
