//! `--format sarif`: one SARIF 2.1.0 log with one run, built with the
//! serde-sarif types. The tool's rules carry their help text and citation;
//! each result is located at the regimen file and line.

use std::collections::BTreeMap;

use serde_sarif::sarif;

use super::Entry;
use crate::diagnostic::Level;
use crate::rules::RuleSet;

/// A SARIF log under construction.
#[derive(Default)]
pub struct Log {
    results: Vec<sarif::Result>,
}

fn level(level: Level) -> sarif::ResultLevel {
    match level {
        Level::Error => sarif::ResultLevel::Error,
        Level::Warning => sarif::ResultLevel::Warning,
        Level::Info => sarif::ResultLevel::Note,
    }
}

impl Log {
    /// Adds one regimen's findings.
    pub fn add(&mut self, entry: &Entry) {
        for f in &entry.findings {
            let (line, column) = f.position.unwrap_or((entry.line, 1));
            let region = sarif::Region::builder()
                .start_line(i64::try_from(line).unwrap_or(i64::MAX))
                .start_column(i64::try_from(column).unwrap_or(i64::MAX))
                .build();
            let location = sarif::Location::builder()
                .physical_location(
                    sarif::PhysicalLocation::builder()
                        .artifact_location(
                            sarif::ArtifactLocation::builder()
                                .uri(entry.file.clone())
                                .build(),
                        )
                        .region(region)
                        .build(),
                )
                .build();
            let result = sarif::Result::builder()
                .rule_id(f.rule.clone())
                .level(level(f.level))
                .message(
                    sarif::Message::builder()
                        .text(format!("{}: {}", entry.id, f.message))
                        .build(),
                )
                .locations(vec![location])
                .build();
            self.results.push(result);
        }
    }

    /// The finished log as JSON, with a descriptor for every rule of the profile.
    pub fn finish(self, set: &RuleSet, profile: &str, docs_base: Option<&str>) -> String {
        let mut descriptors: BTreeMap<&str, sarif::ReportingDescriptor> = BTreeMap::new();
        // The coverage findings (`coverage.*`) are described too, once each.
        for rule in set
            .rules()
            .chain(set.coverage_rules())
            .filter(|r| r.in_profile(profile))
        {
            let c = rule.citation_in(profile);
            let help = format!("{}\n\nSource: {}: \"{}\"", rule.help, c.short, c.quote);
            let default_level = match rule.severity {
                crate::rules::Severity::Error => sarif::ReportingConfigurationLevel::Error,
                crate::rules::Severity::Warning => sarif::ReportingConfigurationLevel::Warning,
                crate::rules::Severity::Info => sarif::ReportingConfigurationLevel::Note,
            };
            let builder = sarif::ReportingDescriptor::builder()
                .id(rule.id.clone())
                .name(rule.id.rsplit('.').next().unwrap_or(&rule.id).to_owned())
                .short_description(
                    sarif::MultiformatMessageString::builder()
                        .text(rule.title.clone())
                        .build(),
                )
                .full_description(
                    sarif::MultiformatMessageString::builder()
                        .text(rule.violation.text.clone())
                        .build(),
                )
                .help(
                    sarif::MultiformatMessageString::builder()
                        .text(help)
                        .build(),
                )
                .default_configuration(
                    sarif::ReportingConfiguration::builder()
                        .level(serde_json::json!(default_level))
                        .build(),
                );
            let descriptor = match docs_base {
                Some(base) => builder
                    .help_uri(format!(
                        "{}/{}",
                        base.trim_end_matches('/'),
                        crate::docs::page_name(rule)
                    ))
                    .build(),
                None => builder.build(),
            };
            descriptors.entry(rule.id.as_str()).or_insert(descriptor);
        }
        let driver = sarif::ToolComponent::builder()
            .name("rxlint")
            .version(env!("CARGO_PKG_VERSION"))
            .rules(descriptors.into_values().collect::<Vec<_>>())
            .build();
        let run = sarif::Run::builder()
            .tool(sarif::Tool::builder().driver(driver).build())
            .results(self.results)
            .build();
        let log = sarif::Sarif::builder()
            .version(sarif::Version::V2_1_0.to_string())
            .schema(sarif::SCHEMA_URL)
            .runs(vec![run])
            .build();
        serde_json::to_string_pretty(&log)
            .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialise SARIF: {e}\"}}"))
    }
}
