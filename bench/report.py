#!/usr/bin/env python3
"""The HTML report's memory and size, as the input grows.

    python3 bench/report.py [--records 100000 1000000]

For each size, generates the benchmark's synthetic prescriptions (CSV, the
fixed seed of bench/run.py) and measures, with wall time and peak RSS:

1. `rxlint check --format html --output page.html` (the page built while
   checking);
2. `rxlint check --format json --output run.jsonl`, then
   `rxlint report run.jsonl --output page.html` (the page built later from
   a run's JSON Lines, as from a cluster's);

and the size of each page. The page aggregates while streaming (counts,
fixed histogram bins, a capped drill-down), so peak RSS and page size should
stay flat while the input grows tenfold.
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import RXLINT, build, generate, measure  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    build()
    print("| records | run | wall s | peak RSS MiB | output MiB |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="rxlint-report-") as tmp:
        for n in args.records:
            csv = os.path.join(tmp, "input.csv")
            generate(csv, n, "csv")
            page = os.path.join(tmp, "page.html")
            jsonl = os.path.join(tmp, "run.jsonl")
            later = os.path.join(tmp, "later.html")
            runs = [
                ("check --format html", [RXLINT, "check", "--quiet", "--format", "html", "--output", page, csv], page),
                ("check --format json", [RXLINT, "check", "--quiet", "--format", "json", "--output", jsonl, csv], jsonl),
                ("report run.jsonl", [RXLINT, "report", "--output", later, jsonl], later),
            ]
            for label, cmd, out in runs:
                wall, rss, _cpu = measure(cmd)
                size = os.path.getsize(out) / 2**20
                print(f"| {n:,} | {label} | {wall:.1f} | {rss:.1f} | {size:.2f} |")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
