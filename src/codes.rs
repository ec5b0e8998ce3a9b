//! The registry of diagnostic codes: one enum per stage, each variant
//! documented once with what it means, inputs that trigger it and how to
//! fix it.
//!
//! Takes nothing; gives [`InputCode`] (`input.*`, a regimen that cannot be
//! read), [`RuleCode`] (`rules.*`, rule files, their expressions and `rules
//! test`) and [`CoverageCode`] (`coverage.*`, the engine's findings on what
//! the rules in force did not check). A variant's `///` text is both its
//! rustdoc and what `rxlint explain CODE` prints, and the README's list of
//! codes is generated from [`AnyCode::ALL`]. Every code string is stable:
//! reports, SARIF and users' scripts key on it.

use std::fmt;
use std::str::FromStr;

/// Declares one code enum: its variants with their docs and code strings,
/// and its table (`ALL`, `as_str`, `doc`). The docs are captured as the
/// `#[doc]` attributes `///` comments become, so they are written once.
macro_rules! codes {
    (
        $(#[doc = $enum_doc:literal])*
        $name:ident, $prefix:literal;
        $(
            $(#[doc = $doc:literal])+
            $variant:ident = $code:literal,
        )+
    ) => {
        $(#[doc = $enum_doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $(
                $(#[doc = $doc])+
                $variant,
            )+
        }

        impl $name {
            /// Every code of this stage, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stable code, e.g. `input.missing-unit`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => concat!($prefix, $code),)+
                }
            }

            /// The variant's doc as written, one line per `///` line.
            pub const fn doc(self) -> &'static str {
                match self {
                    $(Self::$variant => concat!($($doc, "\n"),+),)+
                }
            }

            /// One line saying what the code means (the doc's first line).
            pub fn summary(self) -> &'static str {
                summary_of(self.doc())
            }

            /// The long explanation: the doc after its first line, as
            /// Markdown.
            pub fn explanation(self) -> String {
                explanation_of(self.doc())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;

            fn from_str(text: &str) -> Result<Self, UnknownCode> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|c| c.as_str() == text)
                    .ok_or(UnknownCode)
            }
        }
    };
}

