//! Doses and strengths: `doseAndRate` to a phase's dose.
//!
//! Takes a dosage instruction's `doseAndRate` (`doseQuantity`, or
//! `doseRange.high`) and gives the dose; a dose in units of presentation
//! (`1 {Piece}`, `TAB`) is multiplied by the Medication's single
//! `ingredient.strength` when its denominator is that unit.

use rust_decimal::Decimal;

use super::terminology::{DRUG_FORM, UCUM, codings};
use super::{Mapper, number, number_text, seq, text, unit_text};
use crate::facts::Fact;
use crate::regimen::Given;
use crate::tree::{Node, Value};
use crate::vocabulary::Vocabulary;

/// UCUM codes that count "one unit of presentation" of whatever the product is.
const GENERIC_PIECE: &[&str] = &["1", "{Piece}", "{piece}"];

/// Whether a Quantity counts units of presentation (capsules, tablets).
fn counts_pieces(q: &Node, vocabulary: &Vocabulary) -> bool {
    let code = text(q.get("code"));
    match text(q.get("system")) {
        None | Some(UCUM) => {
            code.is_some_and(|c| c == "1" || (c.starts_with('{') && c.ends_with('}')))
        }
        Some(DRUG_FORM) => true,
        Some(system) => code.is_some_and(|c| {
            vocabulary
                .terminology
                .units_of_presentation
                .iter()
                .any(|k| k.system == system && k.code == c)
        }),
    }
}

/// Whether a dose in `dose` units can be multiplied by a strength per `per`.
fn same_unit(dose: &Node, per: &Node, vocabulary: &Vocabulary) -> bool {
    /// A Quantity's code system; none is UCUM's, as for any bare unit code.
    fn system(q: &Node) -> &str {
        text(q.get("system")).unwrap_or(UCUM)
    }
    let exact = system(dose) == system(per)
        && text(dose.get("code")).is_some_and(|c| Some(c) == text(per.get("code")));
    let piece = system(dose) == UCUM
        && text(dose.get("code")).is_some_and(|c| GENERIC_PIECE.contains(&c))
        && counts_pieces(per, vocabulary);
    exact || piece
}

impl<'a> Mapper<'a, '_> {
    /// Sets the dose per administration.
    pub(super) fn dose(&mut self, phase: usize, at: &str, d: &Node) {
        let mr = self.mr;
        let cover = Some(format!("course.phases[{phase}].dose"));
        let entries = seq(d.get("doseAndRate"));
        let with_dose: Vec<(usize, &Node)> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.get("doseQuantity").is_some() || e.get("doseRange").is_some())
            .collect();
        let chosen = match with_dose.as_slice() {
            [one] => Ok(*one),
            [] => Err("gives no `doseQuantity` or `doseRange`: the dose is unknown"),
            many => {
                let ordered: Vec<&(usize, &Node)> = many
                    .iter()
                    .filter(|(_, e)| codings(e.get("type")).any(|(_, _, c)| c == Some("ordered")))
                    .collect();
                match ordered.as_slice() {
                    [one] => Ok(**one),
                    _ => Err("gives several doses and not exactly one of type `ordered`"),
                }
            }
        };
        let (j, entry) = match chosen {
            Ok(chosen) => chosen,
            Err(why) => {
                self.unmapped(
                    &mr,
                    d.get("doseAndRate").unwrap_or(d),
                    &format!("{at}.doseAndRate"),
                    why.into(),
                    cover,
                );
                return;
            }
        };
        let here = format!("{at}.doseAndRate[{j}]");
        let (q, element) = match (entry.get("doseQuantity"), entry.get("doseRange")) {
            (Some(q), _) => (q, format!("{here}.doseQuantity")),
            // The upper bound, so that the maximum-dose rules see the most the
            // order allows; the below-range and cumulative rules see it too.
            (None, Some(range)) => match range.get("high") {
                Some(high) => (high, format!("{here}.doseRange.high")),
                None => {
                    self.unmapped(
                        &mr,
                        range,
                        &format!("{here}.doseRange"),
                        "has no `high` bound".into(),
                        cover,
                    );
                    return;
                }
            },
            (None, None) => return,
        };
        if let Some(c) = text(q.get("comparator")) {
            self.unmapped(
                &mr,
                q,
                &element,
                format!("the dose is a bound (`{c}`), not a dose"),
                cover,
            );
            return;
        }
        let strength = self.strength();
        let vocabulary = self.b.vocabulary();
        let by_strength = counts_pieces(q, vocabulary)
            || strength.as_ref().is_some_and(|s| {
                s.as_ref()
                    .is_ok_and(|(_, _, per)| same_unit(q, per, vocabulary))
            });
        if by_strength {
            self.dose_by_strength(phase, q, &element, strength, cover);
            return;
        }
        let value = Given::Quantity {
            value: number_text(q.get("value")).unwrap_or_default(),
            unit: unit_text(q).unwrap_or_default().to_owned(),
        };
        self.set_phase(phase, Fact::DOSE, q, value, &element);
    }

    /// The strength of the requested Medication's one active ingredient:
    /// (ingredient index, numerator, denominator); `None` without a Medication.
    fn strength(&self) -> Option<Result<(usize, &'a Node, &'a Node), String>> {
        let med = self.medication?;
        let strengths: Vec<(usize, &'a Node)> = seq(med.node.get("ingredient"))
            .iter()
            .enumerate()
            .filter(|(_, ing)| {
                !matches!(
                    ing.get("isActive").map(|a| &a.value),
                    Some(Value::Bool(false))
                )
            })
            .filter_map(|(k, ing)| ing.get("strength").map(|s| (k, s)))
            .collect();
        Some(match strengths.as_slice() {
            [(k, s)] => match (s.get("numerator"), s.get("denominator")) {
                (Some(num), Some(den)) => Ok((*k, num, den)),
                _ => Err(format!(
                    "the strength of ingredient[{k}] lacks a numerator or denominator"
                )),
            },
            [] => Err("the Medication gives no ingredient strength".into()),
            more => Err(format!(
                "the Medication gives {} ingredient strengths",
                more.len()
            )),
        })
    }

    /// A dose in units of presentation times the strength per unit.
    fn dose_by_strength(
        &mut self,
        phase: usize,
        q: &Node,
        element: &str,
        strength: Option<Result<(usize, &Node, &Node), String>>,
        cover: Option<String>,
    ) {
        let mr = self.mr;
        let unit = unit_text(q)
            .or(text(q.get("code")))
            .unwrap_or("?")
            .to_owned();
        let why = match strength {
            None => Err("the medication is a code, with no strength".to_owned()),
            Some(Err(why)) => Err(why),
            Some(Ok((k, num, den))) if same_unit(q, den, self.b.vocabulary()) => {
                let product = number(q.get("value")).zip(number(num.get("value")));
                let per = number(den.get("value"));
                let mass = product.zip(per).and_then(|((dose, n), per)| {
                    let total = dose.checked_mul(n)?;
                    let each = total.checked_div(per)?;
                    // Only an exact quotient: 10 mg per 3 tablets is not.
                    (each.checked_mul(per)? == total).then_some(each.normalize())
                });
                match (mass, unit_text(num)) {
                    (Some(mass), Some(num_unit)) => Ok((k, mass, num_unit.to_owned())),
                    _ => Err(format!(
                        "the strength of ingredient[{k}] is not an exact number with a unit"
                    )),
                }
            }
            Some(Ok((k, _, den))) => Err(format!(
                "the strength of ingredient[{k}] is per `{}`",
                unit_text(den).or(text(den.get("code"))).unwrap_or("?")
            )),
        };
        match why {
            Ok((k, mass, num_unit)) => {
                let strength = self.medication.map_or_else(String::new, |m| {
                    self.describe(&m, &format!("ingredient[{k}].strength"))
                });
                let note = format!("`MedicationRequest.{element}` times {strength}");
                let value = Given::Quantity {
                    value: mass.to_string(),
                    unit: num_unit,
                };
                self.set_phase_noted(phase, Fact::DOSE, q, value, note);
            }
            Err(why) => self.unmapped(
                &mr,
                q,
                element,
                format!("the dose is in `{unit}` and {why}, so rxlint cannot tell the dose in mg"),
                cover,
            ),
        }
    }
}

