//! `rxlint rules test` probes every bound of every rule, or says why it
//! could not: the rule packs under `tests/bounds/`, run through the binary.

use std::path::Path;
use std::process::{Command, Output};

fn rules(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run rxlint: {e}"))
}

/// `rules test` on one directory of `tests/bounds/`: stdout, stderr, exit.
fn test(dir: &str) -> (String, String, Option<i32>) {
    let out = rules(&["rules", "test", &format!("tests/bounds/{dir}")]);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

fn assert_lines(stdout: &str, stderr: &str, want: &[&str]) {
    for line in want {
        assert!(
            stdout.lines().any(|l| l == *line),
            "missing line {line:?} in\n{stdout}\n{stderr}"
        );
    }
}

#[test]
fn a_bound_on_the_daily_dose_is_probed_through_the_dose() {
    let (out, err, code) = test("daily-dose");
    assert_lines(
        &out,
        &err,
        &[
            "probed demodrug.max-daily `phase.daily_dose > 3000 mg/day`: 2999.999 mg/day quiet, 3000 mg/day quiet, 3000.001 mg/day fires",
            "bounds: 1 probed (3 checks), 0 not probed (0 declared)",
            "4 passed, 0 failed",
        ],
    );
    assert_eq!(code, Some(0));
}

#[test]
fn bounds_inside_arithmetic_are_solved_for_one_input() {
    let (out, err, code) = test("arithmetic");
    assert_lines(
        &out,
        &err,
        &[
            "probed demodrug.per-dose `phase.dose * phase.times_per_day > 1500 mg`: 1499.999 mg quiet, 1500 mg quiet, 1500.001 mg fires",
            "probed demodrug.gap `course.start - course.previous_course_end < 60 days`: 59 days fires, 60 days quiet, 61 days quiet",
            "bounds: 2 probed (6 checks), 0 not probed (0 declared)",
        ],
    );
    assert_eq!(code, Some(0));
}

/// No example is under 40 kg: the probe sets the weight from the guard.
#[test]
fn a_bound_under_a_weight_guard_is_probed_where_the_guard_holds() {
    let (out, err, code) = test("weight-guard");
    assert_lines(
        &out,
        &err,
        &[
            "probed demodrug.child-dose `phase.daily_dose_per_kg > 15 mg/kg/day`: 14.999 mg/kg/day quiet, 15 mg/kg/day quiet, 15.001 mg/kg/day fires",
            "probed demodrug.child-dose `patient.weight < 40 kg`: 39.999 kg fires, 40 kg quiet, 40.001 kg quiet",
            "7 passed, 0 failed",
        ],
    );
    assert_eq!(code, Some(0));
}

/// 0 doses a day cannot be written: 6 a week (0.857 a day) is the nearest
/// schedule below once a day.
#[test]
fn times_per_day_is_probed_at_schedules_that_exist() {
    let (out, err, code) = test("times-per-day");
    assert_lines(
        &out,
        &err,
        &[
            "probed demodrug.once-daily `phase.times_per_day <= 1`: 0.86 fires, 1 fires, 2 quiet",
            "4 passed, 0 failed",
        ],
    );
    assert_eq!(code, Some(0));
}

#[test]
fn an_unprobeable_bound_fails_at_its_text_with_the_reason() {
    let (out, err, code) = test("unprobeable");
    assert!(
        err.contains("rules.test-unprobed")
            && err.contains("the bound `phase.period > 7 days` was not probed")
            && err.contains("violation: phase.period > 7 days")
            && err.contains("╰── not probed")
            && err.contains("`unprobed: {\"phase.period > 7 days\": <reason>}`"),
        "{err}"
    );
    assert_lines(
        &out,
        &err,
        &[
            "bounds: 0 probed (0 checks), 1 not probed (0 declared)",
            "1 passed, 1 failed",
        ],
    );
    assert_eq!(code, Some(1));
}

#[test]
fn a_declared_unprobeable_bound_passes_and_is_counted() {
    let (out, err, code) = test("declared");
    assert!(
        out.contains("not probed demodrug.daily `phase.period > 7 days`")
            && out.contains("(declared: a schedule is per day or per week"),
        "{out}"
    );
    assert_lines(
        &out,
        &err,
        &[
            "bounds: 0 probed (0 checks), 1 not probed (1 declared)",
            "1 passed, 0 failed",
        ],
    );
    assert_eq!(code, Some(0));
}

#[test]
fn a_declaration_on_a_bound_that_is_probed_is_reported() {
    let (out, err, code) = test("stale");
    assert!(
        err.contains("rules.test-stale-unprobed")
            && err.contains("declares `phase.daily_dose` cannot be probed")
            && err.contains("╰── probed after all"),
        "{err}"
    );
    assert_lines(&out, &err, &["4 passed, 1 failed"]);
    assert_eq!(code, Some(1));
}

#[test]
fn a_declaration_naming_no_bound_does_not_load() {
    let out = rules(&["rules", "lint", "tests/bounds/unknown-bound"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rules.unknown-bound")
            && err.contains(
                "`phase.daily_dose > 300 mg/day` is not a bound of rule `demodrug.max-daily`"
            )
            && err.contains("did you mean `phase.daily_dose > 3000 mg/day`?"),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(1));
}

/// The shipped packs: every bound probed or declared, the metformin and
/// methotrexate limits among them.
#[test]
fn the_shipped_packs_probe_every_bound() {
    let out = rules(&["rules", "test"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_lines(
        &stdout,
        &stderr,
        &[
            "probed metformin.max-daily-dose `phase.daily_dose > 2550 mg/day`: 2549.999 mg/day quiet, 2550 mg/day quiet, 2550.001 mg/day fires",
            "probed methotrexate.weekly-dose-high `phase.weekly_dose > 20 mg/wk`: 19.999 mg/wk quiet, 20 mg/wk quiet, 20.001 mg/wk fires",
            "probed methotrexate.daily-schedule `phase.interval < 2 days`: 1.999 days fires, 2 days quiet, 2.001 days quiet",
            "probed acetaminophen.min-interval `phase.interval < 4 hours`: 3.999 hours fires, 4 hours quiet, 4.001 hours quiet",
            "probed doxorubicin.cycle-interval `phase.interval < 21 days`: 20.999 days fires, 21 days quiet, 21.001 days quiet",
            "probed doxorubicin.cumulative-dose `course.cumulative_dose_per_m2 > 400 mg/m2`: 399.999 mg/m2 quiet, 400 mg/m2 quiet, 400.001 mg/m2 fires",
            "probed doxorubicin.cumulative-dose `course.lifetime_cumulative_dose_per_m2 > 550 mg/m2`: 549.999 mg/m2 quiet, 550 mg/m2 quiet, 550.001 mg/m2 fires",
            "probed enoxaparin.renal-dose `patient.crcl < 30 mL/min`: 29.999 mL/min fires, 30 mL/min quiet, 30.001 mL/min quiet",
            "probed metformin.titration-step `phase.daily_dose - previous(phase.daily_dose) > 500 mg/day`: 499.999 mg/day quiet, 500 mg/day quiet, 500.001 mg/day fires",
            "probed metformin.titration-step `previous(phase.duration) >= 2 weeks`: 1.86 weeks fires, 2 weeks quiet, 2.14 weeks quiet",
            "probed metformin.starting-dose `phase.dose > 850 mg`: 849.999 mg quiet, 850 mg quiet, 850.001 mg fires",
            "bounds: 75 probed (225 checks), 0 not probed (0 declared)",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