codes! {
    /// A problem with a regimen's input: the record is `invalid`, no rule
    /// runs on it, and the run goes on (except the CSV header codes, which
    /// stop it with exit 2).
    InputCode, "input.";

    /// The input is not valid YAML or JSON.
    ///
    /// A regimen document, a JSON Lines line or a FHIR file could not be
    /// parsed, or it gives one key twice (a second value would silently
    /// replace the first). The record is `invalid`; the problem points at
    /// where the parser stopped.
    ///
    /// # Triggered by
    ///
    /// - `patient: {weight: 70 kg` (an unclosed brace)
    /// - `weight: 70 kg` written twice in one `patient` block
    ///
    /// # How to fix
    ///
    /// Correct the syntax at the place shown; give each key once.
    Syntax = "syntax",

    /// The input is not UTF-8 text.
    ///
    /// A file (or a JSON Lines line) holds bytes that are not UTF-8, or its
    /// first bytes say it is something else altogether: a ZIP archive or an
    /// Excel workbook, a PDF, gzip, Parquet or UTF-16 text.
    ///
    /// # Triggered by
    ///
    /// - an `.xlsx` workbook saved as `regimens.csv`
    /// - `drug: isotr\xe9tinoin` saved as Latin-1
    ///
    /// # How to fix
    ///
    /// Export or save the file as UTF-8 text (CSV, YAML or JSON).
    NotUtf8 = "not-utf8",

    /// The input holds no regimen.
    ///
    /// The document is empty, or is not a mapping with `drug`, `patient`
    /// and `course` (a list, a number), or a FHIR file is not a Bundle or a
    /// MedicationRequest, or holds no MedicationRequest.
    ///
    /// # Triggered by
    ///
    /// - an empty `regimen.yaml`
    /// - `{"resourceType": "Patient", "id": "p1"}` read as FHIR
    ///
    /// # How to fix
    ///
    /// Give one regimen per document (or `regimens:` with a list), or a FHIR
    /// Bundle with MedicationRequests.
    NotARegimen = "not-a-regimen",

    /// A value or record is over one of rxlint's documented limits.
    ///
    /// The limits keep memory and reports bounded: a document over 64 MiB,
    /// a JSON line or CSV row over 1 MiB, more than 1000 phases (or FHIR
    /// dosage instructions), an id over 256 bytes.
    ///
    /// # Triggered by
    ///
    /// - `id:` followed by 300 characters
    /// - `phases:` with 1001 items
    ///
    /// # How to fix
    ///
    /// Split the input, or shorten the value; no real regimen comes near
    /// these limits, so the record is probably damaged.
    TooLarge = "too-large",

    /// A file found by searching a directory cannot be opened.
    ///
    /// The file is a dangling symbolic link or cannot be read (no
    /// permission). It becomes one `invalid` record and the other files
    /// are checked; a file named on the command line that cannot be opened
    /// stops the run instead (exit 2).
    ///
    /// # Triggered by
    ///
    /// - `rxlint check dir/` where `dir/a.yaml -> missing.yaml`
    /// - a regimen file without read permission inside `dir/`
    ///
    /// # How to fix
    ///
    /// Restore the link's target or the file's permissions, or remove it.
    UnreadableFile = "unreadable-file",

    /// A key that is not a field of the regimen format.
    ///
    /// An unknown key is refused rather than ignored, because a misspelt
    /// field would otherwise leave its fact missing without a word.
    ///
    /// # Triggered by
    ///
    /// - `wieght: 70 kg` (did you mean `weight`?)
    /// - `dosage: 20 mg` in a phase
    ///
    /// # How to fix
    ///
    /// Use the field name the help suggests; the regimen format in the
    /// README lists every field.
    UnknownField = "unknown-field",

    /// A field holds the wrong kind of value.
    ///
    /// A mapping where a value belongs, a value where a mapping or list
    /// belongs, a number where a date or true/false belongs.
    ///
    /// # Triggered by
    ///
    /// - `patient: seventy`
    /// - `with_food: sometimes`
    /// - a Parquet cell of Arrow type timestamp under `start` (a date32,
    ///   or text, is read)
    ///
    /// # How to fix
    ///
    /// Write the field as the regimen format shows: `patient:` holds the
    /// patient's fields, `with_food: true`, `start: 2026-03-02`.
    WrongType = "wrong-type",

    /// A required field is missing.
    ///
    /// A regimen needs a `drug`, a `course` with at least one phase, and
    /// each phase a dose (`dose` or `daily_dose`), a `frequency` and a
    /// `duration`; without them no dose rule could be checked.
    ///
    /// # Triggered by
    ///
    /// - a phase `{dose: 35 mg, duration: 20 weeks}` (no frequency)
    /// - `phases: []`
    ///
    /// # How to fix
    ///
    /// Add the field named in the message.
    MissingField = "missing-field",

    /// Two fields of one regimen contradict each other.
    ///
    /// A phase gives both `dose` and `daily_dose`; the rows of one CSV
    /// regimen give different patient values or drugs; or a product fixes a
    /// fact (Glucophage XR is extended release) that the regimen contradicts.
    ///
    /// # Triggered by
    ///
    /// - `{dose: 35 mg, daily_dose: 70 mg, ...}` in one phase
    /// - `drug: Glucophage XR` with `formulation: immediate_release`
    ///
    /// # How to fix
    ///
    /// Keep one of the two values: the one the prescription means.
    ConflictingFields = "conflicting-fields",

    /// A quantity is written without its unit.
    ///
    /// In medication safety an unstated unit is an error, not a default:
    /// `weight: 70` could be kilograms or pounds.
    ///
    /// # Triggered by
    ///
    /// - `weight: 70`
    /// - `duration: 20`
    ///
    /// # How to fix
    ///
    /// Write the unit after the number: `weight: 70 kg`, `duration: 20 weeks`.
    MissingUnit = "missing-unit",

    /// A unit that rxlint does not know.
    ///
    /// Units are case-sensitive (UCUM): `Mg` is not `mg`. Units outside
    /// rxlint's catalogue are looked up in the UCUM registry.
    ///
    /// # Triggered by
    ///
    /// - `dose: 35 Mg`
    /// - `weight: 70 kilos`
    ///
    /// # How to fix
    ///
    /// Use the unit the help suggests, or a UCUM unit (`mg`, `kg`, `[lb_av]`).
    UnknownUnit = "unknown-unit",

    /// A unit of the wrong kind for its field.
    ///
    /// The unit is known but measures something else (a mass for a
    /// duration), or is ambiguous for the field: months and years as a
    /// treatment duration, `1.73m2` anywhere but an eGFR.
    ///
    /// # Triggered by
    ///
    /// - `duration: 20 mg`
    /// - `duration: 3 months`
    /// - a CSV cell `0.5 mg/kg` under `dose_mg` (a cell's own unit must
    ///   measure what its column does)
    ///
    /// # How to fix
    ///
    /// Use a unit of the field's kind: `20 weeks`, `70 kg`, `95 mL/min/1.73m2`.
    WrongUnit = "wrong-unit",

    /// A number that cannot be read exactly.
    ///
    /// The text is not a plain decimal number (a decimal comma, letters),
    /// is not finite, or has more significant digits than rxlint holds
    /// exactly (28).
    ///
    /// # Triggered by
    ///
    /// - `weight: 70,5 kg`
    /// - `dose: NaN mg`
    ///
    /// # How to fix
    ///
    /// Write a decimal number with a dot: `70.5 kg`.
    InvalidNumber = "invalid-number",

    /// A quantity object that cannot be used as a measurement.
    ///
    /// A FHIR-style quantity whose `comparator` makes it a bound rather
    /// than a value, or whose `unit` and `code` name different units.
    ///
    /// # Triggered by
    ///
    /// - `weight: {value: 50, comparator: "<", unit: kg}`
    /// - `weight: {value: 70, unit: kg, code: "[lb_av]"}`
    ///
    /// # How to fix
    ///
    /// Give the measured value, with one unit.
    InvalidQuantity = "invalid-quantity",

    /// A value outside what is possible or plausible.
    ///
    /// Zero or negative weights, doses, durations and frequencies; more than
    /// 24 doses a day; a weight over 700 kg or a daily dose over 100 g
    /// (including a dose whose daily total is); totals too large to compute
    /// exactly.
    ///
    /// # Triggered by
    ///
    /// - `weight: 0 kg`
    /// - `dose: 35 kg` (over the plausible maximum of 100 g)
    ///
    /// # How to fix
    ///
    /// Check the number and its unit; a plausible regimen is never refused.
    OutOfRange = "out-of-range",

    /// A value that is not one of its field's allowed values.
    ///
    /// Enumerated fields (`sex`, `severity`, `renal_impairment`,
    /// `indication`, ...) accept only their listed values (case and `-`/`_`
    /// are forgiven).
    ///
    /// # Triggered by
    ///
    /// - `sex: femal`
    /// - `severity: extreme`
    ///
    /// # How to fix
    ///
    /// Use one of the values the label lists, or the suggested one.
    InvalidValue = "invalid-value",

    /// A date that does not exist or is not written `YYYY-MM-DD`.
    ///
    /// # Triggered by
    ///
    /// - `start: 2026-02-30`
    /// - `previous_course_end: 2027-02-29` (2027 is not a leap year)
    ///
    /// # How to fix
    ///
    /// Write a real calendar date as `YYYY-MM-DD`.
    InvalidDate = "invalid-date",

    /// A frequency rxlint cannot read.
    ///
    /// Frequencies are `N/day`, `N/week`, words (`twice daily`, `once
    /// weekly`), abbreviations (`QD`, `BID`, `TID`, `QID`, `QW`) or `every N
    /// hours`.
    ///
    /// # Triggered by
    ///
    /// - `frequency: sometimes`
    /// - `frequency: 2 per fortnight`
    ///
    /// # How to fix
    ///
    /// Write the schedule in one of the forms above.
    InvalidFrequency = "invalid-frequency",

    /// A drug without rules in this profile.
    ///
    /// No loaded pack names the drug (or product), or its packs have no rule
    /// under the profile checked. Such a regimen is never passed, since
    /// nothing was checked.
    ///
    /// # Triggered by
    ///
    /// - `drug: isotretinoine` (a misspelling)
    /// - `drug: warfarin` with the shipped packs
    ///
    /// # How to fix
    ///
    /// Correct the name, or add a rule pack for the drug (`--rules DIR`).
    UnknownDrug = "unknown-drug",

    /// A CSV file without even a header row.
    ///
    /// Found by searching a directory it is one `invalid` record; named on
    /// the command line it stops the run (exit 2).
    ///
    /// # Triggered by
    ///
    /// - an empty `regimens.csv`
    /// - a `.csv` file holding only blank lines
    ///
    /// # How to fix
    ///
    /// Export the file again with its header, or remove it.
    CsvEmpty = "csv-empty",

    /// A CSV header has columns rxlint does not read (a warning).
    ///
    /// A column that is neither one of rxlint's nor in the column map
    /// (`--columns`), and a column with an empty header, are ignored; one
    /// warning lists them all, with a did-you-mean for a name close to one
    /// of rxlint's, and the run goes on. Headers are compared without
    /// regard to case or spaces (`Weight_KG` is `weight_kg`).
    ///
    /// # Triggered by
    ///
    /// - `id,drug,wieght_kg,...` (did you mean `weight_kg`?)
    /// - `...,with_food,` (an empty trailing column)
    ///
    /// # How to fix
    ///
    /// Rename a misspelt column; map a site's columns with `--columns`
    /// (`rxlint columns init FILE` writes a starter map), or map them to
    /// `ignore` to silence the warning.
    CsvUnknownColumn = "csv-unknown-column",

    /// A CSV header gives a column twice.
    ///
    /// Also when it gives both `frequency_per_day` and `frequency`, which
    /// say the same thing. The run stops (exit 2).
    ///
    /// # Triggered by
    ///
    /// - `id,drug,dose_mg,dose_mg,...`
    /// - `...,frequency_per_day,frequency,...`
    ///
    /// # How to fix
    ///
    /// Keep one of the two columns.
    CsvDuplicateColumn = "csv-duplicate-column",

    /// A CSV header lacks a required column.
    ///
    /// Every CSV input, and every Parquet file or Arrow batch (whose
    /// column names are checked as a header), needs `drug`, a frequency
    /// (`frequency_per_day`, `interval_hours` or `frequency`), a duration
    /// (`duration_weeks`) and
    /// a dose (`dose_mg`, `daily_dose_mg`, ...), by rxlint's names or
    /// through a column map. One diagnostic names every one missing, a
    /// header that may be a misspelling of one of rxlint's columns, and the
    /// command that writes a starter map. The run stops (exit 2).
    ///
    /// # Triggered by
    ///
    /// - `id,drug,weight_kg,dose_mg,frequency_per_day` (no `duration_weeks`)
    /// - `Rx Number,Drug,Dose,Sig,Days Supply` without a column map
    ///
    /// # How to fix
    ///
    /// Add the missing column, or map the export's columns onto rxlint's
    /// with `--columns` (`rxlint columns init FILE` writes a starter map).
    CsvMissingColumn = "csv-missing-column",

    /// A CSV row with more or fewer cells than the header.
    ///
    /// Usually an unquoted comma inside a cell. Only that regimen is
    /// `invalid`.
    ///
    /// # Triggered by
    ///
    /// - `RX-1,isotretinoin,70,24` under a header of 21 columns
    /// - `RX-2,isotretinoin,"70,5"` quoted elsewhere but not here
    ///
    /// # How to fix
    ///
    /// Give every row one cell per header column; quote cells holding commas.
    CsvRaggedRow = "csv-ragged-row",

    /// A CSV row that cannot be read as text.
    ///
    /// A cell holds bytes that are not UTF-8 (a file saved as Latin-1 after
    /// its first rows were checked). Only that regimen is `invalid`.
    ///
    /// # Triggered by
    ///
    /// - a row `RX-3,isotr\xe9tinoin,...` saved as Latin-1
    ///
    /// # How to fix
    ///
    /// Save the file as UTF-8.
    CsvBadRecord = "csv-bad-record",

    /// A row (CSV or Parquet) that repeats an earlier row of its regimen exactly.
    ///
    /// A warning.
    /// Exports list a row twice when a prescription was printed or sent
    /// twice. The row is read once, and the regimen is checked on the rows
    /// that differ; its verdict is at least `warn`, so the repeat is seen.
    /// Two phases that really are alike differ in their `phase` column.
    ///
    /// # Triggered by
    ///
    /// - `RX-1,isotretinoin,60,40,2,20` on rows 2 and 3
    ///
    /// # How to fix
    ///
    /// Remove the repeated row, or number the phases in a `phase` column.
    DuplicateRow = "duplicate-row",

    /// A regimen id that an earlier regimen in the same file already used.
    ///
    /// A warning.
    /// Rows of one regimen are read together only when they are adjacent;
    /// rows with the id further down the file are a second regimen, checked
    /// apart from the first. A split regimen checked in parts may pass where
    /// the whole would not (a cumulative dose), and results keyed by id
    /// would mix the two, so the later regimen is at least `warn`.
    ///
    /// # Triggered by
    ///
    /// - rows `RX-1`, `RX-2`, `RX-1` in that order
    ///
    /// # How to fix
    ///
    /// Sort the export by id (keeping each regimen's rows in phase order),
    /// or give each regimen its own id.
    DuplicateId = "duplicate-id",

    /// A column map (`--columns`) cannot be used.
    ///
    /// The map is checked before any record is read, and every problem in
    /// it is reported where it is written; the run stops (exit 2).
    ///
    /// # Triggered by
    ///
    /// - `Weight: {field: patient.wieght}` (did you mean `patient.weight`?)
    /// - `Weight: {field: weight_kg, unit: mg/day}` (not a body mass)
    ///
    /// # How to fix
    ///
    /// Name a fact (`rxlint rules facts`), one of rxlint's CSV columns, or
    /// `id`, `drug`, `product`, `ignore`, with a unit of the fact's kind.
    ColumnMap = "column-map",

    /// A FHIR reference names no resource that was given.
    ///
    /// The MedicationRequest's `subject`, or its `medicationReference`,
    /// points at a resource that is neither contained nor in the Bundle
    /// (or the Bulk Data files).
    ///
    /// # Triggered by
    ///
    /// - `"subject": {"reference": "Patient/p9"}` with no Patient `p9`
    /// - `"medicationReference": {"reference": "#med1"}` with nothing contained
    ///
    /// # How to fix
    ///
    /// Include the referenced resource in the Bundle or the export.
    FhirMissingReference = "fhir-missing-reference",

    /// FHIR data that names more than one thing where one is needed.
    ///
    /// A reference matches several resources, or two observations of the
    /// same day (two body weights) disagree; rxlint does not guess which
    /// one holds.
    ///
    /// # Triggered by
    ///
    /// - two Patient resources with id `p1` in one Bundle
    /// - body weights of 70 kg and 75 kg on the same day
    ///
    /// # How to fix
    ///
    /// Remove the duplicate, or correct the observation that is wrong.
    FhirAmbiguous = "fhir-ambiguous",

    /// A FHIR element that cannot be mapped to the regimen format.
    ///
    /// The element says something rxlint cannot represent exactly, so the
    /// regimen is `invalid` rather than checked on a guess: a range of
    /// frequencies, days of the week, months, several dosage instructions
    /// without `sequence`, a dose in a unit that no strength converts.
    ///
    /// # Triggered by
    ///
    /// - `"repeat": {"frequency": 1, "frequencyMax": 2, "period": 1, "periodUnit": "d"}`
    /// - a MedicationRequest with no `dosageInstruction`
    ///
    /// # How to fix
    ///
    /// Give the element in a form the FHIR table of the README lists, or
    /// check that prescription by hand.
    FhirUnmapped = "fhir-unmapped",
}

