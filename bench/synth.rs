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

/// Records as a Parquet file of the CSV columns, one row per phase with its
/// `phase` number, typed as a data lake would hold them: text for the id,
/// drug, words and the weight (which the invalid records spoil with a
/// letter), 64-bit integers for the age, frequency and weeks, a float for
/// the dose (whose shortest text is the CSV's), booleans, a date32 start,
/// and null where the CSV cell is empty. Row groups of `group_rows` rows.
pub fn write_parquet(
    out: impl Write + Send,
    records: impl Iterator<Item = Record>,
    group_rows: usize,
) -> Result<(), String> {
    use arrow_array::builder::{
        BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
    };
    use arrow_array::{ArrayRef, RecordBatch};
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;

    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    let int = |name: &str| Field::new(name, DataType::Int64, true);
    let boolean = |name: &str| Field::new(name, DataType::Boolean, true);
    let schema = Arc::new(Schema::new(vec![
        text("id"),
        Field::new("phase", DataType::Int32, false),
        text("drug"),
        text("weight_kg"),
        int("age_years"),
        text("sex"),
        boolean("pregnant"),
        boolean("childbearing_potential"),
        text("pregnancy_test"),
        boolean("contraception"),
        Field::new("egfr", DataType::Float64, true),
        text("renal_impairment"),
        text("severity"),
        boolean("scarring"),
        boolean("truncal"),
        Field::new("start", DataType::Date32, true),
        Field::new("previous_course_end", DataType::Date32, true),
        Field::new("dose_mg", DataType::Float64, true),
        Field::new("daily_dose_mg", DataType::Float64, true),
        int("frequency_per_day"),
        int("duration_weeks"),
        boolean("with_food"),
    ]));
    let properties = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .set_max_row_group_row_count(Some(group_rows))
        .build();
    let mut writer = parquet::arrow::ArrowWriter::try_new(out, schema.clone(), Some(properties))
        .map_err(|e| e.to_string())?;
    // 2026-03-02, in days since 1970-01-01.
    const START: i32 = 20_514;
    let mut records = records.peekable();
    while records.peek().is_some() {
        let (mut id, mut phase, mut drug, mut weight) = (
            StringBuilder::new(),
            Int32Builder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
        );
        let (mut age, mut sex, mut test, mut contraception) = (
            Int64Builder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
            BooleanBuilder::new(),
        );
        let (mut severity, mut scarring, mut truncal, mut start) = (
            StringBuilder::new(),
            BooleanBuilder::new(),
            BooleanBuilder::new(),
            Date32Builder::new(),
        );
        let (mut dose, mut frequency, mut weeks, mut food) = (
            Float64Builder::new(),
            Int64Builder::new(),
            Int64Builder::new(),
            BooleanBuilder::new(),
        );
        let mut rows = 0;
        while rows < group_rows {
            let Some(r) = records.next() else { break };
            for (p, ph) in r.phases.iter().enumerate() {
                rows += 1;
                id.append_value(&r.id);
                phase.append_value(p as i32 + 1);
                drug.append_value(r.drug);
                weight.append_value(&r.weight);
                age.append_value(r.age as i64);
                sex.append_value(r.sex);
                if r.test.is_empty() {
                    test.append_null();
                } else {
                    test.append_value(r.test);
                }
                contraception.append_value(r.contraception);
                severity.append_value("severe");
                scarring.append_value(false);
                truncal.append_value(false);
                start.append_value(START);
                let value: f64 = ph.dose.parse().map_err(|e| format!("{e}"))?;
                dose.append_value(value);
                frequency.append_value(ph.frequency as i64);
                weeks.append_value(ph.weeks as i64);
                food.append_value(ph.with_food);
            }
        }
        let nulls = |ty: &DataType| arrow_array::new_null_array(ty, rows);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(id.finish()),
            Arc::new(phase.finish()),
            Arc::new(drug.finish()),
            Arc::new(weight.finish()),
            Arc::new(age.finish()),
            Arc::new(sex.finish()),
            nulls(&DataType::Boolean),
            nulls(&DataType::Boolean),
            Arc::new(test.finish()),
            Arc::new(contraception.finish()),
            nulls(&DataType::Float64),
            nulls(&DataType::Utf8),
            Arc::new(severity.finish()),
            Arc::new(scarring.finish()),
            Arc::new(truncal.finish()),
            Arc::new(start.finish()),
            nulls(&DataType::Date32),
            Arc::new(dose.finish()),
            nulls(&DataType::Float64),
            Arc::new(frequency.finish()),
            Arc::new(weeks.finish()),
            Arc::new(food.finish()),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())?;
        writer.write(&batch).map_err(|e| e.to_string())?;
    }
    writer.close().map_err(|e| e.to_string())?;
    Ok(())
}