impl Mapper<'_, '_> {
    /// `asNeededBoolean: true` or an `asNeededCodeableConcept` (as needed
    /// for a reason): the phase is as needed, and `maxDosePerPeriod` is its
    /// most a day. Says whether the dosage is as needed.
    pub(super) fn as_needed(&mut self, phase: usize, at: &str, d: &Node) -> bool {
        let flag = match (d.get("asNeededBoolean"), d.get("asNeededCodeableConcept")) {
            (Some(node), _) if matches!(node.value, Value::Bool(true)) => Some(node),
            (_, Some(node)) => Some(node),
            _ => None,
        };
        let Some(node) = flag else {
            return false;
        };
        let element = if d.get("asNeededBoolean").is_some() {
            format!("{at}.asNeededBoolean")
        } else {
            format!("{at}.asNeededCodeableConcept")
        };
        self.set_phase(phase, Fact::AS_NEEDED, node, Given::Bool(true), &element);
        if let Some(max) = d.get("maxDosePerPeriod") {
            self.max_per_day(phase, &format!("{at}.maxDosePerPeriod"), max);
        }
        true
    }

    /// `maxDosePerPeriod` (a Ratio: 4 g per 24 h) as the most a day.
    fn max_per_day(&mut self, phase: usize, element: &str, ratio: &Node) {
        let mr = self.mr;
        let cover = Some(format!("course.phases[{phase}].daily_dose"));
        let numerator = ratio.get("numerator");
        let per = ratio.get("denominator").and_then(|q| {
            let unit = crate::units::Unit::parse(unit_text(q)?).ok()?;
            (unit.dim == crate::units::Dim::TIME)
                .then(|| unit.factor.to_canonical(number(q.get("value"))?))
                .flatten()
        });
        let (Some(q), Some(days)) = (numerator, per) else {
            self.unmapped(
                &mr,
                ratio,
                element,
                "needs a `numerator` dose and a `denominator` time (such as 4 g per 24 h)".into(),
                cover,
            );
            return;
        };
        let (Some(value), Some(unit)) = (number(q.get("value")), unit_text(q)) else {
            self.unmapped(
                &mr,
                q,
                element,
                "the maximum has no value or unit".into(),
                cover,
            );
            return;
        };
        // 4 g per 1 wk is `4 g/wk`, exactly; 4 g per 24 h is 4 g a day.
        let denominator = ratio.get("denominator");
        let given = match denominator.and_then(|q| Some((number(q.get("value"))?, unit_text(q)?))) {
            Some((one, per)) if one == Decimal::ONE => Given::Quantity {
                value: value.normalize().to_string(),
                unit: format!("{unit}/{per}"),
            },
            _ => match value.checked_div(days) {
                Some(per_day) => Given::Quantity {
                    value: per_day.normalize().to_string(),
                    unit: format!("{unit}/d"),
                },
                None => {
                    self.unmapped(&mr, ratio, element, "the period is zero".into(), cover);
                    return;
                }
            },
        };
        self.set_phase(phase, Fact::DAILY_DOSE, q, given, element);
    }
}