codes! {
    /// A problem with rule files, their expressions or their examples: the
    /// rules do not load (exit 2 for `check`, exit 1 for `rules lint`) or
    /// `rules test` fails.
    RuleCode, "rules.";

    /// A rule directory or file cannot be read.
    ///
    /// # Triggered by
    ///
    /// - `rxlint rules lint no-such-dir`
    /// - `rxlint check --rules rules/ x.yaml` with an unreadable rule file
    ///
    /// # How to fix
    ///
    /// Name an existing directory of rule files, readable by the user.
    Unreadable = "unreadable",

    /// A rule directory holds no rule file.
    ///
    /// # Triggered by
    ///
    /// - `rxlint rules lint docs/` (no `*.yaml` under it)
    ///
    /// # How to fix
    ///
    /// Name the directory that holds the `*.yaml` rule files.
    Empty = "empty",

    /// A rule file is not UTF-8 text.
    ///
    /// # Triggered by
    ///
    /// - a rule file saved as Latin-1 with `quote: "... \xe9 ..."`
    ///
    /// # How to fix
    ///
    /// Save the file as UTF-8.
    NotUtf8 = "not-utf8",

    /// A rule file is not valid YAML.
    ///
    /// # Triggered by
    ///
    /// - `rules: [{id: demodrug.max, title: Max` (an unclosed flow sequence)
    /// - `severity: error` and `severity: warning` in one rule (the YAML
    ///   reader refuses a duplicate key)
    ///
    /// # How to fix
    ///
    /// Correct the YAML at the place shown.
    YamlSyntax = "yaml-syntax",

    /// A key that a rule file does not have at that place.
    ///
    /// # Triggered by
    ///
    /// - `serverity: error` in a rule
    /// - `citaton:` in a rule
    ///
    /// # How to fix
    ///
    /// Use the key the help suggests; "Writing rules" in the README lists
    /// every key.
    UnknownKey = "unknown-key",

    /// A key given twice in one mapping of a rule file.
    ///
    /// The loader's own check; in practice the YAML reader refuses a
    /// duplicate key first, as `rules.yaml-syntax`, so no rule file read
    /// today produces this code.
    ///
    /// # Triggered by
    ///
    /// - `severity: error` and `severity: warning` in one rule
    ///
    /// # How to fix
    ///
    /// Keep one of them.
    DuplicateKey = "duplicate-key",

    /// A required key is missing.
    ///
    /// A pack needs `pack`, `drug` and `rules`; a rule needs `id`, `title`,
    /// `severity`, `violation`, `message` and `help`; a source and a
    /// citation their own keys.
    ///
    /// # Triggered by
    ///
    /// - a rule without `violation:`
    /// - a pack without `drug:`
    ///
    /// # How to fix
    ///
    /// Add the key named in the message.
    MissingKey = "missing-key",

    /// A key of a rule file holds the wrong kind of value.
    ///
    /// # Triggered by
    ///
    /// - `rules: demodrug.max` (a string where a list of rules belongs)
    ///
    /// # How to fix
    ///
    /// Write the value as the README's examples show.
    WrongType = "wrong-type",

    /// A rule id that is not `drug.kebab-case-name`.
    ///
    /// # Triggered by
    ///
    /// - `id: MaxDailyDose`
    /// - `id: isotretinoin.max_daily_dose`
    ///
    /// # How to fix
    ///
    /// Name the rule `<drug>.<lowercase-words-with-dashes>`.
    BadId = "bad-id",

    /// A severity other than `error`, `warning` or `info`.
    ///
    /// # Triggered by
    ///
    /// - `severity: fatal`
    /// - `severity: warn`
    ///
    /// # How to fix
    ///
    /// Write `error`, `warning` or `info`.
    BadSeverity = "bad-severity",

    /// A scope other than `phase` or `course`.
    ///
    /// # Triggered by
    ///
    /// - `scope: phases`
    /// - `scope: regimen`
    ///
    /// # How to fix
    ///
    /// Write `phase` (checked on each phase) or `course` (on the whole course).
    BadScope = "bad-scope",

    /// A value a product cannot fix.
    ///
    /// A product (`products:`) fixes course facts that are an enum or
    /// true/false, to one of their values.
    ///
    /// # Triggered by
    ///
    /// - `fixes: {regimen.formulation: slow_release}`
    /// - `fixes: {patient.weight: 70 kg}`
    ///
    /// # How to fix
    ///
    /// Fix an enum or true/false fact to one of its values.
    BadValue = "bad-value",

    /// A rule without a `citation`.
    ///
    /// Every rule must cite the label or guideline sentence it enforces, so
    /// that every finding can say where its limit comes from.
    ///
    /// # Triggered by
    ///
    /// - a rule with `id`, `violation` and `message` but no `citation:`
    ///
    /// # How to fix
    ///
    /// Add `citation: {source: KEY, section: ..., quote: "..."}`.
    MissingCitation = "missing-citation",

    /// A citation names a source the pack does not declare.
    ///
    /// # Triggered by
    ///
    /// - `citation: {source: us-lable, ...}` when `sources:` declares `us-label`
    ///
    /// # How to fix
    ///
    /// Declare the document under `sources:`, or use its key.
    UnknownSource = "unknown-source",

    /// A profile that the pack does not have.
    ///
    /// # Triggered by
    ///
    /// - `citation_for: {uk: ...}` in a pack whose profiles are `us` and `eu`
    ///
    /// # How to fix
    ///
    /// Use one of the pack's `profiles`.
    UnknownProfile = "unknown-profile",

    /// An `unprobed:` declaration names no bound of its rule.
    ///
    /// # Triggered by
    ///
    /// - `unprobed: [{bound: "phase.dose > 1 mg", why: ...}]` on a rule whose
    ///   bound is `phase.daily_dose > 2550 mg/day`
    ///
    /// # How to fix
    ///
    /// Copy the bound as the rule writes it, or remove the declaration.
    UnknownBound = "unknown-bound",

    /// Two rules with the same id in one profile.
    ///
    /// # Triggered by
    ///
    /// - `isotretinoin.max-daily-dose` in `us.yaml` and again in
    ///   `common.yaml`, both for `us`
    ///
    /// # How to fix
    ///
    /// Give one of them another id, or other profiles.
    DuplicateId = "duplicate-id",

    /// A product pack extends a pack that is not loaded.
    ///
    /// # Triggered by
    ///
    /// - `extends: isotretinoin-usa` when the pack is named `isotretinoin-us`
    ///
    /// # How to fix
    ///
    /// Name a loaded pack of the same drug.
    UnknownPack = "unknown-pack",

    /// A product pack extends a pack of another drug.
    ///
    /// # Triggered by
    ///
    /// - `drug: metformin` with `extends: isotretinoin-us`
    ///
    /// # How to fix
    ///
    /// Extend a pack of the product's own drug.
    ExtendsOtherDrug = "extends-other-drug",

    /// A pack that extends another but names no product that selects it.
    ///
    /// # Triggered by
    ///
    /// - a pack with `extends: isotretinoin-us` and no `products:`
    ///
    /// # How to fix
    ///
    /// Add `products:` naming the brands the pack is for.
    ProductWithoutBase = "product-without-base",

    /// A product pack removes a rule that no pack of its drug defines.
    ///
    /// # Triggered by
    ///
    /// - `remove: [isotretinoin.with-fod]`
    ///
    /// # How to fix
    ///
    /// Name an existing rule id of the drug.
    UnknownRule = "unknown-rule",

    /// One name (alias, drug or product) names two drugs.
    ///
    /// # Triggered by
    ///
    /// - `aliases: [Accutane]` in a metformin pack as well as in isotretinoin's
    ///
    /// # How to fix
    ///
    /// Remove the name from the pack it does not belong to.
    AmbiguousAlias = "ambiguous-alias",

    /// A fact the vocabulary (`vocabulary.yaml`) declares unusably.
    ///
    /// A fact's path names its group and itself in lower_snake_case; its
    /// type is quantity, enum, bool or date; a quantity has a dimension and
    /// a unit of that dimension, and plausible limits of it; a fact and a
    /// document key are declared once.
    ///
    /// # Triggered by
    ///
    /// - `patient.creatinine: {type: quantity, dimension: flow, unit: mg/dL}`
    /// - `Patient.Weight:` (not lower_snake_case), or `dimension: weight`
    ///
    /// # How to fix
    ///
    /// Correct the declaration as the message says; the comment at the top of
    /// `rules/vocabulary.yaml` lists every key of a fact.
    VocabularyFact = "vocabulary-fact",

    /// The vocabulary lacks, or mistypes, a fact the engine computes with.
    ///
    /// The derivations (daily doses, doses per kg, durations, the renal
    /// category, ...) read and write fixed facts: the vocabulary must declare
    /// each of them, with the type the engine expects.
    ///
    /// # Triggered by
    ///
    /// - a `vocabulary.yaml` without `patient.weight`
    /// - `patient.weight: {type: quantity, dimension: drug mass, unit: mg}`
    ///
    /// # How to fix
    ///
    /// Keep the engine's facts as the shipped vocabulary declares them; add
    /// your own facts beside them.
    VocabularyEngineFact = "vocabulary-engine-fact",

    /// An expression or message template that does not parse.
    ///
    /// # Triggered by
    ///
    /// - `violation: phase.daily_dose_per_kg >> 2 mg/kg/day`
    /// - `message: "dose {phase.dose"` (an unclosed `{`)
    ///
    /// # How to fix
    ///
    /// Correct the expression at the place shown; write `{{` for a literal brace.
    Syntax = "syntax",

    /// A name that is not a fact of the regimen model.
    ///
    /// # Triggered by
    ///
    /// - `violation: patient.wieght < 40 kg`
    /// - `at: phase.dosage`
    ///
    /// # How to fix
    ///
    /// Use the fact the help suggests; the README's facts table lists them.
    UnknownFact = "unknown-fact",

    /// A value that is not one of its enum's values.
    ///
    /// # Triggered by
    ///
    /// - `patient.sex == femal`
    /// - `covers: {indications: [acnee]}`
    ///
    /// # How to fix
    ///
    /// Use one of the values listed in the message.
    UnknownValue = "unknown-value",

    /// A bare name that is neither a fact nor a value in its place.
    ///
    /// # Triggered by
    ///
    /// - `violation: weight < 40 kg` (facts are written with their group)
    /// - `violation: female`
    ///
    /// # How to fix
    ///
    /// Write facts as `patient.weight`, and compare enum values with a fact:
    /// `patient.sex == female`.
    UnknownName = "unknown-name",

    /// A unit in an expression that rxlint does not know.
    ///
    /// # Triggered by
    ///
    /// - `phase.dose > 5 Mg`
    /// - `phase.daily_dose > 2 mg / day` (a space inside the unit)
    ///
    /// # How to fix
    ///
    /// Write the unit straight after the number: `2 mg/kg/day`.
    UnknownUnit = "unknown-unit",

    /// A call of a function the language does not have.
    ///
    /// # Triggered by
    ///
    /// - `violation: missing(patient.weight)`
    ///
    /// # How to fix
    ///
    /// The functions are `present(FACT)`, `min(A, B)`, `max(A, B)` and
    /// `previous(FACT)`.
    UnknownFunction = "unknown-function",

    /// A function called with the wrong arguments.
    ///
    /// # Triggered by
    ///
    /// - `present(patient.weight, patient.age)`
    /// - `present(40 kg)`
    /// - `min(phase.dose)`
    /// - `previous(patient.weight)` (the same in every phase)
    ///
    /// # How to fix
    ///
    /// Give `present` exactly one fact, `min` and `max` two values, and
    /// `previous` one per-phase fact.
    WrongArguments = "wrong-arguments",

    /// An operator applied to values of the wrong type.
    ///
    /// # Triggered by
    ///
    /// - `phase.dose and true`
    /// - `patient.pregnant < true`
    ///
    /// # How to fix
    ///
    /// Compare quantities first (`phase.dose > 1 mg`), then combine the
    /// true/false results with `and`, `or`, `not`.
    TypeMismatch = "type-mismatch",

    /// Two quantities that measure different things.
    ///
    /// # Triggered by
    ///
    /// - `phase.daily_dose_per_kg > 8 weeks`
    /// - `phase.dose + patient.weight > 1 mg`
    /// - `min(1000 mg, 15 mg/kg)`
    ///
    /// # How to fix
    ///
    /// Convert one side: divide a dose by `patient.weight` to get mg/kg.
    UnitMismatch = "unit-mismatch",

    /// A condition that is not true/false.
    ///
    /// # Triggered by
    ///
    /// - `violation: phase.dose`
    /// - `when: patient.weight + 1 kg`
    ///
    /// # How to fix
    ///
    /// Compare the value with something: `phase.dose > 40 mg`.
    NotACondition = "not-a-condition",

    /// A per-phase fact in a rule with `scope: course`.
    ///
    /// # Triggered by
    ///
    /// - `scope: course` with `violation: phase.dose > 1 mg`
    /// - `scope: course` with `previous(phase.daily_dose)`
    ///
    /// # How to fix
    ///
    /// Set `scope: phase`, or use a course fact such as
    /// `course.max_daily_dose_per_kg`.
    PhaseFactInCourseRule = "phase-fact-in-course-rule",

    /// A rule that reads `previous(...)` but can fire without it.
    ///
    /// Such a rule does not apply to the first phase, which has no phase
    /// before it; a part of it that needs no previous phase would go
    /// unchecked there.
    ///
    /// # Triggered by
    ///
    /// - `violation: phase.dose > 1000 mg or phase.daily_dose - previous(phase.daily_dose) > 500 mg/day`
    ///
    /// # How to fix
    ///
    /// Put the test that does not read the previous phase in a rule of
    /// its own.
    FiresWithoutPrevious = "fires-without-previous",

    /// A range whose lower bound is above its upper bound.
    ///
    /// # Triggered by
    ///
    /// - `phase.dose in 2 mg ..= 1 mg`
    ///
    /// # How to fix
    ///
    /// Write the smaller bound first.
    EmptyRange = "empty-range",

    /// A date literal that does not exist.
    ///
    /// # Triggered by
    ///
    /// - `course.start < 2026-02-30`
    ///
    /// # How to fix
    ///
    /// Write a real calendar date as `YYYY-MM-DD`.
    InvalidDate = "invalid-date",

    /// A literal too large to hold exactly in its canonical unit.
    ///
    /// # Triggered by
    ///
    /// - `phase.dose > 9999999999999999999999999999 g`
    ///
    /// # How to fix
    ///
    /// Use a plausible bound; no label limit comes near it.
    OutOfRange = "out-of-range",

    /// An example of a rule file did not give the findings it expects.
    ///
    /// `rules test` runs each `tests:` example under its profiles and
    /// compares its findings, exactly, with `expect`.
    ///
    /// # Triggered by
    ///
    /// - `expect: none` on a regimen of 80 mg twice a day at 70 kg
    /// - `expect: [{rule: isotretinoin.max-daily-dose, phase: 2}]` for phase 1
    ///
    /// # How to fix
    ///
    /// Correct the rule or the example: the message shows what it gave.
    TestFailed = "test-failed",

    /// A rule's bound does not decide the rule where it says.
    ///
    /// `rules test` probes every numeric bound at, just inside and just
    /// outside it; the verdict flipped elsewhere, or the rule's conditions
    /// could not be read for bounds.
    ///
    /// # Triggered by
    ///
    /// - `violation: phase.daily_dose > 100 mg/day or phase.daily_dose >= 100
    ///   mg/day` (the rule fires at exactly 100 mg/day, which `>` says is quiet)
    ///
    /// # How to fix
    ///
    /// Correct the rule's logic; the message shows the probes.
    TestBound = "test-bound",

    /// A bound that `rules test` could not probe, with no reason declared.
    ///
    /// # Triggered by
    ///
    /// - `violation: phase.times_per_day > 30` (the reader refuses more than
    ///   24 doses a day, so no regimen reaches the bound)
    ///
    /// # How to fix
    ///
    /// Rewrite the bound so that a regimen can reach it, or declare it with
    /// `unprobed: [{bound: "...", why: "..."}]`.
    TestUnprobed = "test-unprobed",

    /// An `unprobed:` declaration that is no longer needed.
    ///
    /// Every bound it names was probed, so the declaration would hide a
    /// future regression.
    ///
    /// # Triggered by
    ///
    /// - `unprobed: [{bound: "phase.daily_dose > 2550 mg/day", ...}]` on a
    ///   bound that the prober reaches
    ///
    /// # How to fix
    ///
    /// Remove the declaration.
    TestStaleUnprobed = "test-stale-unprobed",

    /// An example names a profile that no loaded pack has.
    ///
    /// # Triggered by
    ///
    /// - `profile: uk` on an example when the packs have `us` and `eu`
    ///
    /// # How to fix
    ///
    /// Use a profile of the pack, or leave `profile` out to run the
    /// example under each of them.
    TestProfile = "test-profile",
}

