//! Codes and words: the code systems, CodeableConcepts, and what they name.
//!
//! Takes the CodeableConcepts and free text of a MedicationRequest and gives
//! its drug (an RxNorm or SNOMED ingredient code, else a name), its
//! indication (SNOMED CT or ICD-10, else the words of the concept) and
//! whether the dose is taken with food (SNOMED instructions, `when` codes
//! and the words of the instructions).

use super::index::Resource;
use super::{Mapper, raw_text, seq, text};
use crate::facts::Fact;
use crate::regimen::{Given, GivenAt};
use crate::tree::Node;
use crate::vocabulary::{Coding, Vocabulary};

pub(super) const UCUM: &str = "http://unitsofmeasure.org";

pub(super) const SNOMED: &str = "http://snomed.info/sct";

pub(super) const LOINC: &str = "http://loinc.org";

pub(super) const DRUG_FORM: &str = "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm";

pub(super) const GTS: &str = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation";

/// The codings of a CodeableConcept: (coding, system, code).
pub(super) fn codings(
    concept: Option<&Node>,
) -> impl Iterator<Item = (&Node, Option<&str>, Option<&str>)> {
    seq(concept.and_then(|c| c.get("coding")))
        .iter()
        .map(|c| (c, text(c.get("system")), text(c.get("code"))))
}

/// The coding of `concept` that is one of `codes`.
pub(super) fn coded_as<'n>(concept: Option<&'n Node>, codes: &[Coding]) -> Option<&'n Node> {
    codings(concept)
        .find(|(_, s, c)| {
            codes
                .iter()
                .any(|k| *s == Some(k.system.as_str()) && *c == Some(k.code.as_str()))
        })
        .map(|(n, _, _)| n)
}

/// The coding of `concept` with `system` and one of `codes`.
pub(super) fn coded<'n>(
    concept: Option<&'n Node>,
    system: &str,
    codes: &[&str],
) -> Option<&'n Node> {
    codings(concept)
        .find(|(_, s, c)| *s == Some(system) && c.is_some_and(|c| codes.contains(&c)))
        .map(|(n, _, _)| n)
}

/// The indication a `reasonCode` concept names, as the vocabulary's
/// `indications:` declare them: by SNOMED CT code, by ICD-10 category, else
/// (a concept coded in neither) by the words of its `text` or codings'
/// displays.
/// A concept may also be one bare coding, `{system, code}`, as a regimen
/// document writes it.
pub(crate) fn indication_of<'v>(concept: &Node, vocabulary: &'v Vocabulary) -> Option<&'v str> {
    let indications = &vocabulary.indications;
    let bare = concept.get("coding").is_none() && concept.get("code").is_some();
    let all: Vec<(&Node, Option<&str>, Option<&str>)> = if bare {
        vec![(
            concept,
            text(concept.get("system")),
            text(concept.get("code")),
        )]
    } else {
        codings(Some(concept)).collect()
    };
    // A concept coded in SNOMED CT or ICD-10 is what its code says: a code
    // not declared is another condition, whatever its display's words.
    let mut coded_otherwise = false;
    for (_, system, code) in all.iter().copied() {
        let (Some(system), Some(code)) = (system, code) else {
            continue;
        };
        if system == SNOMED {
            match indications
                .iter()
                .find(|i| i.snomed.iter().any(|c| c == code))
            {
                Some(i) => return Some(&i.name),
                None => coded_otherwise = true,
            }
        } else if system.starts_with("http://hl7.org/fhir/sid/icd-10") {
            let code = code.replace('.', "");
            let excluded = indications
                .iter()
                .any(|i| i.icd10_not.iter().any(|o| code.starts_with(o.as_str())));
            let name = indications
                .iter()
                .find(|i| i.icd10.iter().any(|c| code.starts_with(c.as_str())))
                .filter(|_| !excluded);
            match name {
                Some(i) => return Some(&i.name),
                None => coded_otherwise = true,
            }
        }
    }
    if coded_otherwise {
        return None;
    }
    let texts = std::iter::once(text(concept.get("text")))
        .chain(all.iter().map(|(c, _, _)| text(c.get("display"))))
        .flatten();
    let mut named: Option<&'v str> = None;
    for t in texts {
        let words = Words::of(t);
        let has = |phrase: &str| words.find(phrase).next().is_some();
        // Whole words only: "acneiform eruption" is not acne. Conditions that
        // merely contain a known name are another indication, never a guess.
        if indications
            .iter()
            .any(|i| i.words_not.iter().any(|p| has(p)))
        {
            return None;
        }
        for i in indications {
            if !i.words.iter().any(|p| has(p)) {
                continue;
            }
            match named {
                None => named = Some(&i.name),
                Some(n) if n != i.name => return None,
                Some(_) => {}
            }
        }
    }
    named
}

