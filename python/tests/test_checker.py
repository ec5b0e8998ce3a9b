"""Unit tests of the package: rules, profiles, records, pickling."""

import decimal
import json
import os
import pickle
import subprocess

import pytest

import rxlint
from rxlint import Checker, RulesError, SchemaError

from conftest import ROOT, cli_results

PASSING = {
    "id": "RX-1",
    "drug": "isotretinoin",
    "indication": "acne",
    "patient": {
        "weight": "70 kg",
        "age": 24,
        "sex": "male",
        "severity": "severe",
        "scarring": False,
        "truncal": False,
    },
    "course": {
        "start": "2026-03-02",
        "phases": [{"dose": "20 mg", "frequency": "2/day", "duration": "16 weeks", "with_food": True}],
    },
}

TOO_HIGH = json.loads(json.dumps(PASSING))
TOO_HIGH["id"] = "RX-2"
TOO_HIGH["course"]["phases"][0]["dose"] = "200 mg"

PACK = """\
pack: testdrug
description: A test pack.
drug: testdrug
sources:
  s:
    title: A test source
    document: none
rules:
  - id: testdrug.max-dose
    title: Dose above 100 mg
    severity: error
    scope: phase
    violation: phase.dose > 100 mg
    at: phase.dose
    message: "phase {phase.index} gives more than 100 mg"
    help: Give at most 100 mg.
    citation:
      source: s
      section: "1"
      quote: "at most 100 mg"
"""


def regimen_of(dose):
    return {
        "id": "T",
        "drug": "testdrug",
        "patient": {"weight": "70 kg"},
        "course": {"phases": [{"dose": dose, "frequency": "1/day", "duration": "1 weeks"}]},
    }


@pytest.fixture(scope="module")
def checker():
    return Checker()


def test_shipped_packs_give_the_cli_verdicts(checker):
    results = checker.check_records([PASSING, TOO_HIGH])
    assert [r["id"] for r in results] == ["RX-1", "RX-2"]
    assert [r["input"] for r in results] == ["records:1", "records:2"]
    assert results[0]["verdict"] in ("pass", "warn")
    assert results[1]["verdict"] == "fail"
    assert results[1]["profile"] == "us"
    assert any(f["severity"] == "error" for f in results[1]["findings"])


def test_records_match_the_cli_line_for_line(checker, tmp_path, rxlint_bin, gen_bin):
    path = tmp_path / "in.jsonl"
    with open(path, "wb") as out:
        subprocess.run([gen_bin, "--records", "2000", "--format", "jsonl"], stdout=out, check=True)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    want = cli_results(rxlint_bin, str(path))
    got = checker.check_records(records)
    assert len(got) == len(want) == 2000
    for g, w in zip(got, want):
        # The CLI names the file and line; records are named by position.
        assert g["input"] == "records:" + w["input"].rsplit(":", 1)[1]
        g["input"] = w["input"]
        assert g == w
    assert {r["verdict"] for r in got} >= {"pass", "fail"}


def test_a_bad_record_is_invalid_and_never_raises(checker):
    secret = "Jane Doe 1970-01-01"
    weight = lambda w: {**PASSING, "patient": {**PASSING["patient"], "weight": w}}  # noqa: E731
    bad = [
        ["not", "a", "dict"],
        weight({secret}),  # a set
        {**PASSING, 3: secret},  # a key that is not text
        weight(float("nan")),
        weight(b"70 kg"),
        "{not json",
        None,
    ]
    results = checker.check_records(bad + [PASSING])
    assert [r["verdict"] for r in results[:-1]] == ["invalid"] * len(bad)
    assert results[-1]["verdict"] in ("pass", "warn")
    assert secret not in json.dumps(results)
    rules = [r["findings"][0]["rule"] for r in results[:-1]]
    assert rules[0] == rules[-2] == rules[-1] == "input.not-a-regimen"
    assert "<set>" in results[1]["findings"][0]["message"]
    assert "<bytes>" in results[4]["findings"][0]["message"]
    assert any("<int key>" in f["message"] for f in results[2]["findings"])


def test_numbers_keep_their_exact_text(checker):
    exact = json.loads(json.dumps(PASSING))
    exact["patient"]["weight"] = {"value": decimal.Decimal("70.10"), "unit": "kg"}
    as_float = json.loads(json.dumps(PASSING))
    as_float["patient"]["weight"] = {"value": 70.1, "unit": "kg"}
    a, b = checker.check_records([exact, as_float])
    # Read, not refused, and the same regimen either way (but for where it
    # was read from).
    assert a["verdict"] != "invalid", a
    def unplaced(r):
        return {**r, "input": None, "findings": [{**f, "line": None} for f in r["findings"]]}

    assert unplaced(a) == unplaced(b)