codes! {
    /// The engine's findings on a regimen the rules in force did not
    /// fully check: a warning (never a bare `pass`), reported as a finding
    /// with the code as its rule id.
    CoverageCode, "coverage.";

    /// The regimen is outside what the packs in force cover.
    ///
    /// Every pack of the drug declares `covers:` and none covers the
    /// regimen (or whether one does depends on a missing fact: then the
    /// finding is `unevaluated`); or the regimen names a product whose pack
    /// is not in this profile, so the generic rules were checked instead of
    /// the product's own.
    ///
    /// # Triggered by
    ///
    /// - `drug: methotrexate` with `indication: psoriasis`
    /// - `drug: isotretinoin`, `product: Absorica LD` under `--profile eu`
    ///
    /// # How to fix
    ///
    /// Check the regimen against its label by hand, or add a pack that
    /// covers it (`covers:`).
    NotCovered = "not-covered",

    /// No rule of the drug applied to the regimen.
    ///
    /// Every rule of the list has a `when` condition and every condition was
    /// false, so nothing was checked.
    ///
    /// # Triggered by
    ///
    /// - a pack whose rules all say `when: patient.weight < 40 kg`, and a
    ///   70 kg patient
    ///
    /// # How to fix
    ///
    /// Check the regimen against its label by hand; the rules in force do
    /// not speak to it.
    NoRuleApplied = "no-rule-applied",
}

