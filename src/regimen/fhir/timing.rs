//! Schedules: a dosage instruction's `timing` to a frequency and a duration.
//!
//! Takes `timing.repeat` (`frequency`, `period`, `when`, `timeOfDay`,
//! bounds, `count`) or `timing.code` and gives the phase's frequency as an
//! exact [`Rate`] (`N/day` or `N/week`) and its duration; what FHIR can say
//! but a phase cannot (ranges, `dayOfWeek`, months) is reported.

use rust_decimal::Decimal;

use super::terminology::{GTS, codings};
use super::{Mapper, date_of, number, number_text, seq, text, unit_text};
use crate::facts::Fact;
use crate::regimen::Given;
use crate::tree::Node;
use crate::units::{self, Dim, Family, Unit};

/// A schedule's rate: `doses` every `days` days (2 every 1 for 2/day, 1
/// every 7 for once weekly), kept apart so that a weekly rate stays exact.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rate {
    doses: Decimal,
    days: Decimal,
}

impl Rate {
    fn per_day(doses: Decimal) -> Rate {
        Rate {
            doses,
            days: Decimal::ONE,
        }
    }
}

/// Event-timing codes of one daily time slot each, for counting doses per day.
const SLOTS: &[&[&str]] = &[
    &[
        "MORN",
        "MORN.early",
        "MORN.late",
        "WAKE",
        "CM",
        "ACM",
        "PCM",
    ],
    &["NOON", "CD", "ACD", "PCD"],
    &["AFT", "AFT.early", "AFT.late"],
    &["EVE", "EVE.early", "EVE.late", "CV", "ACV", "PCV"],
    &["NIGHT", "HS", "PHS"],
];

