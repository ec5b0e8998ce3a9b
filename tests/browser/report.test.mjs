// Opens the HTML report of `rxlint check examples/ --format html` in the
// system's headless Chromium and uses it as the pharmacist would: the tiles,
// the rule filter, the histogram's limit line; the page must ask the
// network for nothing and log no error.
//
// RXLINT (the binary, default target/release/rxlint) and CHROMIUM (default
// /usr/bin/chromium) may be set in the environment.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, copyFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const bin = resolve(root, process.env.RXLINT ?? "target/release/rxlint");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const out = resolve(root, "target/browser");
mkdirSync(out, { recursive: true });
const report = resolve(out, "report.html");

test("the HTML report, opened in Chromium", async () => {
  const run = spawnSync(bin, ["check", "examples/", "--format", "html", "--output", report], {
    cwd: root,
    encoding: "utf8",
  });
  assert.ok(run.status === 0 || run.status === 1, `rxlint exited ${run.status}: ${run.stderr}`);
  const m = run.stderr.match(/(\d+) regimens: (\d+) pass, (\d+) warn, (\d+) fail, (\d+) invalid/);
  assert.ok(m, `no summary line on stderr: ${run.stderr}`);
  const [, total, pass, warn, fail, invalid] = m.map(Number);

  const browser = await chromium.launch({ executablePath: browserPath });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests = [];
    const problems = [];
    page.on("request", (r) => requests.push(r.url()));
    page.on("console", (msg) => {
      if (msg.type() === "error") problems.push(msg.text());
    });
    page.on("pageerror", (e) => problems.push(String(e)));
    const url = pathToFileURL(report).href;
    await page.goto(url);

    // The tiles are the summary line.
    const tile = async (v) =>
      Number(await page.locator(`[data-verdict="${v}"] .count`).textContent());
    assert.deepEqual(
      [await tile("pass"), await tile("warn"), await tile("fail"), await tile("invalid"), await tile("total")],
      [pass, warn, fail, invalid, total],
    );

    // Filtering by a rule narrows the rules table to that rule, and the
    // records to its section.
    const rows = page.locator("#rules tr.rule-row:not(.hidden)");
    const before = await rows.count();
    assert.ok(before > 1, "the rules table lists several rules");
    await page.selectOption("#rule-filter", "isotretinoin.max-daily-dose");
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.first().getAttribute("data-rule"), "isotretinoin.max-daily-dose");
    assert.equal(await page.locator("section.rule:not(.hidden)").count(), 1);
    await page.click("#clear");
    assert.equal(await rows.count(), before);

    // Clicking a tile keeps only the rules with findings in regimens of
    // that verdict.
    await page.click('#tiles button[data-verdict="fail"]');
    const failing = await rows.count();
    assert.ok(failing > 0 && failing < before, `fail tile: ${failing} of ${before} rules`);
    for (const r of await rows.all()) {
      assert.ok(Number(await r.getAttribute("data-fail")) > 0);
    }
    const shownVerdicts = await page
      .locator("section.rule:not(.hidden) tr.rec:not(.hidden)")
      .evaluateAll((trs) => [...new Set(trs.map((tr) => tr.dataset.verdict))]);
    assert.deepEqual(shownVerdicts, ["fail"]);
    await page.click("#clear");

    // The limit line of the daily dose per kg sits where the axis puts 2
    // mg/kg/day.
    const svg = page.locator('section[data-rule="isotretinoin.max-daily-dose"] svg.histogram');
    const geometry = await svg.evaluate((s) => ({
      ticks: [...s.querySelectorAll("g.tick")].map((g) => ({
        value: Number(g.dataset.value),
        x: Number(g.querySelector("line").getAttribute("x1")),
      })),
      limits: [...s.querySelectorAll("line.limit")].map((l) => ({
        value: Number(l.dataset.value),
        x: Number(l.getAttribute("x1")),
        label: l.querySelector("title").textContent,
      })),
    }));
    // 2 for the label; Absorica LD restates the rule with 1.6.
    assert.deepEqual(geometry.limits.map((l) => l.value), [1.6, 2]);
    const limit = geometry.limits[1];
    assert.match(limit.label, /2 mg\/kg\/day/);
    const [a, b] = [geometry.ticks[0], geometry.ticks.at(-1)];
    const expected = a.x + ((limit.value - a.value) / (b.value - a.value)) * (b.x - a.x);
    assert.ok(Math.abs(limit.x - expected) < 0.5, `limit at x=${limit.x}, axis puts 2 at ${expected}`);

    await page.screenshot({ path: resolve(root, "target/report.png"), fullPage: false });

    // Nothing but the page itself was asked for, and nothing went wrong.
    assert.deepEqual(requests, [url]);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
  if (process.env.RXLINT_SCREENSHOT_DOCS) {
    copyFileSync(resolve(root, "target/report.png"), resolve(root, "docs/report.png"));
  }
});