impl InputCode {
    /// How much the problem weighs: a warning leaves the regimen checked
    /// (at least `warn`); an error makes it `invalid`.
    pub const fn level(self) -> crate::diagnostic::Level {
        match self {
            Self::DuplicateRow | Self::DuplicateId => crate::diagnostic::Level::Warning,
            _ => crate::diagnostic::Level::Error,
        }
    }

    /// A FHIR-specific code, whose message already names the FHIR element.
    pub const fn is_fhir(self) -> bool {
        matches!(
            self,
            Self::FhirMissingReference | Self::FhirAmbiguous | Self::FhirUnmapped
        )
    }
}

/// The code string is not in the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownCode;

impl fmt::Display for UnknownCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a diagnostic code")
    }
}

impl std::error::Error for UnknownCode {}

/// Any code of any stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnyCode {
    /// `input.*`.
    Input(InputCode),
    /// `rules.*`.
    Rule(RuleCode),
    /// `coverage.*`.
    Coverage(CoverageCode),
}

impl AnyCode {
    /// Every code, stage by stage.
    pub fn all() -> impl Iterator<Item = AnyCode> {
        InputCode::ALL
            .iter()
            .copied()
            .map(AnyCode::Input)
            .chain(RuleCode::ALL.iter().copied().map(AnyCode::Rule))
            .chain(CoverageCode::ALL.iter().copied().map(AnyCode::Coverage))
    }

