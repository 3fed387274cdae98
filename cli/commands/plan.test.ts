import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path, { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { llama32_1b, qwen3_8b } from "../../test/huggingface-standin/fixtures.ts";
import { startHuggingFaceStandin, type HuggingFaceStandin } from "../../test/huggingface-standin/server.ts";
import { runCli } from "../main.ts";
import { checkPlan, parseProblem, type Plan } from "../../planner/packing/index.ts";
import { toCatalogEntries } from "../../planner/catalog/index.ts";
import { captureIO, type CapturedIO } from "../test-io.ts";

const dir = mkdtempSync(join(tmpdir(), "kaito-plan-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function io(): CapturedIO {
  return captureIO(dir);
}

const problemText = `
quota: {standardNCADSA100v4Family: 48}
nodes:
  - {name: old-1, sku: Standard_NC64as_T4_v3, labels: {team: a}, freeGpus: 3}
demands:
  - {name: llama, replicas: 3, totalGpuMemoryGiB: 21, labels: {team: a}}
  - {name: phi, replicas: 5, totalGpuMemoryGiB: 8}
  - {name: big, replicas: 2, totalGpuMemoryGiB: 150, maxNodesPerReplica: 2, skus: [Standard_NC24ads_A100_v4]}
  - {name: huge, replicas: 2, totalGpuMemoryGiB: 1500}
`;

describe("kaito plan --problem", () => {
  it("prints the plan as JSON in DESIGN.md's format, against the embedded catalogue", async () => {
    const t = io();
    expect(await runCli(["plan", "--problem", file("p.yaml", problemText), "-o", "json"], t)).toBe(0);
    const plan = JSON.parse(t.out()) as Plan;
    expect(Object.keys(plan)).toEqual(
      expect.arrayContaining(["costPerHour", "newNodes", "placements", "unplaced", "lowerBound", "solveMs"]),
    );
    const problem = parseProblem(problemText, { defaultCatalog: toCatalogEntries() });
    expect(checkPlan(problem, plan)).toEqual([]);
    expect(plan.unplaced.map((u) => u.demand)).toEqual(["big", "huge", "huge"]);
    expect(plan.status).toBe("optimal");
  });

  it("prints a readable summary table", async () => {
    const t = io();
    expect(await runCli(["plan", "--problem", file("p.yaml", problemText)], t)).toBe(0);
    const out = t.out();
    expect(out).toMatch(
      /^Plan: \$13\.802\/hour for 7 new nodes \(optimal; lower bound \$13\.802\/hour, gap 0\.000%; solved in \d+ ms\)/,
    );
    expect(out).toMatch(/NEW NODES\s+SKU\s+\$\/HOUR EACH\s+\$\/HOUR/);
    expect(out).toMatch(/\s2\s+Standard_NC24ads_A100_v4\s+3\.673\s+7\.346/);
    expect(out).toContain("Placed: 9 replicas in 10 placements, 1 existing node used");
    expect(out).toMatch(/huge\s+0-1\s+each replica needs 2 nodes of/);
  });

  it("says what is wrong with a bad file in one sentence and exits 1", async () => {
    const t = io();
    const bad = file("bad.yaml", "demands: [{name: a, replicas: -1, totalGpuMemoryGiB: 8}]");
    expect(await runCli(["plan", "--problem", bad], t)).toBe(1);
    expect(t.err()).toBe("kaito plan: demands[0].replicas must be a positive integer, got -1.\n");
    expect(t.out()).toBe("");
  });

  it.each([
    [["plan"], "give either --problem FILE or -f WORKSPACE.yaml"],
    [["plan", "--problem", "missing.yaml"], "cannot read missing.yaml: no such file."],
    [["plan", "--problem", "x.yaml", "-o", "yaml"], '-o must be table or json, got "yaml"'],
    [
      ["plan", "--problem", "x.yaml", "--time-limit", "soon"],
      '--time-limit must be a number from 1 to Infinity, got "soon".',
    ],
  ])("rejects %j", async (args, message) => {
    const t = io();
    expect(await runCli(args, t)).toBe(1);
    expect(t.err()).toContain(message);
    expect(t.err().trim().split("\n")).toHaveLength(1);
  });
});

describe("kaito plan -f", () => {
  const workspace = (name: string, body: string) => `apiVersion: kaito.sh/v1alpha1
kind: Workspace
metadata:
  name: ${name}
${body}`;

  it("plans Workspace manifests sized by their presets", async () => {
    const manifests = file(
      "ws.yaml",
      [
        workspace(
          "phi",
          "resource:\n  count: 2\n  labelSelector:\n    matchLabels: {app: phi}\ninference:\n  preset:\n    name: phi-3-mini-4k-instruct\n",
        ),
        workspace(
          "pinned",
          "resource:\n  instanceType: Standard_NC24ads_A100_v4\n  labelSelector:\n    matchLabels: {app: pinned}\ninference:\n  preset:\n    name: phi-3-mini-4k-instruct\n",
        ),
      ].join("---\n"),
    );
    const t = io();
    expect(await runCli(["plan", "-f", manifests, "-o", "json"], t)).toBe(0);
    const plan = JSON.parse(t.out()) as Plan;
    expect(plan.unplaced).toEqual([]);
    expect(plan.placements.map((p) => p.demand)).toEqual(["default/phi", "default/phi", "default/pinned"]);
    const pinned = plan.placements.find((p) => p.demand === "default/pinned")!;
    expect(plan.newNodes.find((n) => n.name === pinned.node)!.sku).toBe("Standard_NC24ads_A100_v4");
    expect(plan.newNodes.find((n) => n.name === pinned.node)!.labels).toEqual({ app: "pinned" });
  });

  it("plans the KAITO docs' examples, which name a retired size, and says so", async () => {
    // As in ../shared/examples/kaito_workspace_phi_3.yaml.
    const example = file(
      "phi3.yaml",
      workspace(
        "workspace-phi-3-mini",
        'resource:\n  instanceType: "Standard_NC6s_v3"\n  labelSelector:\n    matchLabels:\n      apps: phi-3\ninference:\n  preset:\n    name: phi-3-mini-4k-instruct\n',
      ),
    );
    const t = io();
    expect(await runCli(["plan", "-f", example, "--region", "westeurope"], t)).toBe(0);
    expect(t.err()).toContain("Standard_NC6s_v3, which Azure has retired; planning with it anyway.");
    expect(t.err()).toContain("prices are the embedded snapshot's for eastus, not westeurope.");
    expect(t.out()).toMatch(/1\s+Standard_NC6s_v3\s+3\.060/);
  });

  it("rejects what is not a Workspace", async () => {
    const t = io();
    const other = file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
    expect(await runCli(["plan", "-f", other], t)).toBe(1);
    expect(t.err()).toBe(
      `kaito plan: ${other} document 1 is a ConfigMap, not a kaito.sh/v1alpha1 or kaito.sh/v1beta1 Workspace or InferenceSet.\n`,
    );
  });
});

describe("kaito plan -f with KAITO v0.12's manifests", () => {
  let standin: HuggingFaceStandin;
  beforeAll(async () => {
    standin = await startHuggingFaceStandin();
  });
  afterAll(async () => {
    await standin?.close();
  });

  it("plans the v1beta1 examples, the InferenceSet as its replicas", async () => {
    const dir = path.resolve(import.meta.dirname, "../../../shared/examples/v1beta1");
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".yaml"))
      .flatMap((f) => ["-f", path.join(dir, f)]);
    const t = io();
    expect(await runCli(["plan", ...files, "-o", "json"], t)).toBe(0);
    const plan = JSON.parse(t.out()) as Plan;
    expect(plan.unplaced).toEqual([]);
    const set = plan.placements.filter((p) => p.demand === "default/mistral-7b");
    expect(set.map((p) => p.replica).sort()).toEqual([0, 1]);
    for (const p of set)
      expect(plan.newNodes.find((n) => n.name === p.node)!.sku).toBe("Standard_NC24ads_A100_v4");
  });

  it("sizes a Hugging Face model id from its config.json through the Hub", async () => {
    const manifest = file(
      "hf.yaml",
      `apiVersion: kaito.sh/v1beta1
kind: Workspace
metadata: {name: qwen}
resource:
  labelSelector: {matchLabels: {apps: qwen}}
inference:
  preset: {name: ${qwen3_8b.id}}
`,
    );
    const t = io();
    expect(await runCli(["plan", "-f", manifest, "--hf-endpoint", standin.url, "-o", "json"], t)).toBe(0);
    const plan = JSON.parse(t.out()) as Plan;
    expect(plan.unplaced).toEqual([]);
    expect(new Set(plan.placements.map((p) => `${p.demand}#${p.replica}`))).toEqual(
      new Set(["default/qwen#0"]),
    );
    const gated = file("gated.yaml", manifestFor(llama32_1b.id));
    const refused = io();
    expect(await runCli(["plan", "-f", gated, "--hf-endpoint", standin.url], refused)).toBe(1);
    expect(refused.err()).toContain("is gated on Hugging Face");
  });
});

function manifestFor(model: string): string {
  return `apiVersion: kaito.sh/v1beta1
kind: Workspace
metadata: {name: gated}
resource:
  labelSelector: {matchLabels: {apps: gated}}
inference:
  preset: {name: ${model}}
`;
}
