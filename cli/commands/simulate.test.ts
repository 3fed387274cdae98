import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../main.ts";
import { captureIO } from "../test-io.ts";
import { checkPage } from "../../simulations/report/headless-chromium.ts";

const repo = resolve(import.meta.dirname, "../..");
const steady = join(repo, "simulations/scenarios/steady.yaml");
const dir = mkdtempSync(join(tmpdir(), "kaito-simulate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface PolicyJson {
  policy: string;
  totalCost: number;
  unplaced: number;
  workspaces: number;
}

describe("kaito simulate on the steady scenario", () => {
  let json: { arrivals: number; policies: PolicyJson[] };
  const report = join(dir, "steady");

  beforeAll(async () => {
    const io = captureIO(repo);
    expect(await runCli(["simulate", steady, "--report", report, "-o", "json"], io)).toBe(0);
    json = JSON.parse(io.out());
    expect(io.err()).toBe(""); // no progress bar when stderr is not a terminal
  }, 60_000);

  // Its wall time (under 30 s is the goal) is measured outside the tests: `time npm run kaito --
  // simulate simulations/scenarios/steady.yaml`.
  it("replays 2,000 arrivals through all three policies", () => {
    expect(json.arrivals).toBe(2000);
    expect(json.policies.map((p) => p.policy)).toEqual(["milp", "ffd", "dedicated"]);
    expect(json.policies.every((p) => p.unplaced === 0)).toBe(true);
  });

  const cost = (name: string) => json.policies.find((p) => p.policy === name)!.totalCost;

  it("costs no more with first-fit sharing than with dedicated nodes", () => {
    expect(cost("ffd")).toBeLessThanOrEqual(cost("dedicated"));
  });

  // The planner packs replicas of 2-GPU-on-T4 models two to a 4-GPU T4 node, which first-fit,
  // pricing each replica alone, never does.
  it("costs no more with the MILP planner than with first-fit", () => {
    expect(cost("milp")).toBeLessThanOrEqual(cost("ffd"));
  });

  it("writes a self-contained HTML report that Chromium opens without console errors", async () => {
    const html = readFileSync(join(report, "index.html"), "utf8");
    expect(html).not.toMatch(/<script|<link|@import|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    const page = await checkPage(
      pathToFileURL(join(report, "index.html")).href,
      "[document.title, document.querySelectorAll('svg').length, document.querySelectorAll('tbody tr').length > 3]",
    );
    expect(page.errors).toEqual([]);
    expect(page.value).toEqual(["kaito simulate: steady", 11, true]);
  }, 60_000);
});

describe("kaito simulate", () => {
  function scenario(text: string): string {
    const path = join(dir, `s-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, text);
    return path;
  }

  it("prints a summary table per policy", async () => {
    const io = captureIO(dir);
    const file = scenario(`
duration: 1d
arrivals: {rate: 2}
lifetime: {distribution: fixed, value: 3h}
models: {phi-3-mini-4k-instruct: 1}
`);
    expect(await runCli(["simulate", file], io)).toBe(0);
    const lines = io.out().trim().split("\n");
    expect(lines[0]).toMatch(/^scenario scenario: \d+ workspaces, seed 1$/);
    expect(lines[2]).toMatch(/^POLICY\s+TOTAL COST\s+\$\/REPLICA-H\s+GPU ALLOC/);
    expect(lines.slice(3).map((l) => l.split(/\s+/)[0])).toEqual(["milp", "ffd", "dedicated"]);
  });

  it("names the field of a bad scenario in one sentence", async () => {
    const io = captureIO(dir);
    const file = scenario(
      "duration: 1d\narrivals: {rate: -1}\nlifetime: {distribution: fixed, value: 1h}\nmodels: {phi-4: 1}\n",
    );
    expect(await runCli(["simulate", file], io)).not.toBe(0);
    expect(io.err()).toContain("arrivals.rate must be a positive number, got -1.");
    expect(io.err()).not.toContain("    at ");
  });

  it("rejects a missing file and a missing argument", async () => {
    const io = captureIO(dir);
    expect(await runCli(["simulate", "nope.yaml"], io)).not.toBe(0);
    expect(io.err()).toContain("cannot read nope.yaml: no such file.");
    const io2 = captureIO(dir);
    expect(await runCli(["simulate"], io2)).not.toBe(0);
    expect(io2.err()).toContain("simulate takes one scenario file, got 0");
  });
});
