#!/usr/bin/env python3
"""Writes the seed inputs that the repository does not already hold as files:
expressions and templates (taken from the rule files), CSV and JSON Lines
batches. Run once; the output (fuzz/seeds/) is committed."""
import glob, hashlib, json, os, yaml

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)

def write(target, text):
    d = os.path.join(here, "seeds", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(text.encode()).hexdigest()[:16]
    with open(os.path.join(d, name), "w") as f:
        f.write(text)

# Expressions and templates from every rule file.
files = glob.glob(f"{root}/rules/**/*.yaml", recursive=True) + glob.glob(f"{root}/tests/golden/rules/*/rules.yaml")
seen = set()
for path in files:
    try:
        doc = yaml.safe_load(open(path))
    except Exception:
        continue
    for rule in (doc or {}).get("rules", []) or []:
        if not isinstance(rule, dict):
            continue
        for key in ("when", "violation", "unless", "message", "help"):
            v = rule.get(key)
            vs = v if isinstance(v, list) else [v]
            for x in vs:
                if isinstance(x, str) and x not in seen:
                    seen.add(x)
                    write("expression", x)
for x in ["present(patient.weight)", "course.start - course.previous_course_end >= 8 weeks",
          "phase.dose in 0.5 mg/kg ..= -(2 mg/kg)", "2026-03-02", "{{x}} {phase.dose * 2 / 3}",
          "not not (a.b ?? 1 mg/kg/day) != 3e2 mL/min/{1.73_m2}"]:
    write("expression", x)

HEADER = "id,drug,weight_kg,age_years,sex,pregnant,childbearing_potential,pregnancy_test,contraception,egfr,renal_impairment,severity,scarring,truncal,start,previous_course_end,dose_mg,daily_dose_mg,frequency_per_day,duration_weeks,with_food"
def row(i, w, d, wk, **kw):
    cells = {c: "" for c in HEADER.split(",")}
    cells.update(id=i, drug="isotretinoin", weight_kg=w, age_years="24", sex="male",
                 dose_mg=d, frequency_per_day="2", duration_weeks=wk, with_food="true")
    cells.update(kw)
    return ",".join(cells[c] for c in HEADER.split(","))
write("csv", "\n".join([HEADER, row("A", "70", "17.5", "4"), row("A", "70", "35", "16"),
                        row("B", "70", "80", "20"), row("C", "7O", "35", "20"),
                        row("D", "70", "35", "20") + ",extra", row("", "70", "35", "20")]) + "\n")
write("csv", "\n".join([HEADER, row("F", "60", "20", "16", sex="female", childbearing_potential="true",
                        pregnancy_test="negative", contraception="true", egfr="29.9",
                        renal_impairment="severe", severity="severe", scarring="true", truncal="false",
                        start="2026-03-02", previous_course_end="2025-01-01", age_years="17"),
                        row("F", "60", "", "4", daily_dose_mg="60", pregnant="false")]) + "\r\n")
write("csv", "drug,dose_mg,frequency_per_day,duration_weeks\nisotretinoin,35,2,20\n\"Accutane\",\"3,5\",2,20\n")
write("csv", "id,drug,weight,daily_dose_mg,frequency_per_day,duration_weeks,dose_mg\n")

good = {"drug": "isotretinoin", "patient": {"weight": "70 kg", "age": 24, "sex": "male"},
        "course": {"phases": [{"dose": "35 mg", "frequency": "2/day", "duration": "20 weeks", "with_food": True}]}}
lines = [json.dumps(good), '{"drug": broken', "", json.dumps(good), "[1, 2]"]
write("jsonl", "\n".join(lines) + "\n")
for path in sorted(glob.glob(f"{root}/examples/*.yaml") + glob.glob(f"{root}/tests/handworked/*.yaml"))[:40]:
    try:
        doc = yaml.safe_load(open(path))
    except Exception:
        continue
    write("jsonl", json.dumps(doc, default=str) + "\n")
