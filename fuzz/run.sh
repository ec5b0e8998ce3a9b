#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each, one after the other, and prints one
# summary line per target.
#
#   fuzz/run.sh SECONDS [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). Only stable Rust is
# assumed: RUSTC_BOOTSTRAP=1 lets it take the nightly-only flags cargo-fuzz
# passes (-Zsanitizer=address, -Cpasses=sancov-module, ...).
#
# Environment: FUZZ_SANITIZER (default `address`; `none` is about twice as
# fast and still catches every panic, hang and OOM), FUZZ_DEBUG_ASSERTIONS
# (default 1: overflow checks and debug assertions on, as in `cargo test`;
# 0 fuzzes the release arithmetic, which wraps), FUZZ_FORK (default 1:
# libFuzzer's fork mode, which keeps going after a crash, timeout or OOM so
# that one run finds several bugs; 0 stops at the first).
#
# Corpora live in fuzz/corpus/<target> (seeded on first use from the
# repository's own inputs and fuzz/seeds/), dictionaries in fuzz/dicts/,
# crashes in fuzz/artifacts/<target>,
# full logs in fuzz/artifacts/logs/<target>.log.
set -euo pipefail

if [[ $# -lt 1 || ! $1 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 SECONDS [TARGET...]" >&2
    exit 2
fi
seconds=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$here"

all=(expression rules document jsonl csv fhir)
targets=("${@:-${all[@]}}")
sanitizer=${FUZZ_SANITIZER:-address}
fork=${FUZZ_FORK:-1}
build=(-O -s "$sanitizer")
if [[ ${FUZZ_DEBUG_ASSERTIONS:-1} == 1 ]]; then build+=(-a); fi
export RUSTC_BOOTSTRAP=1

max_len() {
    case $1 in
        expression) echo 5000 ;;
        rules | fhir) echo 16384 ;;
        *) echo 8192 ;;
    esac
}

seed() {
    local t=$1 dir=$here/corpus/$1
    mkdir -p "$dir"
    if [[ -d $here/seeds/$t ]]; then cp -n "$here/seeds/$t"/* "$dir"/ 2>/dev/null || true; fi
    case $t in
        rules)
            for f in "$root"/rules/*/*.yaml "$root"/tests/golden/rules/*/rules.yaml; do
                cp -n "$f" "$dir/$(echo "${f#"$root"/}" | tr / _)"
            done ;;
        document)
            for f in "$root"/examples/* "$root"/tests/golden/check/*.yaml "$root"/tests/golden/check/*.json "$root"/tests/handworked/*; do
                cp -n "$f" "$dir/$(echo "${f#"$root"/}" | tr / _)"
            done ;;
        fhir)
            for f in "$root"/tests/fhir/*.json "$root"/tests/fhir/bulk/*.ndjson /work/shared/data/fhir/hl7-r4-core/*.json; do
                [[ -f $f ]] && cp -n "$f" "$dir/$(basename "$f")"
            done
            cat "$root"/tests/fhir/bulk/*.ndjson > "$dir/bulk-all.ndjson"
            # One-line copies: as Bulk Data each is one resource, and the
            # fuzzer runs them far faster than the pretty-printed files
            # (where every line is a broken record of its own).
            for f in "$root"/tests/fhir/*.json /work/shared/data/fhir/hl7-r4-core/*.json; do
                [[ -f $f ]] && python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))' \
                    "$f" > "$dir/min-$(basename "$f")" 2>/dev/null || true
            done ;;
    esac
}

cargo fuzz build "${build[@]}" >/dev/null 2>&1 || cargo fuzz build "${build[@]}"
mkdir -p "$here/artifacts/logs"
summary=()
for t in "${targets[@]}"; do
    seed "$t"
    mkdir -p "$here/artifacts/$t"
    log=$here/artifacts/logs/$t.log
    before=$(find "$here/artifacts/$t" -type f | wc -l)
    args=(-max_total_time="$seconds" -max_len="$(max_len "$t")" -rss_limit_mb=2048 -timeout=10
          -print_final_stats=1)
    if [[ -f $here/dicts/$t.dict ]]; then args+=(-dict="$here/dicts/$t.dict"); fi
    if [[ $fork == 1 ]]; then
        args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    fi
    echo "== $t: ${seconds}s" >&2
    start=$(date +%s)
    set +e
    cargo fuzz run "${build[@]}" "$t" "$here/corpus/$t" -- "${args[@]}" >"$log" 2>&1
    rc=$?
    set -e
    elapsed=$(( $(date +%s) - start ))
    after=$(find "$here/artifacts/$t" -type f | wc -l)
    # The last status line: "#N ... cov: C ft: F corp: K ..." (fork mode adds
    # "oom/timeout/crash: a/b/c").
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    field() { grep -oE "$1 [0-9/]+" <<<"$2" | tail -1 | awk '{print $NF}' || true; }
    execs=$(field 'stat::number_of_executed_units:' "$(cat "$log")")
    [[ -z $execs ]] && execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
    cov=$(field 'cov:' "$last")
    ft=$(field 'ft:' "$last")
    corp=$(field 'corp:' "$last")
    oomtc=$(field 'oom/timeout/crash:' "$last")
    [[ -z $oomtc ]] && oomtc="-"
    line=$(printf '%-10s time=%4ss execs=%-10s cov=%-6s ft=%-6s corpus=%-6s oom/timeout/crash=%-7s new_artifacts=%s exit=%s' \
        "$t" "$elapsed" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$oomtc" "$((after - before))" "$rc")
    echo "$line" >&2
    summary+=("$line")
done
echo
echo "summary (${seconds}s per target, build flags: ${build[*]}, fork=$fork):"
printf '%s\n' "${summary[@]}"
echo "artifacts: $here/artifacts/<target>/  logs: $here/artifacts/logs/"