/// Whether a text says the dose is taken with food (`Some(true)`), away from
/// food (`Some(false)`), or neither or both (`None`).
fn food_words(text: &str) -> Option<bool> {
    const AWAY: &[&str] = &[
        "without food",
        "without meals",
        "without a meal",
        "empty stomach",
        "before food",
        "before meals",
        "before a meal",
        "before eating",
    ];
    const WITH: &[&str] = &[
        "with food",
        "with meals",
        "with a meal",
        "with or after food",
        "after food",
        "after meals",
        "after a meal",
        "with breakfast",
        "with lunch",
        "with dinner",
        "with supper",
    ];
    // Say nothing either way: their words are not read as the phrases above.
    const EITHER: &[&str] = &["with or without food", "with or without meals"];
    // A negation up to four words before a phrase reverses it: "do not
    // take it with food", "avoid taking with meals", "not on an empty stomach".
    const NEGATIONS: &[&str] = &[
        "not",
        "no",
        "never",
        "avoid",
        "don't",
        "dont",
        "cannot",
        "can't",
        "shouldn't",
    ];
    let (mut with, mut away) = (false, false);
    for clause in text.split(['.', ',', ';', ':', '!', '?', '\n', '(', ')']) {
        let words = Words::of(clause);
        let neutral: Vec<(usize, usize)> = EITHER
            .iter()
            .flat_map(|p| words.find(p).map(move |i| (i, i + p.split(' ').count())))
            .collect();
        for (phrases, says_with) in [(WITH, true), (AWAY, false)] {
            for phrase in phrases {
                for i in words.find(phrase) {
                    if neutral.iter().any(|(a, b)| (*a..*b).contains(&i)) {
                        continue;
                    }
                    let negated = words.0[i.saturating_sub(4)..i]
                        .iter()
                        .any(|w| NEGATIONS.contains(&w.as_str()));
                    if says_with != negated {
                        with = true;
                    } else {
                        away = true;
                    }
                }
            }
        }
    }
    match (with, away) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// A text's words, lower-cased, for matching whole-word phrases: split at
/// anything but letters, digits and apostrophes (a typographic one is read
/// as `'`), so "acneiform" is not "acne" and "don't" stays one word.
struct Words(Vec<String>);

impl Words {
    fn of(text: &str) -> Words {
        Words(
            text.to_lowercase()
                .replace('\u{2019}', "'")
                .split(|c: char| !(c.is_alphanumeric() || c == '\''))
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    /// Where `phrase` (words separated by single spaces) starts, each time.
    fn find<'a>(&'a self, phrase: &'a str) -> impl Iterator<Item = usize> + 'a {
        let len = phrase.split(' ').count();
        (0..self.0.len()).filter(move |&i| {
            self.0
                .get(i..i + len)
                .is_some_and(|w| w.iter().map(String::as_str).eq(phrase.split(' ')))
        })
    }
}

/// A drug name from a CodeableConcept: a known ingredient code's name, else
/// `text`, else the first coding's `display`; with the node it came from.
fn concept_name<'n>(concept: &'n Node, vocabulary: &Vocabulary) -> Option<(String, &'n Node)> {
    for (code, name) in &vocabulary.drugs {
        if let Some(coding) = coded_as(Some(concept), std::slice::from_ref(code)) {
            return Some((name.clone(), coding));
        }
    }
    if let Some(node) = concept.get("text").filter(|t| text(Some(t)).is_some()) {
        return Some((raw_text(node), node));
    }
    codings(Some(concept))
        .find_map(|(c, _, _)| c.get("display").filter(|d| text(Some(d)).is_some()))
        .map(|d| (raw_text(d), d))
}

/// A drug name from a Medication: a known ingredient code on the product or
/// its single ingredient, else that ingredient's name, else the product's.
fn medication_name<'n>(med: &'n Node, vocabulary: &Vocabulary) -> Option<(String, &'n Node)> {
    let code = med.get("code");
    let ingredients = seq(med.get("ingredient"));
    let single = match ingredients {
        [one] => one.get("itemCodeableConcept"),
        _ => None,
    };
    for concept in [code, single].into_iter().flatten() {
        for (known, name) in &vocabulary.drugs {
            if let Some(coding) = coded_as(Some(concept), std::slice::from_ref(known)) {
                return Some((name.clone(), coding));
            }
        }
    }
    single
        .and_then(|c| concept_name(c, vocabulary))
        .or_else(|| code.and_then(|c| concept_name(c, vocabulary)))
}

impl<'a> Mapper<'a, '_> {
    /// Sets the drug from `medication[x]`, resolving a `medicationReference`.
    pub(super) fn drug(&mut self) {
        let mr = self.mr;
        if let Some(concept) = mr.node.get("medicationCodeableConcept") {
            match concept_name(concept, self.b.vocabulary()) {
                Some((name, node)) => self.set_drug(&mr, node, name, "medicationCodeableConcept"),
                None => self.unmapped(
                    &mr,
                    concept,
                    "medicationCodeableConcept",
                    "names no drug rxlint can read (no ingredient code a rule pack declares, no text, no coding display)"
                        .into(),
                    Some("drug".into()),
                ),
            }
            return;
        }
        let Some(reference) = mr.node.get("medicationReference") else {
            self.unmapped(
                &mr,
                mr.node,
                "medication[x]",
                "the request names no medication".into(),
                Some("drug".into()),
            );
            return;
        };
        let Some(target) = text(reference.get("reference")) else {
            match reference.get("display").filter(|d| text(Some(d)).is_some()) {
                Some(display) => self.set_drug(
                    &mr,
                    display,
                    raw_text(display),
                    "medicationReference.display",
                ),
                None => self.unmapped(
                    &mr,
                    reference,
                    "medicationReference",
                    "has neither a reference nor a display".into(),
                    Some("drug".into()),
                ),
            }
            return;
        };
        let Some(med) = self.medication_of(reference, target) else {
            self.covered.push("drug".into());
            return;
        };
        self.medication = Some(med);
        match medication_name(med.node, self.b.vocabulary()) {
            Some((name, node)) => self.set_drug(&med, node, name, "code"),
            None => self.unmapped(
                &med,
                med.node,
                "code",
                "the Medication names no drug rxlint can read (no code a pack declares, ingredient, text or display)".into(),
                Some("drug".into()),
            ),
        }
    }

    /// Sets the drug name read from `node` of `res`.
    fn set_drug(&mut self, res: &Resource<'_>, node: &Node, name: String, element: &str) {
        let span = self.span(res, node);
        self.notes
            .push(("drug".into(), self.describe(res, element)));
        self.b.drug(GivenAt {
            value: Given::Text(name),
            span,
        });
    }

    /// `indication` from `reasonCode`: the SNOMED CT or ICD-10 code of an
    /// indication the rule language knows, else the words of the concept's
    /// text or displays. Reasons that name none of them, or name different
    /// ones, leave it absent: rules that need it are then unevaluated.
    pub(super) fn indication(&mut self) {
        let mr = self.mr;
        let vocabulary = self.b.vocabulary();
        let mut found: Option<(&str, &Node, usize)> = None;
        for (i, reason) in seq(mr.node.get("reasonCode")).iter().enumerate() {
            let Some(name) = indication_of(reason, vocabulary) else {
                continue;
            };
            match found {
                None => found = Some((name, reason, i)),
                Some((first, ..)) if first != name => return,
                Some(_) => {}
            }
        }
        if let Some((name, node, i)) = found {
            let element = format!("reasonCode[{i}]");
            self.set(
                Fact::INDICATION,
                &mr,
                node,
                Given::Text(name.into()),
                &element,
            );
        }
    }

    /// Sets `with_food` when the instruction says, and all of it agrees.
    pub(super) fn with_food(&mut self, phase: usize, at: &str, d: &Node) {
        let mut votes: Vec<(bool, &Node, String)> = Vec::new();
        let coded_food = &self.b.vocabulary().info(Fact::WITH_FOOD).fhir.instruction;
        for (k, instruction) in seq(d.get("additionalInstruction")).iter().enumerate() {
            let element = format!("{at}.additionalInstruction[{k}]");
            for (coding, system, code) in codings(Some(instruction)) {
                let named = coded_food.iter().find_map(|(value, codes)| {
                    codes
                        .iter()
                        .any(|k| system == Some(k.system.as_str()) && code == Some(k.code.as_str()))
                        .then_some(*value)
                });
                let vote = match named {
                    Some(crate::facts::Val::Bool(b)) => Some(b),
                    _ => text(coding.get("display")).and_then(food_words),
                };
                if let Some(v) = vote {
                    votes.push((v, coding, element.clone()));
                }
            }
            if let Some(v) = text(instruction.get("text")).and_then(food_words) {
                votes.push((v, instruction, element.clone()));
            }
        }
        let repeat = d.get("timing").and_then(|t| t.get("repeat"));
        if let Some(when) = repeat.and_then(|r| r.get("when")) {
            for code in seq(Some(when)).iter().filter_map(Node::as_str) {
                let vote = match code {
                    "C" | "CM" | "CD" | "CV" | "PC" | "PCM" | "PCD" | "PCV" => Some(true),
                    "AC" | "ACM" | "ACD" | "ACV" => Some(false),
                    _ => None,
                };
                if let Some(v) = vote {
                    votes.push((v, when, format!("{at}.timing.repeat.when")));
                }
            }
        }
        for key in ["text", "patientInstruction"] {
            if let Some(node) = d.get(key)
                && let Some(v) = text(Some(node)).and_then(food_words)
            {
                votes.push((v, node, format!("{at}.{key}")));
            }
        }
        let Some((first, node, element)) = votes.first() else {
            return;
        };
        // Instructions that disagree leave it absent: the rule is then unevaluated.
        if votes.iter().all(|(v, _, _)| v == first) {
            let (value, node, element) = (*first, *node, element.clone());
            self.set_phase(phase, Fact::WITH_FOOD, node, Given::Bool(value), &element);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn food_words_read_negations() {
        assert_eq!(food_words("Take with food"), Some(true));
        assert_eq!(food_words("Do not take with food"), Some(false));
        assert_eq!(food_words("on an empty stomach"), Some(false));
        assert_eq!(food_words("7mg once daily"), None);
        assert_eq!(food_words("with food, or on an empty stomach"), None);
        // Negations anywhere before the phrase in its clause.
        assert_eq!(food_words("Do not take it with food"), Some(false));
        assert_eq!(food_words("Avoid taking with meals"), Some(false));
        assert_eq!(food_words("Don\u{2019}t take with a meal"), Some(false));
        assert_eq!(food_words("Never with or after food"), Some(false));
        // A negation reverses an away phrase too, and only within four words.
        assert_eq!(food_words("Do not take on an empty stomach"), Some(true));
        assert_eq!(
            food_words("Take with food, not on an empty stomach"),
            Some(true)
        );
        assert_eq!(
            food_words("Take no more than 2 tablets a day with meals"),
            Some(true)
        );
        assert_eq!(food_words("Take with or without food"), None);
        // A negation in another clause or sentence says nothing of the phrase.
        assert_eq!(food_words("Take with food. Do not crush"), Some(true));
        assert_eq!(food_words("Do not crush; take with breakfast"), Some(true));
        // Whole words only.
        assert_eq!(food_words("Take with foodstuffs"), None);
        assert_eq!(food_words("Swallow whole after mealtime prayers"), None);
        assert_eq!(food_words("TAKE WITH FOOD"), Some(true));
    }
}
