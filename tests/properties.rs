//! Properties that must hold for any input (proptest): exact unit
//! conversion, verdicts that do not depend on how a quantity is written,
//! monotonicity of the dose rules, and batch accounting.

use std::str::FromStr;
use std::sync::OnceLock;

use proptest::prelude::*;
use rust_decimal::Decimal;
use rxlint::eval::{Engine, Outcome};
use rxlint::facts::{Type, Val};
use rxlint::regimen::document::{self, Syntax};
use rxlint::rules::RuleSet;
use rxlint::source::SourceFile;
use rxlint::units::parse_quantity;

fn rules() -> &'static RuleSet {
    static SET: OnceLock<RuleSet> = OnceLock::new();
    SET.get_or_init(|| RuleSet::builtin().unwrap_or_else(|e| panic!("{e:?}")))
}

fn outcome(
    engine: &Engine<'static>,
    weight: &str,
    dose: &str,
    per_day: u32,
    duration: &str,
) -> Outcome<'static> {
    let text = format!(
        "drug: isotretinoin\npatient: {{weight: {weight}, age: 30, sex: male}}\ncourse:\n  phases: [{{dose: {dose}, frequency: {per_day}/day, duration: {duration}, with_food: true}}]\n"
    );
    let mut regimens = document::read(
        &SourceFile::new("p.yaml", text),
        Syntax::Yaml,
        engine.vocabulary(),
    );
    engine.evaluate(regimens.remove(0))
}