    /// The stable code.
    pub const fn as_str(self) -> &'static str {
        match self {
            AnyCode::Input(c) => c.as_str(),
            AnyCode::Rule(c) => c.as_str(),
            AnyCode::Coverage(c) => c.as_str(),
        }
    }

    /// The doc as written.
    pub const fn doc(self) -> &'static str {
        match self {
            AnyCode::Input(c) => c.doc(),
            AnyCode::Rule(c) => c.doc(),
            AnyCode::Coverage(c) => c.doc(),
        }
    }

    /// One line.
    pub fn summary(self) -> &'static str {
        summary_of(self.doc())
    }

    /// What `rxlint explain CODE` prints: the code and its summary, then
    /// the explanation.
    pub fn explain(self) -> String {
        format!(
            "{}: {}\n\n{}",
            self.as_str(),
            self.summary(),
            explanation_of(self.doc())
        )
    }
}

impl fmt::Display for AnyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AnyCode {
    type Err = UnknownCode;

    fn from_str(text: &str) -> Result<Self, UnknownCode> {
        AnyCode::all()
            .find(|c| c.as_str() == text)
            .ok_or(UnknownCode)
    }
}

impl From<InputCode> for AnyCode {
    fn from(c: InputCode) -> Self {
        AnyCode::Input(c)
    }
}

