#!/usr/bin/env python3
"""Writes the libFuzzer dictionaries (one per target) from src/facts.rs and
the keys of the rule, regimen, CSV and FHIR formats. Run from anywhere."""
import os, re

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
facts = sorted(set(re.findall(r'"((?:patient|course|phase)\.[a-z_]+)"', open(f"{root}/src/facts.rs").read())))

def q(s):
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c in '"\\':
            out.append("\\" + c)
        elif 0x20 <= b < 0x7f:
            out.append(c)
        else:
            out.append("\\x%02X" % b)
    return '"' + "".join(out) + '"'

def write(target, toks):
    with open(os.path.join(here, target + ".dict"), "w") as f:
        f.write("# libFuzzer dictionary for the `%s` target (written by make_dicts.py)\n" % target)
        for t in dict.fromkeys(toks):
            f.write(q(t) + "\n")

values = ["true", "false", "mg", "g", "ug", "mcg", "kg", "lb", "[lb_av]", "mg/kg", "mg/kg/day", "mg/day", "day", "days",
          "week", "weeks", "month", "year", "years", "mL/min/1.73m2", "mL/min/{1.73_m2}", "/day", "2026-03-02",
          "1900-01-01", "2200-12-31", "0", "1", "-1", "0.5", "9223372036854775807", "9223372036854775808",
          "2147483647", "2147483648", "79228162514264337593543950335", "1e28", "0.0000000000000000000000000001",
          "female", "male", "severe", "moderate", "mild", "none", "positive", "negative", "not_done"]
operators = [" and ", " or ", "not ", " ?? ", " == ", " != ", " <= ", " >= ", " < ", " > ", " + ", " - ", " * ",
             " / ", " in ", " ..= ", "present(", ")", "(", "{", "}", "{{", "}}"]
write("expression", facts + operators + values)

rule_keys = ["pack: ", "description: ", "drug: ", "aliases: ", "profiles: ", "sources:", "rules:", "base:", "tests:",
             "name: ", "profile: ", "regimen:", "expect:", "rule: ", "kind: ", "phase: ", "- id: ", "title: ",
             "severity: ", "scope: ", "when: ", "violation: ", "unless: ", "message: ", "help: ", "citation:", "at: ",
             "source: ", "section: ", "quote: ", "document: ", "url: ", "error", "warning", "info", "course", "phase",
             "violation", "unevaluated", "us", "eu", "isotretinoin", "\n  ", "\n    ", "\n      ", "- ", ">-\n", "|\n",
             "&a ", "*a", "<<: "]
write("rules", facts + operators + values + rule_keys)

doc_keys = ["id: ", "drug: ", "patient:", "course:", "phases:", "regimens:", "weight: ", "age: ", "sex: ",
            "pregnant: ", "childbearing_potential: ", "pregnancy_test: ", "contraception: ", "egfr: ",
            "renal_impairment: ", "severity: ", "scarring: ", "truncal: ", "start: ", "previous_course_end: ",
            "dose: ", "daily_dose: ", "frequency: ", "duration: ", "with_food: ", "value: ", "unit: ", "code: ",
            "2/day", "BID", "TID", "QID", "twice daily", "once daily", "\n  ", "\n    - ", "isotretinoin",
            "Roaccutane", ".nan", ".inf", "~", "null", "&a ", "*a", "<<: ", "!!str ", "---\n"]
write("document", doc_keys + values)

json_keys = ['"%s":' % k.strip(": ") for k in doc_keys[:28]]
write("jsonl", json_keys + ["{", "}", "[", "]", ",", ":", "null", "1e400", "-0", "\\u0000", "\\ud800", "2/day", "BID"]
      + ['"%s"' % v for v in values])

columns = ["id", "drug", "weight_kg", "age_years", "sex", "pregnant", "childbearing_potential", "pregnancy_test",
           "contraception", "egfr", "renal_impairment", "severity", "scarring", "truncal", "start",
           "previous_course_end", "dose_mg", "daily_dose_mg", "frequency_per_day", "duration_weeks", "with_food"]
write("csv", columns + [",", "\n", "\r\n", '"', '""', "isotretinoin", "\ufeff"] + values)

fhir_keys = ["resourceType", "Bundle", "MedicationRequest", "Patient", "Observation", "Medication", "entry",
             "resource", "fullUrl", "id", "subject", "reference", "Patient/", "Medication/", "#", "contained",
             "medicationReference", "medicationCodeableConcept", "coding", "system", "code", "display", "text",
             "dosageInstruction", "sequence", "timing", "repeat", "frequency", "frequencyMax", "period", "periodMax",
             "periodUnit", "boundsDuration", "boundsPeriod", "boundsRange", "count", "countMax", "when", "timeOfDay",
             "dayOfWeek", "doseAndRate", "doseQuantity", "doseRange", "low", "high", "type", "value", "unit",
             "comparator", "ingredient", "strength", "numerator", "denominator", "itemCodeableConcept",
             "authoredOn", "birthDate", "gender", "effectiveDateTime", "effectivePeriod", "issued", "valueQuantity",
             "valueCodeableConcept", "component", "additionalInstruction", "patientInstruction", "start", "end",
             "http://www.nlm.nih.gov/research/umls/rxnorm", "http://snomed.info/sct", "http://loinc.org",
             "http://unitsofmeasure.org", "6064", "387208003", "29463-7", "3141-9", "33914-3", "48642-3", "48643-1",
             "62238-1", "98979-8", "82810-3", "77386006", "60001007", "311504000", "311501008", "732936001",
             "732937005", "{Piece}", "TAB", "mg", "kg", "[lb_av]", "d", "wk", "h", "min", "s", "mo", "a", "MORN",
             "CV", "PC", "AC", "QD", "BID", "TID", "QID", "2016-09-12", "1990-05", "1990", "ordered", ">", "<", "female"]
write("fhir", ['"%s"' % k for k in fhir_keys] + ['"%s":' % k for k in fhir_keys[6:68]]
      + ["{", "}", "[", "]", ",", ":", "\n", "true", "false", "null", "1e400"])
