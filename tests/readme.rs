//! The README's generated tables must match the code and the shipped rules.
//! `RXLINT_BLESS=1 cargo test --test readme` rewrites them.

use rxlint::docs;
use rxlint::rules::RuleSet;

fn replace_section(text: &str, name: &str, body: &str) -> String {
    let start = format!("<!-- generated:{name}:start -->");
    let end = format!("<!-- generated:{name}:end -->");
    let (Some(a), Some(b)) = (text.find(&start), text.find(&end)) else {
        panic!("README.md lacks the {name} markers");
    };
    format!("{}{start}\n{body}{}", &text[..a], &text[b..])
}

#[test]
fn generated_sections_are_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let set = RuleSet::builtin().unwrap_or_else(|e| panic!("shipped rules do not load: {e:?}"));
    let mut want = replace_section(&text, "rules", &docs::rules_table(&set));
    want = replace_section(&want, "packs", &docs::packs_table(&set));
    want = replace_section(&want, "facts", &docs::facts_table(&set.vocabulary));
    want = replace_section(&want, "units", &format!("{}\n", docs::units_list()));
    want = replace_section(&want, "codes", &rxlint::codes::codes_table());
    if std::env::var_os("RXLINT_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap_or_else(|e| panic!("{e}"));
        return;
    }
    assert!(
        text == want,
        "README.md's generated tables are out of date; run RXLINT_BLESS=1 cargo test --test readme"
    );
}

/// The README's sentence with the counts of `rules test` on the shipped
/// packs is the real figure.
#[test]
fn rules_test_counts_are_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let set = RuleSet::builtin().unwrap_or_else(|e| panic!("shipped rules do not load: {e:?}"));
    let report = rxlint::ruletest::run(&set);
    let examples: usize = set.packs.iter().map(|p| p.examples.len()).sum();
    let checks = report.passed + report.failures.len();
    let b = report.bounds;
    let sentence = format!(
        "<!-- rules-test-counts -->The shipped packs carry {examples} examples; `rules test` runs {checks} checks on them: {} example runs and {} bound probes ({} bounds probed, {} declared not probeable).",
        checks - b.checks,
        b.checks,
        b.probed,
        b.declared
    );
    assert!(
        text.contains(&sentence),
        "README.md should say:\n{sentence}"
    );
}