def test_a_decimal_past_what_a_float_holds_is_never_rounded(checker, tmp_path, rxlint_bin):
    """17 significant digits: the CLI refuses them in a .jsonl line
    (input.invalid-number); check_records must not round them to 70 and
    check the rounded value instead."""
    record = json.loads(json.dumps(PASSING))
    record["patient"]["weight"] = {"value": decimal.Decimal("70.000000000000001"), "unit": "kg"}
    (got,) = checker.check_records([record])
    assert got["verdict"] == "invalid"
    assert [f["rule"] for f in got["findings"]] == ["input.invalid-number"]
    line = tmp_path / "r.jsonl"
    line.write_text(json.dumps(record, default=str).replace('"70.000000000000001"', "70.000000000000001") + "\n")
    cli = json.loads(subprocess.run([rxlint_bin, "check", "--format", "json", str(line)],
                                    capture_output=True, text=True).stdout)
    assert cli["verdict"] == got["verdict"]
    assert [f["rule"] for f in cli["findings"]] == [f["rule"] for f in got["findings"]]
    # Big integers, too: not rounded to the nearest float, whether past 64
    # bits or not.
    record["patient"]["weight"] = {"value": 70, "unit": "kg"}
    for big in (10**17 + 1, 2**64 + 1):
        record["patient"]["age"] = big
        (got,) = checker.check_records([record])
        assert [(f["rule"], f["message"]) for f in got["findings"]] == [
            ("input.invalid-number", f"`{big}` has more than 15 significant digits")
        ], got


def test_dates_are_read_as_iso_text(checker):
    import datetime

    record = json.loads(json.dumps(PASSING))
    record["course"]["start"] = datetime.date(2026, 3, 2)
    (result,) = checker.check_records([record])
    (want,) = checker.check_records([PASSING])
    assert result["findings"] == want["findings"]


def test_rule_text():
    checker = Checker(rules=PACK)
    ok, high = checker.check_records([regimen_of("50 mg"), regimen_of("150 mg")])
    assert ok["verdict"] == "pass"
    assert high["verdict"] == "fail"
    assert [f["rule"] for f in high["findings"]] == ["testdrug.max-dose"]
    assert checker.rules == {"rules.yaml": PACK}
    assert checker.check_records([{**regimen_of("150 mg"), "drug": "isotretinoin"}])[0]["verdict"] == "invalid"
    # Any mapping of file name to text, not only a dict.
    import types

    proxied = Checker(rules=types.MappingProxyType({"rules.yaml": PACK}))
    assert proxied.check_records([regimen_of("150 mg")])[0]["verdict"] == "fail"


def test_rules_directory_and_its_pickle_need_no_directory(tmp_path):
    (tmp_path / "testdrug.yaml").write_text(PACK)
    checker = Checker(rules=tmp_path)
    data = pickle.dumps(checker)
    for f in tmp_path.iterdir():
        f.unlink()
    again = pickle.loads(data)
    assert again.rules == checker.rules
    assert again.check_records([regimen_of("150 mg")])[0]["verdict"] == "fail"


def test_shipped_checker_pickles_small_and_round_trips(checker):
    data = pickle.dumps(checker)
    assert len(data) < 200, "the shipped packs travel inside the module, not the pickle"
    again = pickle.loads(data)
    assert (again.profile, again.strict, again.rules) == ("us", False, None)
    assert again.check_records([TOO_HIGH]) == checker.check_records([TOO_HIGH])


def test_profile_and_strict():
    eu = Checker(profile="eu", strict=True)
    assert (eu.profile, eu.strict) == ("eu", True)
    assert eu.check_records([PASSING])[0]["profile"] == "eu"
    assert pickle.loads(pickle.dumps(eu)).profile == "eu"


def test_unknown_profile_suggests_one():
    with pytest.raises(ValueError, match=r"unknown profile `ue`.*did you mean `eu`"):
        Checker(profile="ue")


def test_rule_problems_are_all_listed():
    other = PACK.replace("testdrug", "otherdrug").replace("severity: error", "severity: worse")
    files = {"a.yaml": PACK.replace("severity: error", "severity: bad"), "b.yaml": other}
    with pytest.raises(RulesError) as err:
        Checker(rules=files)
    message = str(err.value)
    assert "the rule files have 2 problems" in message
    assert "a.yaml" in message and "b.yaml" in message
    assert type(err.value).__module__ == "rxlint"


def test_a_missing_directory_is_named():
    with pytest.raises(ValueError, match="no-such-dir is not a directory"):
        Checker(rules="no-such-dir")


def test_shipped_rules_directory_equals_the_builtin(checker):
    from_dir = Checker(rules=os.path.join(ROOT, "rules"))
    assert from_dir.check_records([PASSING, TOO_HIGH]) == checker.check_records([PASSING, TOO_HIGH])


def test_version_and_repr(checker):
    assert rxlint.__version__
    assert repr(checker) == 'Checker(shipped packs, profile="us", strict=False)'