impl<'a> Mapper<'a, '_> {
    /// Sets the frequency; gives the schedule's rate.
    pub(super) fn frequency(&mut self, phase: usize, at: &str, d: &Node) -> Option<Rate> {
        let mr = self.mr;
        let cover = Some(format!("course.phases[{phase}].frequency"));
        let Some(timing) = d.get("timing") else {
            self.unmapped(
                &mr,
                d,
                at,
                "has no `timing`: how often the dose is taken is unknown".into(),
                cover,
            );
            return None;
        };
        if let Some(repeat) = timing.get("repeat") {
            let here = format!("{at}.timing.repeat");
            for key in ["frequencyMax", "periodMax"] {
                if let Some(node) = repeat.get(key) {
                    self.unmapped(
                        &mr,
                        node,
                        &format!("{here}.{key}"),
                        "a range of frequencies (such as every 4 to 6 hours) is not one number a day, and rxlint does not pick one".into(),
                        cover,
                    );
                    return None;
                }
            }
            if let Some(node) = repeat.get("dayOfWeek") {
                self.unmapped(
                    &mr,
                    node,
                    &format!("{here}.dayOfWeek"),
                    "doses on some days of the week are not a number a day".into(),
                    cover,
                );
                return None;
            }
            let frequency = repeat.get("frequency");
            let period = repeat.get("period");
            if frequency.is_some() || period.is_some() {
                return self.per_period(phase, &here, repeat, cover);
            }
            let when = seq(repeat.get("when"));
            let times = seq(repeat.get("timeOfDay"));
            if !when.is_empty() || !times.is_empty() {
                return self
                    .daily_events(phase, &here, repeat, cover)
                    .map(Rate::per_day);
            }
        }
        if let Some(code) = timing.get("code") {
            let n = codings(Some(code)).find_map(|(_, system, c)| {
                (system == Some(GTS)).then_some(())?;
                match c? {
                    "QD" | "AM" | "PM" => Some(1),
                    "BID" => Some(2),
                    "TID" => Some(3),
                    "QID" => Some(4),
                    _ => None,
                }
            });
            if let Some(n) = n {
                let element = format!("{at}.timing.code");
                self.set_schedule(phase, code, &format!("{n}/day"), &element);
                return Some(Rate::per_day(Decimal::from(n)));
            }
        }
        self.unmapped(
            &mr,
            timing,
            &format!("{at}.timing"),
            "gives no frequency rxlint can read (`repeat.frequency`/`period`/`periodUnit`, `when`, `timeOfDay`, or a QD/BID/TID/QID code)".into(),
            cover,
        );
        None
    }

    /// `frequency` times per `period` `periodUnit`, as a whole number a day.
    fn per_period(
        &mut self,
        phase: usize,
        here: &str,
        repeat: &Node,
        cover: Option<String>,
    ) -> Option<Rate> {
        let mr = self.mr;
        // FHIR R4 Timing: with no frequency the event occurs once per period.
        let frequency = match repeat.get("frequency") {
            Some(node) => number(Some(node)),
            None => Some(Decimal::ONE),
        };
        let period = number(repeat.get("period"));
        let unit = text(repeat.get("periodUnit"));
        let (Some(frequency), Some(period), Some(unit)) = (frequency, period, unit) else {
            self.unmapped(
                &mr,
                repeat,
                here,
                "needs a numeric `frequency`, `period` and `periodUnit` to give doses a day".into(),
                cover,
            );
            return None;
        };
        // Doses per day = frequency x (units per day) / period, as an exact
        // fraction: a week is 1/7 of the way to a day, which no decimal holds.
        let per_unit: Option<(i64, i64)> = match unit {
            "s" => Some((86_400, 1)),
            "min" => Some((1440, 1)),
            "h" => Some((24, 1)),
            "d" => Some((1, 1)),
            "wk" => Some((1, 7)),
            _ => None,
        };
        let shown = format!(
            "{} per {} {unit}",
            units::display_number(frequency),
            units::display_number(period)
        );
        let Some(per_unit) = per_unit else {
            self.unmapped(
                &mr,
                repeat,
                &format!("{here}.periodUnit"),
                format!(
                    "{shown}: months and years vary in length, so this is no whole number a day"
                ),
                cover,
            );
            return None;
        };
        let per_day = frequency
            .checked_mul(Decimal::from(per_unit.0))
            .zip(period.checked_mul(Decimal::from(per_unit.1)))
            .and_then(|(a, b)| a.checked_div(b))
            .map(|d| d.normalize());
        match per_day {
            Some(n) if n >= Decimal::ONE && n.fract().is_zero() => {
                self.set_schedule(phase, repeat, &format!("{n}/day"), here);
                Some(Rate::per_day(n))
            }
            _ => {
                // A whole number a week (methotrexate once weekly) is a
                // weekly schedule, kept as doses per 7 days (its per-day
                // rate is no decimal).
                let per_week = frequency
                    .checked_mul(Decimal::from(per_unit.0 * 7))
                    .zip(period.checked_mul(Decimal::from(per_unit.1)))
                    .and_then(|(a, b)| a.checked_div(b))
                    .map(|d| d.normalize());
                if let Some(n) = per_week.filter(|n| *n >= Decimal::ONE && n.fract().is_zero()) {
                    self.set_schedule(phase, repeat, &format!("{n}/week"), here);
                    return Some(Rate {
                        doses: n,
                        days: Decimal::from(7),
                    });
                }
                // Otherwise one dose every so many hours or days (every 3
                // weeks is a 21-day cycle), through the same reader as
                // `every 21 days` in a regimen document.
                let hours = period
                    .checked_mul(Decimal::from(24 * per_unit.1))
                    .and_then(|h| h.checked_div(Decimal::from(per_unit.0)))
                    .and_then(|h| h.checked_div(frequency))
                    .map(|d| d.normalize());
                let days = hours.and_then(|h| h.checked_div(Decimal::from(24)));
                let (Some(hours), Some(days)) = (hours, days) else {
                    self.unmapped(
                        &mr,
                        repeat,
                        here,
                        format!("{shown} cannot be read as a schedule"),
                        cover,
                    );
                    return None;
                };
                let every = if days.fract().is_zero() && unit != "h" {
                    format!("every {days} days")
                } else {
                    format!("every {hours} hours")
                };
                self.set_schedule(phase, repeat, &every, here);
                Some(Rate {
                    doses: Decimal::ONE,
                    days,
                })
            }
        }
    }

    /// One dose at each daily `when` event or `timeOfDay`.
    fn daily_events(
        &mut self,
        phase: usize,
        here: &str,
        repeat: &Node,
        cover: Option<String>,
    ) -> Option<Decimal> {
        let mr = self.mr;
        let when = repeat.get("when");
        let times = repeat.get("timeOfDay");
        if let (Some(node), Some(_)) = (when, times) {
            self.unmapped(
                &mr,
                node,
                &format!("{here}.when"),
                "gives both `when` and `timeOfDay`, which FHIR forbids".into(),
                cover,
            );
            return None;
        }
        let (node, element, n) = if let Some(node) = when {
            let element = format!("{here}.when");
            let mut slots = Vec::new();
            for code in seq(Some(node)) {
                let code = code.as_str().unwrap_or("");
                match SLOTS.iter().position(|s| s.contains(&code)) {
                    Some(slot) if !slots.contains(&slot) => slots.push(slot),
                    Some(_) => {
                        self.unmapped(&mr, node, &element, format!("`{code}` falls in the same part of the day as another code, so the doses a day are unclear"), cover);
                        return None;
                    }
                    None => {
                        self.unmapped(
                            &mr,
                            node,
                            &element,
                            format!("`{code}` does not say how many times a day"),
                            cover,
                        );
                        return None;
                    }
                }
            }
            (node, element, slots.len())
        } else if let Some(node) = times {
            let mut distinct: Vec<&str> = seq(Some(node)).iter().filter_map(Node::as_str).collect();
            distinct.sort_unstable();
            distinct.dedup();
            (node, format!("{here}.timeOfDay"), distinct.len())
        } else {
            return None;
        };
        if n == 0 {
            self.unmapped(&mr, node, &element, "lists no time of day".into(), cover);
            return None;
        }
        self.set_schedule(phase, node, &format!("{n}/day"), &element);
        Some(Decimal::from(n))
    }

    /// Sets the phase's schedule (`2/day`, `1/week`) read from `node`,
    /// through the same reader as a regimen document's `frequency`.
    fn set_schedule(&mut self, phase: usize, node: &Node, schedule: &str, element: &str) {
        let given = Given::Text(schedule.to_owned());
        self.set_phase(phase, Fact::TIMES_PER_DAY, node, given, element);
    }

    /// Sets the duration from bounds or count.
    pub(super) fn duration(&mut self, phase: usize, at: &str, d: &Node, rate: Option<Rate>) {
        let mr = self.mr;
        let cover = Some(format!("course.phases[{phase}].duration"));
        let here = format!("{at}.timing.repeat");
        let Some(repeat) = d.get("timing").and_then(|t| t.get("repeat")) else {
            self.unmapped(
                &mr,
                d.get("timing").unwrap_or(d),
                &format!("{at}.timing"),
                "gives no `repeat.bounds[x]` or `count`: the length of the course is unknown"
                    .into(),
                cover,
            );
            return;
        };
        let ranges = [
            ("boundsRange", "a range of durations is not one duration"),
            ("countMax", "a range of counts is not one duration"),
        ];
        for (key, why) in ranges {
            if let Some(node) = repeat.get(key) {
                self.unmapped(&mr, node, &format!("{here}.{key}"), why.into(), cover);
                return;
            }
        }
        // (node, element, value, days when known)
        let mut bounds: Option<(&Node, String, Given, Option<Decimal>)> = None;
        if let Some(node) = repeat.get("boundsDuration") {
            let unit = unit_text(node).unwrap_or_default().to_owned();
            let value = number_text(node.get("value")).unwrap_or_default();
            let days = number(node.get("value")).and_then(|v| {
                let u = Unit::parse(&unit)
                    .ok()
                    .filter(|u| u.dim == Dim::TIME && u.family == Family::Time)?;
                u.factor.to_canonical(v)
            });
            bounds = Some((
                node,
                format!("{here}.boundsDuration"),
                Given::Quantity { value, unit },
                days,
            ));
        } else if let Some(node) = repeat.get("boundsPeriod") {
            let element = format!("{here}.boundsPeriod");
            let start = date_of(node.get("start"));
            let end = date_of(node.get("end"));
            match (start, end, node.get("end")) {
                (Some(s), Some(e), _) if e >= s => {
                    // Both days count: 12 September to 12 September is one day.
                    let days = i64::from(e.days()) - i64::from(s.days()) + 1;
                    let value = Given::Text(format!("{days} days"));
                    bounds = Some((node, element, value, Some(Decimal::from(days))));
                }
                (Some(_), Some(_), _) => {
                    self.unmapped(&mr, node, &element, "ends before it starts".into(), cover);
                    return;
                }
                (_, _, None) if repeat.get("count").is_some() => {}
                (_, _, None) => {
                    self.unmapped(
                        &mr,
                        node,
                        &element,
                        "has no `end`: the course is open-ended, and its length unknown".into(),
                        cover,
                    );
                    return;
                }
                _ => {
                    self.unmapped(
                        &mr,
                        node,
                        &element,
                        "needs a full `start` and `end` date (YYYY-MM-DD) to give a length".into(),
                        cover,
                    );
                    return;
                }
            }
        }
        let count = repeat.get("count").map(|node| {
            let days = number(Some(node))
                .zip(rate)
                .and_then(|(n, rate)| n.checked_mul(rate.days)?.checked_div(rate.doses))
                .map(|d| d.normalize());
            (node, days)
        });
        match (bounds, count) {
            (Some((node, element, value, days)), count) => {
                if let Some((_, Some(by_count))) = count
                    && days.is_some_and(|d| d != by_count)
                {
                    let message = format!(
                        "the bounds ({} days) and `count` ({} days) disagree, and rxlint does not choose",
                        days.map_or("?".to_owned(), units::display_number),
                        units::display_number(by_count)
                    );
                    self.unmapped(&mr, node, &element, message, cover);
                    return;
                }
                self.set_phase(phase, Fact::DURATION, node, value, &element);
            }
            (None, Some((node, days))) => {
                let element = format!("{here}.count");
                match days {
                    Some(n) if n.fract().is_zero() && n >= Decimal::ONE => {
                        self.set_phase(phase, Fact::DURATION, node, Given::Text(format!("{n} days")), &element);
                    }
                    Some(n) => self.unmapped(
                        &mr,
                        node,
                        &element,
                        format!("`count` at this frequency makes the course {} days long; it must be a whole number of days, at least 1", units::display_number(n)),
                        cover,
                    ),
                    // The frequency's problem is reported already.
                    None if rate.is_none() => self.covered.extend(cover),
                    None => self.unmapped(&mr, node, &element, "is not a number".into(), cover),
                }
            }
            (None, None) => self.unmapped(
                &mr,
                repeat,
                &here,
                "gives no `boundsDuration`, `boundsPeriod` or `count`: the length of the course is unknown".into(),
                cover,
            ),
        }
    }
}