impl From<RuleCode> for AnyCode {
    fn from(c: RuleCode) -> Self {
        AnyCode::Rule(c)
    }
}

impl From<CoverageCode> for AnyCode {
    fn from(c: CoverageCode) -> Self {
        AnyCode::Coverage(c)
    }
}

/// The first line of a doc, trimmed.
fn summary_of(doc: &'static str) -> &'static str {
    doc.lines().next().map_or("", str::trim)
}

/// The doc after its first line, each line without the space `///` leaves.
fn explanation_of(doc: &str) -> String {
    let mut out = String::with_capacity(doc.len());
    for line in doc.lines().skip(1).skip_while(|l| l.trim().is_empty()) {
        out.push_str(line.strip_prefix(' ').unwrap_or(line));
        out.push('\n');
    }
    out
}

/// The README's list of codes: one table row per code, stage by stage.
pub fn codes_table() -> String {
    let mut out = String::from("| code | means |\n|---|---|\n");
    for code in AnyCode::all() {
        out.push_str(&format!("| `{}` | {} |\n", code.as_str(), code.summary()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for code in AnyCode::all() {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} is declared twice");
            let (stage, name) = text.split_once('.').unwrap_or(("", ""));
            assert!(["input", "rules", "coverage"].contains(&stage), "{text}");
            assert!(
                !name.is_empty()
                    && name.split('-').all(|w| !w.is_empty()
                        && w.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())),
                "{text} is not kebab-case"
            );
            assert_eq!(text.parse::<AnyCode>(), Ok(code));
        }
        assert_eq!("input.missing-unit".parse(), Ok(InputCode::MissingUnit));
        assert_eq!("rules.unit-mismatch".parse(), Ok(RuleCode::UnitMismatch));
        assert_eq!("input.syntax".parse::<RuleCode>(), Err(UnknownCode));
        assert_eq!("missing-unit".parse::<AnyCode>(), Err(UnknownCode));
    }

    /// Every doc has the sections `rxlint explain` promises, and says which
    /// inputs trigger the code with at least one example in backticks.
    #[test]
    fn every_code_is_documented_in_fixed_sections() {
        for code in AnyCode::all() {
            let summary = code.summary();
            assert!(
                !summary.is_empty() && summary.ends_with('.'),
                "{code}: the first doc line is a one-line summary ending with a period"
            );
            let doc = code.doc();
            let triggered = doc.find("# Triggered by");
            let fix = doc.find("# How to fix");
            assert!(
                triggered.is_some_and(|t| fix.is_some_and(|f| t < f)),
                "{code}: the doc needs `# Triggered by`, then `# How to fix`"
            );
            let examples = &doc[triggered.unwrap_or(0)..fix.unwrap_or(0)];
            assert!(
                examples.contains("- ") && examples.contains('`'),
                "{code}: `# Triggered by` lists inputs, in backticks"
            );
        }
    }

    #[test]
    fn explain_shows_the_summary_and_the_sections_without_doc_indent() {
        let text = AnyCode::Input(InputCode::MissingUnit).explain();
        assert!(
            text.starts_with("input.missing-unit: A quantity is written without its unit.\n\n")
        );
        assert!(
            text.contains("\n# Triggered by\n\n- `weight: 70`\n"),
            "{text}"
        );
        assert!(!text.contains("\n "), "{text}");
    }

    #[test]
    fn only_the_fhir_codes_are_fhir() {
        let fhir: Vec<&str> = InputCode::ALL
            .iter()
            .filter(|c| c.is_fhir())
            .map(|c| c.as_str())
            .collect();
        let named: Vec<&str> = InputCode::ALL
            .iter()
            .map(|c| c.as_str())
            .filter(|c| c.starts_with("input.fhir-"))
            .collect();
        assert_eq!(fhir, named);
    }
}
