//! Synthetic prescriptions, shared by the `gen` example and the benches:
//! about 60% pass, 20% warn, 15% fail and 5% invalid, a fifth of them in two
//! phases, the same records for the same seed.

#![allow(dead_code, reason = "each bench uses part of this module")]

use std::io::Write;

/// The CSV header of the regimen format.
pub const CSV_HEADER: &str = "id,drug,weight_kg,age_years,sex,pregnant,childbearing_potential,pregnancy_test,contraception,egfr,renal_impairment,severity,scarring,truncal,start,previous_course_end,dose_mg,daily_dose_mg,frequency_per_day,duration_weeks,with_food";

/// A small, fixed-seed generator (SplitMix64): reproducible everywhere.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub struct Phase {
    dose: String,
    frequency: u64,
    weeks: u64,
    with_food: bool,
}

pub struct Record {
    id: String,
    drug: &'static str,
    weight: String,
    age: u64,
    sex: &'static str,
    test: &'static str,
    contraception: bool,
    phases: Vec<Phase>,
}

pub fn record(rng: &mut Rng, i: u64) -> Record {
    let weight = 45 + rng.below(60);
    let kind = rng.below(100);
    // mg/kg/day in hundredths: in range for pass and warn, above for fail.
    let per_kg = match kind {
        0..=64 => 50 + rng.below(51),
        65..=79 => 30 + rng.below(15),
        80..=94 => 105 + rng.below(120),
        _ => 80,
    };
    let daily = weight * per_kg;
    let dose = format!("{}.{:02}", daily / 200, (daily / 2) % 100);
    let sex = if rng.below(2) == 0 { "male" } else { "female" };
    let mut phases = vec![Phase {
        dose,
        frequency: 2,
        weeks: 16 + rng.below(5),
        with_food: rng.below(50) != 0,
    }];
    if rng.below(5) == 0 {
        phases.insert(
            0,
            Phase {
                dose: format!("{}", weight / 4),
                frequency: 2,
                weeks: 4,
                with_food: true,
            },
        );
        phases[1].weeks = 14;
    }
    let mut weight = weight.to_string();
    if kind >= 95 {
        // Invalid: letters in a number, a missing unit's worth of damage.
        weight = format!("{}O", &weight[..1]);
    }
    Record {
        id: format!("RX-{i:08}"),
        drug: if rng.below(10) == 0 {
            "Accutane"
        } else {
            "isotretinoin"
        },
        weight,
        age: 16 + rng.below(30),
        sex,
        test: if sex == "female" { "negative" } else { "" },
        contraception: sex == "female" && rng.below(10) != 0,
        phases,
    }
}

/// Writes one record as CSV rows (one per phase).
pub fn write_csv(out: &mut impl Write, r: &Record) -> std::io::Result<()> {
    for p in &r.phases {
        writeln!(
            out,
            "{},{},{},{},{},,,{},{},,,severe,false,false,2026-03-02,,{},,{},{},{}",
            r.id,
            r.drug,
            r.weight,
            r.age,
            r.sex,
            r.test,
            r.contraception,
            p.dose,
            p.frequency,
            p.weeks,
            p.with_food
        )?;
    }
    Ok(())
}

/// Writes one record as a JSON line.
pub fn write_jsonl(out: &mut impl Write, r: &Record) -> std::io::Result<()> {
    let phases: Vec<String> = r
        .phases
        .iter()
        .map(|p| {
            format!(
                r#"{{"dose":"{} mg","frequency":"{}/day","duration":"{} weeks","with_food":{}}}"#,
                p.dose, p.frequency, p.weeks, p.with_food
            )
        })
        .collect();
    let test = if r.test.is_empty() {
        String::new()
    } else {
        format!(
            r#","pregnancy_test":"{}","contraception":{}"#,
            r.test, r.contraception
        )
    };
    writeln!(
        out,
        r#"{{"id":"{}","drug":"{}","patient":{{"weight":"{} kg","age":{},"sex":"{}"{test},"severity":"severe"}},"course":{{"start":"2026-03-02","phases":[{}]}}}}"#,
        r.id,
        r.drug,
        r.weight,
        r.age,
        r.sex,
        phases.join(",")
    )
}