def test_check_arrow_takes_both_layouts_and_gives_the_json_lines(checker):
    import pyarrow as pa

    flat = pa.table(
        {
            "id": ["RX-2", "RX-1", "RX-2"],
            "phase": [2, 1, 1],
            "drug": ["isotretinoin"] * 3,
            "weight_kg": [70.0, 70.0, 70.0],
            "dose_mg": ["20", "20", "200"],
            "frequency_per_day": [2, 2, 2],
            "duration_weeks": [4, 16, 4],
        }
    )
    results = checker.check_arrow(flat)
    assert results.schema == checker.results_schema
    verdicts = dict(zip(results.column("id").to_pylist(), results.column("verdict").to_pylist()))
    assert sorted(verdicts) == ["RX-1", "RX-2"]
    assert verdicts["RX-2"] == "fail"
    for line, verdict in zip(results.column("json").to_pylist(), results.column("verdict").to_pylist()):
        assert json.loads(line)["verdict"] == verdict
    # The same, a batch at a time and as a reader.
    assert checker.check_arrow(flat.to_batches()[0]).column("json") == results.column("json")
    reader = pa.RecordBatchReader.from_batches(flat.schema, flat.to_batches())
    assert checker.check_arrow(reader).num_rows == 2

    phases = pa.array(
        [[{"dose_mg": "20", "frequency_per_day": 2, "duration_weeks": 16}]],
    )
    nested = pa.table({"id": ["RX-9"], "drug": ["isotretinoin"], "weight_kg": [70], "phases": phases})
    (verdict,) = checker.check_arrow(nested).column("verdict").to_pylist()
    assert verdict in ("pass", "warn", "fail")


def test_check_schema_says_the_layout_the_core_reads(checker):
    import pyarrow as pa

    flat = pa.schema([("ID", pa.string()), ("Phase", pa.int32()), ("drug", pa.string()),
                      ("dose_mg", pa.float64()), ("frequency_per_day", pa.int32()), ("duration_weeks", pa.int32())])
    assert checker.check_schema(flat) == {"nested": False, "id": "ID", "phase": "Phase"}
    # The schema's own name, for Spark to repartition by: a BOM and all.
    bom = pa.schema([pa.field("\ufeffid", pa.string())] + list(flat)[1:])
    assert checker.check_schema(bom)["id"] == "\ufeffid"
    item = pa.struct([("dose_mg", pa.float64()), ("frequency_per_day", pa.int32()), ("duration_weeks", pa.int32())])
    nested = pa.schema([("id", pa.string()), ("drug", pa.string()), ("phases", pa.list_(item))])
    assert checker.check_schema(nested) == {"nested": True, "id": None, "phase": None}
    # A `phases` column that is no list of structs does not make the table
    # one row per regimen: it is a column rxlint does not read.
    stray = flat.append(pa.field("phases", pa.list_(pa.int32())))
    assert checker.check_schema(stray)["nested"] is False


def test_check_arrow_gives_the_columns_asked_for(checker):
    import pyarrow as pa

    table = pa.table(
        {
            "id": ["RX-1", "RX-2"],
            "drug": ["isotretinoin", "isotretinoin"],
            "weight_kg": [70.0, 70.0],
            "dose_mg": ["20", "200"],
            "frequency_per_day": [2, 2],
            "duration_weeks": [16, 4],
        }
    )
    full = checker.check_arrow(table)
    some = checker.check_arrow(table, columns=["verdict", "id"])
    # In the results' order, whatever the order asked, and as the full results.
    assert some.column_names == ["id", "verdict"]
    assert some.schema == checker.results_schema_of(["verdict", "id"])
    assert some == full.select(["id", "verdict"])
    assert checker.check_arrow(table, columns=["findings"]).column("findings") == full.column("findings")
    assert checker.results_schema_of() == checker.results_schema
    with pytest.raises(ValueError, match="`jsn` is not a result column.*did you mean `json`"):
        checker.check_arrow(table, columns=["id", "jsn"])
    with pytest.raises(ValueError, match="no result column"):
        checker.results_schema_of([])


def test_a_bad_cell_is_an_invalid_row(checker):
    import pyarrow as pa

    table = pa.table({"id": ["A", "B"], "drug": ["isotretinoin"] * 2, "weight_kg": ["70", "Jane Doe"],
                      "dose_mg": ["20", "20"], "frequency_per_day": [2, 2], "duration_weeks": [4, 4]})
    results = checker.check_arrow(table)
    assert results.column("verdict").to_pylist() == ["warn", "invalid"]
    (finding,) = [f for f in results.column("findings").to_pylist()[1] if f["rule"].startswith("input.")]
    assert finding["rule"] == "input.invalid-number"
    assert finding["message"].startswith("row 2, column weight_kg:"), finding


def test_a_misspelt_column_raises_with_a_suggestion(checker):
    import pyarrow as pa

    table = pa.table({"id": ["A"], "drug": ["isotretinoin"], "doze_mg": ["20"], "secret": ["Jane Doe"]})
    with pytest.raises(SchemaError, match="doze_mg") as err:
        checker.check_arrow(table)
    assert "dose_mg" in str(err.value)
    assert "Jane Doe" not in str(err.value)
    with pytest.raises(SchemaError):
        checker.check_schema(table.schema)
    fine = ["id", "drug", "dose_mg", "frequency_per_day", "duration_weeks"]
    checker.check_schema(pa.schema([(name, pa.string()) for name in fine]))


def test_check_arrow_refuses_other_types(checker):
    with pytest.raises(TypeError, match="not list"):
        checker.check_arrow([1, 2])
