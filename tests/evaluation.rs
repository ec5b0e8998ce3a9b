//! The library on its own: load the shipped packs once, evaluate many
//! regimens, and check exact values and inclusive boundaries in a table.

use std::str::FromStr;

use rust_decimal::Decimal;
use rxlint::eval::{Engine, Verdict};
use rxlint::facts::{Fact, Val};
use rxlint::regimen::document::{self, Syntax};
use rxlint::rules::RuleSet;
use rxlint::source::SourceFile;

fn regimen(weight: &str, dose: &str, frequency: &str, duration: &str) -> rxlint::regimen::Regimen {
    let text = format!(
        "drug: isotretinoin
patient: {{weight: {weight}, age: 30, sex: male}}
course:
  phases: [{{dose: {dose}, frequency: {frequency}, duration: {duration}, with_food: true}}]
"
    );
    let set = rxlint::rules::RuleSet::builtin().unwrap_or_else(|e| panic!("{e:?}"));
    let mut all = document::read(
        &SourceFile::new("t.yaml", text),
        Syntax::Yaml,
        &set.vocabulary,
    );
    assert_eq!(all.len(), 1);
    all.remove(0)
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn daily_dose_per_kg_is_exact_in_any_unit() {
    // weight, dose, frequency, exact mg/kg/day
    let table = [
        ("70 kg", "35 mg", "2/day", "1"),
        ("70 kg", "0.035 g", "twice daily", "1"),
        ("70 kg", "35000 mcg", "BID", "1"),
        ("70 kg", "17.5 mg", "2/day", "0.5"),
        ("70000 g", "35 mg", "2/day", "1"),
        ("100 kg", "100 mg", "2/day", "2"),
        // 220.46226218487758 lb is not 100 kg; 100 kg is 220.4622621848775807... lb,
        // so use a weight that is exact in pounds: 150 lb = 68.0388555 kg.
        ("150 lb", "34.01942775 mg", "2/day", "1"),
        ("150 lb", "68.0388555 mg", "once daily", "1"),
        ("60 kg", "20 mg", "TID", "1"),
    ];
    for (weight, dose, frequency, want) in table {
        let r = regimen(weight, dose, frequency, "20 weeks");
        assert!(r.problems.is_empty(), "{weight} {dose}: {:?}", r.problems);
        assert_eq!(
            r.get(1, Fact::DAILY_DOSE_PER_KG),
            Some(Val::Num(dec(want))),
            "{weight} {dose} {frequency}"
        );
    }
}

/// (engine, weight, dose, frequency, duration, rule ids expected)
type Case<'a> = (
    &'a Engine<'a>,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a [&'a str],
);

#[test]
fn inclusive_bounds_stay_in() {
    let set = RuleSet::builtin().unwrap_or_else(|e| panic!("{e:?}"));
    let us = Engine::new(&set, "us", false).unwrap_or_else(|e| panic!("{e}"));
    let eu = Engine::new(&set, "eu", false).unwrap_or_else(|e| panic!("{e}"));
    // (engine, weight, dose, frequency, duration, rule ids expected)
    let table: &[Case<'_>] = &[
        (&us, "70 kg", "35 mg", "2/day", "20 weeks", &[]),
        (
            &us,
            "70 kg",
            "17.5 mg",
            "2/day",
            "20 weeks",
            &["isotretinoin.cumulative-dose"],
        ),
        (
            &us,
            "70 kg",
            "17.4 mg",
            "2/day",
            "20 weeks",
            &[
                "isotretinoin.dose-below-range",
                "isotretinoin.cumulative-dose",
            ],
        ),
        (
            &us,
            "70 kg",
            "35.001 mg",
            "2/day",
            "20 weeks",
            &["isotretinoin.dose-above-range"],
        ),
        (
            &us,
            "70 kg",
            "70 mg",
            "2/day",
            "15 weeks",
            &["isotretinoin.dose-above-range"],
        ),
        (
            &us,
            "70 kg",
            "70.001 mg",
            "2/day",
            "15 weeks",
            &["isotretinoin.max-daily-dose"],
        ),
        (
            &us,
            "70 kg",
            "35 mg",
            "2/day",
            "15 weeks",
            &["isotretinoin.cumulative-dose"],
        ),
        (
            &us,
            "70 kg",
            "35 mg",
            "2/day",
            "104 days",
            &[
                "isotretinoin.course-duration",
                "isotretinoin.cumulative-dose",
            ],
        ),
        (
            &us,
            "70 kg",
            "35 mg",
            "2/day",
            "141 days",
            &["isotretinoin.course-duration"],
        ),
        (&eu, "70 kg", "35 mg", "2/day", "24 weeks", &[]),
        (
            &eu,
            "70 kg",
            "35 mg",
            "2/day",
            "169 days",
            &["isotretinoin.course-duration"],
        ),
        (&eu, "70 kg", "70 mg", "once daily", "18 weeks", &[]),
        // 120 mg/kg exactly: 60 mg/day x 140 days / 70 kg.
        (&us, "70 kg", "30 mg", "2/day", "140 days", &[]),
        (
            &us,
            "70 kg",
            "30 mg",
            "2/day",
            "139 days",
            &["isotretinoin.cumulative-dose"],
        ),
    ];
    for (engine, weight, dose, frequency, duration, want) in table {
        let outcome = engine.evaluate(regimen(weight, dose, frequency, duration));
        let got: Vec<&str> = outcome
            .findings
            .iter()
            .map(|f| f.rule.id.as_str())
            .collect();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        let mut want_sorted = want.to_vec();
        want_sorted.sort();
        assert_eq!(
            got_sorted,
            want_sorted,
            "{} {weight} {dose} {frequency} {duration}",
            engine.profile()
        );
        let expected = if want.is_empty() {
            Verdict::Pass
        } else {
            outcome.verdict
        };
        assert_eq!(outcome.verdict, expected);
    }
}

/// Every citation of the shipped rules, under every profile, quotes its
/// source document, shipped in `rules/sources/`, word for word (`...` marks an omission; whitespace is
/// not significant): a citation is the sentence a rule rests on, never a
/// paraphrase of it.
#[test]
fn every_shipped_quote_is_in_its_document() {
    let set = rxlint::rules::RuleSet::builtin().unwrap_or_else(|e| panic!("{e:?}"));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut checked = 0;
    for rule in set.rules() {
        let citations =
            std::iter::once(&rule.citation).chain(rule.citation_for.iter().map(|(_, c)| c));
        for citation in citations {
            let Some(document) = &citation.location else {
                panic!("{}: its source names no document", rule.id);
            };
            // The repository is self-contained: a clone has nothing beside it.
            assert!(
                document.starts_with("rules/sources/"),
                "{}: {document} is not a document shipped in rules/sources/",
                rule.id
            );
            let text = std::fs::read_to_string(root.join(document))
                .unwrap_or_else(|e| panic!("{}: cannot read {document}: {e}", rule.id));
            let text = words(&text);
            for part in citation
                .quote
                .split("...")
                .map(words)
                .filter(|p| !p.is_empty())
            {
                assert!(
                    text.contains(&part),
                    "{}: \"{part}\" is not in {document}",
                    rule.id
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 27, "only {checked} citations checked");
}