/// A finding as (rule, kind, phase).
type Key = (String, &'static str, Option<usize>);

/// (rule, kind, phase) of every finding, and the verdict.
fn summary(o: &Outcome<'_>) -> (String, Vec<Key>) {
    let mut findings: Vec<_> = o
        .findings
        .iter()
        .map(|f| (f.rule.id.clone(), f.kind.as_str(), f.phase))
        .collect();
    findings.sort();
    let mut problems: Vec<_> = o
        .problems
        .iter()
        .map(|p| (p.code.as_str().to_owned(), "problem", None))
        .collect();
    findings.append(&mut problems);
    (o.verdict.as_str().to_owned(), findings)
}

fn us() -> &'static Engine<'static> {
    static ENGINE: OnceLock<Engine<'static>> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(rules(), "us", false).unwrap_or_else(|e| panic!("{e}")))
}

/// A decimal with up to `places` decimals in `[lo, hi)` hundredths.
fn decimal(lo: i64, hi: i64, places: u32) -> impl Strategy<Value = Decimal> {
    (lo * 10i64.pow(places)..hi * 10i64.pow(places)).prop_map(move |n| Decimal::new(n, places))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn mass_conversions_are_exact(mg in decimal(1, 100_000, 3)) {
        let in_mg = parse_quantity(&format!("{mg} mg")).map(|q| q.0.value);
        let in_g = parse_quantity(&format!("{} g", mg / Decimal::from(1000))).map(|q| q.0.value);
        let in_mcg = parse_quantity(&format!("{} mcg", mg * Decimal::from(1000))).map(|q| q.0.value);
        prop_assert_eq!(&in_mg, &in_g);
        prop_assert_eq!(&in_mg, &in_mcg);
        prop_assert_eq!(in_mg, Ok(mg));
    }

    #[test]
    fn pounds_and_weeks_are_exact(lb in decimal(50, 500, 2), weeks in 1u32..60) {
        let kg = lb * Decimal::from_str("0.45359237").unwrap_or_default();
        let from_lb = parse_quantity(&format!("{lb} lb")).map(|q| q.0.value);
        let from_kg = parse_quantity(&format!("{kg} kg")).map(|q| q.0.value);
        prop_assert_eq!(from_lb, from_kg);
        let w = parse_quantity(&format!("{weeks} weeks")).map(|q| q.0.value);
        let d = parse_quantity(&format!("{} days", weeks * 7)).map(|q| q.0.value);
        prop_assert_eq!(w, d);
    }

    #[test]
    fn verdicts_do_not_depend_on_the_units_written(
        lb in decimal(90, 300, 2),
        mg in decimal(5, 120, 2),
        per_day in 1u32..4,
        weeks in 4u32..30,
    ) {
        let kg = lb * Decimal::from_str("0.45359237").unwrap_or_default();
        let g = mg / Decimal::from(1000);
        let a = outcome(us(), &format!("{kg} kg"), &format!("{mg} mg"), per_day, &format!("{weeks} weeks"));
        let b = outcome(us(), &format!("{lb} lb"), &format!("{g} g"), per_day, &format!("{} days", weeks * 7));
        prop_assert_eq!(summary(&a), summary(&b));
    }

    #[test]
    fn raising_a_dose_never_removes_a_high_dose_finding(
        kg in 40u32..120,
        mg in decimal(5, 150, 1),
        more in decimal(0, 50, 1),
    ) {
        let high = |o: &Outcome<'_>| -> Vec<String> {
            o.findings
                .iter()
                .filter(|f| f.rule.id == "isotretinoin.max-daily-dose" || f.rule.id == "isotretinoin.dose-above-range")
                .map(|f| f.rule.id.clone())
                .collect()
        };
        let low = outcome(us(), &format!("{kg} kg"), &format!("{mg} mg"), 2, "20 weeks");
        let raised = outcome(us(), &format!("{kg} kg"), &format!("{} mg", mg + more), 2, "20 weeks");
        // Past 2 mg/kg/day, dose-above-range gives way to max-daily-dose:
        // some high-dose finding remains.
        if !high(&low).is_empty() {
            prop_assert!(!high(&raised).is_empty(), "{:?} -> {:?}", high(&low), high(&raised));
        }
        if high(&low).iter().any(|r| r == "isotretinoin.max-daily-dose") {
            prop_assert!(high(&raised).iter().any(|r| r == "isotretinoin.max-daily-dose"));
        }
    }

    #[test]
    fn lengthening_a_course_never_creates_a_cumulative_shortfall(
        kg in 40u32..120,
        mg in decimal(5, 100, 1),
        weeks in 1u32..40,
        more in 0u32..20,
    ) {
        let short = |o: &Outcome<'_>| o.findings.iter().any(|f| f.rule.id == "isotretinoin.cumulative-dose");
        let a = outcome(us(), &format!("{kg} kg"), &format!("{mg} mg"), 2, &format!("{weeks} weeks"));
        let b = outcome(us(), &format!("{kg} kg"), &format!("{mg} mg"), 2, &format!("{} weeks", weeks + more));
        if !short(&a) {
            prop_assert!(!short(&b));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Any mix of good, bad and broken JSON lines: one output record per
    /// input line, in order, identical for one and for three workers.
    #[test]
    fn batch_output_accounts_for_every_record(kinds in proptest::collection::vec(0u8..4, 1..200)) {
        let good = r#"{"id":"ID","drug":"isotretinoin","patient":{"weight":"70 kg","age":24,"sex":"male"},"course":{"phases":[{"dose":"35 mg","frequency":"2/day","duration":"20 weeks","with_food":true}]}}"#;
        let lines: Vec<String> = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| match k {
                0 => good.replace("ID", &format!("R{i}")),
                1 => good.replace("ID", &format!("R{i}")).replace("70 kg", "70"),
                2 => format!("{{\"id\": \"R{i}\", broken"),
                _ => good.replace("ID", &format!("R{i}")).replace("35 mg", "90 mg"),
            })
            .collect();
        let dir = std::env::temp_dir().join(format!("rxlint-prop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join("batch.jsonl");
        std::fs::write(&path, lines.join("\n") + "\n").unwrap_or_else(|e| panic!("{e}"));
        let run = |jobs: &str| {
            std::process::Command::new(env!("CARGO_BIN_EXE_rxlint"))
                .args(["check", "--format", "json", "--quiet", "--jobs", jobs])
                .arg(&path)
                .output()
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let one = run("1");
        let three = run("3");
        prop_assert_eq!(&one.stdout, &three.stdout);
        let out = String::from_utf8_lossy(&one.stdout);
        let inputs: Vec<String> = out
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).map(|v| v["input"].as_str().unwrap_or("").to_owned()).unwrap_or_default())
            .collect();
        let want: Vec<String> = (1..=lines.len()).map(|n| format!("{}:{n}", path.display())).collect();
        prop_assert_eq!(inputs, want);
    }
}

/// A value of `ty` for a random row: numbers of several scales around the
/// rules' bounds (in canonical units they range from hundredths to
/// millions), dates around a fixed day, any enum index (one past the
/// domain too), and, rarely, a value of the wrong type.
fn value_of(ty: rxlint::facts::Type) -> BoxedStrategy<rxlint::facts::Val> {
    let number = (any::<i64>(), 0u32..6, 0u8..4).prop_map(|(n, scale, size)| {
        let n = match size {
            0 => n % 300,
            1 => n % 30_000,
            2 => n % 300_000_000,
            _ => n,
        };
        Val::Num(Decimal::new(n, scale))
    });
    let date = (-400i64..400).prop_map(|d| {
        let base = rxlint::date::Date::parse("2026-03-02").unwrap_or_else(|e| panic!("{e}"));
        Val::Date(base.add_days(d).unwrap_or(base))
    });
    // The limits the conditions below compare with, in canonical units, so
    // that inclusive and exclusive bounds are told apart (70 kg, 154 lb,
    // 0.5 and 1 mg/kg/day, 2 a day, 8, 15 and 20 weeks in days, 30
    // mL/min/1.73m2 in mL/day, 18 years in days).
    let limits = [
        "70",
        "69.85322498",
        "0.5",
        "1",
        "2",
        "56",
        "105",
        "140",
        "43200",
        "6574.5",
    ];
    let limit = proptest::sample::select(limits.to_vec())
        .prop_map(|t| Val::Num(t.parse::<Decimal>().unwrap_or_default()));
    let typed = match ty {
        Type::Quantity(_) => prop_oneof![4 => number, 1 => limit].boxed(),
        Type::Bool => any::<bool>().prop_map(Val::Bool).boxed(),
        Type::Enum(fact) => {
            let count = rules().vocabulary.info(fact).values.len() as u8;
            (0..=count).prop_map(Val::Enum).boxed()
        }
        Type::Date => date.boxed(),
    };
    prop_oneof![20 => typed, 1 => any::<bool>().prop_map(Val::Bool)].boxed()
}

/// A row of facts, one value (or none) per fact of the shipped vocabulary.
fn row_strategy() -> impl Strategy<Value = Vec<Option<Val>>> {
    let vocabulary = &rules().vocabulary;
    let facts: Vec<_> = (0..vocabulary.len())
        .map(|i| {
            let fact = vocabulary
                .facts()
                .find(|f| f.fact.index() == i)
                .map_or(Type::Bool, |f| f.ty);
            proptest::option::weighted(0.8, value_of(fact))
        })
        .collect();
    facts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// The compiled program the engine runs gives, for every shipped rule
    /// and any row of facts, the verdict of the tree evaluator: fires when
    /// `when` and the violation hold and `unless` does not, in Kleene logic.
    #[test]
    fn compiled_rules_agree_with_the_tree_evaluator(row in row_strategy()) {
        use rxlint::eval::{Program, truth};
        for pack in &rules().packs {
            for rule in &pack.rules {
                let when = rule.when.as_ref().map_or(Some(true), |c| truth(&c.code, &row));
                let violated = truth(&rule.violation.code, &row);
                let excused = rule.unless.as_ref().map_or(Some(false), |c| truth(&c.code, &row));
                let expected = match (when, violated, excused) {
                    (Some(false), _, _) | (_, Some(false), _) | (_, _, Some(true)) => Some(false),
                    (Some(true), Some(true), Some(false)) => Some(true),
                    _ => None,
                };
                let got = Program::fires(rule).run(&row).known();
                prop_assert_eq!(got, expected, "rule {} on {:?}", rule.id, row);
            }
        }
    }
}

/// A random condition in the rule language, from the tests rule authors
/// write, with `not`, `and`, `or` and `??` around them.
fn condition_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("patient.weight > 70 kg".to_owned()),
        Just("patient.weight <= 154 lb".to_owned()),
        Just("phase.daily_dose_per_kg < 0.5 mg/kg/day".to_owned()),
        Just("phase.daily_dose_per_kg >= 1 mg/kg/day".to_owned()),
        Just("course.total_duration in 15 weeks ..= 20 weeks".to_owned()),
        Just("patient.sex == female".to_owned()),
        Just("patient.sex != male".to_owned()),
        Just("patient.pregnant".to_owned()),
        Just("(patient.contraception ?? false)".to_owned()),
        Just("present(course.start)".to_owned()),
        Just("(patient.egfr < 30 mL/min/1.73m2) ?? false".to_owned()),
        Just("phase.times_per_day != 2".to_owned()),
        Just("patient.age >= 18 years".to_owned()),
        Just("(patient.renal_impairment ?? none) == severe".to_owned()),
        Just("course.gap_since_previous_course < 8 weeks".to_owned()),
        Just("phase.daily_dose_per_kg * 2 > 1 mg/kg/day".to_owned()),
        Just("true".to_owned()),
    ];
    leaf.prop_recursive(5, 32, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|a| format!("not ({a})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) or ({b})")),
            (inner, any::<bool>()).prop_map(|(a, d)| format!("({a}) ?? {d}")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any condition a rule file can say, compiled, agrees with the tree
    /// evaluator on any row of facts.
    #[test]
    fn compiled_conditions_agree_with_the_tree_evaluator(
        text in condition_text(),
        row in row_strategy(),
    ) {
        use rxlint::check::{Env, check_condition};
        use rxlint::eval::{Program, truth};
        let expr = rxlint::syntax::parse_expression(&text)
            .unwrap_or_else(|e| panic!("{text}: {e:?}"));
        let mut problems = Vec::new();
        let env = Env { phase: true, vocabulary: &rules().vocabulary };
        let typed = check_condition(&expr, env, &mut problems)
            .unwrap_or_else(|| panic!("{text}: {problems:?}"));
        let got = Program::condition(&typed.code).run(&row).known();
        let want = truth(&typed.code, &row);
        prop_assert_eq!(got, want, "{} on {:?}", text, row);
        // `not` is folded into comparisons when the rules load (`not (x < c)`
        // becomes `x >= c`): the folded condition must be the negation of
        // the one above, in the tree evaluator and compiled.
        let negated = format!("not ({text})");
        let expr = rxlint::syntax::parse_expression(&negated)
            .unwrap_or_else(|e| panic!("{negated}: {e:?}"));
        let typed = check_condition(&expr, env, &mut problems)
            .unwrap_or_else(|| panic!("{negated}: {problems:?}"));
        let not_want = want.map(|b| !b);
        prop_assert_eq!(truth(&typed.code, &row), not_want, "{} on {:?}", negated, row);
        let got = Program::condition(&typed.code).run(&row).known();
        prop_assert_eq!(got, not_want, "{} on {:?}", negated, row);
    }
}

/// `not` folded into a comparison (`not (x < c)` read as `x >= c`) is the
/// negation of the comparison, for every operator, below, at and above the
/// limit, and for a missing value with and without a default.
#[test]
fn a_folded_not_is_the_negation_at_every_bound() {
    use rxlint::check::{Env, check_condition};
    use rxlint::eval::{Program, truth};
    use rxlint::facts::{Fact, Val};
    let vocabulary = &rules().vocabulary;
    let typed = |text: &str| {
        let expr = rxlint::syntax::parse_expression(text).unwrap_or_else(|e| panic!("{e:?}"));
        let mut problems = Vec::new();
        let env = Env {
            phase: true,
            vocabulary,
        };
        check_condition(&expr, env, &mut problems).unwrap_or_else(|| panic!("{text}: {problems:?}"))
    };
    for op in ["<", "<=", ">", ">=", "==", "!="] {
        for default in ["", " ?? true", " ?? false"] {
            let text = format!("(patient.weight {op} 70 kg){default}");
            let (plain, negated) = (typed(&text), typed(&format!("not ({text})")));
            for weight in [None, Some("69.99"), Some("70"), Some("70.01")] {
                let mut row: Vec<Option<Val>> = vec![None; vocabulary.len()];
                row[Fact::WEIGHT.index()] = weight.map(|w| Val::Num(w.parse().unwrap_or_default()));
                let want = truth(&plain.code, &row).map(|b| !b);
                assert_eq!(
                    truth(&negated.code, &row),
                    want,
                    "not ({text}) at {weight:?}"
                );
                let got = Program::condition(&negated.code).run(&row).known();
                assert_eq!(got, want, "compiled not ({text}) at {weight:?}");
            }
        }
    }
}
