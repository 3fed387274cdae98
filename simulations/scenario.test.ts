import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isUserError } from "../lib/errors.ts";
import { parseScenario } from "./scenario.ts";
import { smallScenario } from "./testing.ts";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(isUserError(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error("expected a UserError");
}

describe("parseScenario", () => {
  it.each(["steady", "bursty", "quota"])("accepts the shipped %s scenario", (name) => {
    const text = readFileSync(join(import.meta.dirname, "scenarios", `${name}.yaml`), "utf8");
    const s = parseScenario(text, `${name}.yaml`);
    expect(s.name).toBe(name);
    expect(s.models.length).toBeGreaterThan(0);
  });

  it("reads durations with units, compound ones too, and fills defaults", () => {
    const s = smallScenario({ duration: "1d12h", idleTimeout: undefined });
    expect(s.duration).toBe(36 * 3_600_000);
    expect(s.idleTimeout).toBe(0);
    expect(s.catalog.length).toBeGreaterThan(10);
    expect(s.models[0]!.totalGpuMemoryGiB).toBeGreaterThan(0);
  });

  it("takes a model's weight alone or with the instance type KAITO users name", () => {
    const s = smallScenario({
      models: { "phi-4": { weight: 2, instanceType: "standard_nc24ads_a100_v4" }, "phi-2": 1 },
    });
    expect(s.models.map((m) => [m.preset, m.weight, m.instanceType])).toEqual([
      ["phi-4", 2, "Standard_NC24ads_A100_v4"],
      ["phi-2", 1, undefined],
    ]);
  });

  it("restricts the catalogue and overrides prices", () => {
    const s = smallScenario({
      catalog: {
        skus: ["Standard_NC4as_T4_v3", "standard_nc24ads_a100_v4"],
        prices: { Standard_NC4as_T4_v3: 0.3 },
      },
    });
    expect(s.catalog.map((c) => [c.name, c.pricePerHour])).toEqual([
      ["Standard_NC4as_T4_v3", 0.3],
      ["Standard_NC24ads_A100_v4", 3.673],
    ]);
  });

  it.each([
    [{ arrivals: { rate: -1 } }, "arrivals.rate must be a positive number, got -1."],
    [{ arrivals: { rate: 1, count: 5 } }, "arrivals takes either rate (per hour) or count, not both."],
    [{ arrivals: {} }, "arrivals needs a rate (per hour), a count or bursts."],
    [
      { duration: "soon" },
      'duration must be a positive duration such as "90s", "15m", "2h" or "30d", got "soon".',
    ],
    [{ models: { "gpt-9": 1 } }, "models.gpt-9 is not a preset"],
    [{ models: { "phi-4": 0 } }, "models.phi-4 must be a positive number, got 0."],
    [{ replicas: { two: 1 } }, "replicas.two must be keyed by a positive whole replica count"],
    [
      { lifetime: { distribution: "pareto" } },
      "lifetime.distribution must be one of fixed, uniform, exponential, lognormal",
    ],
    [
      { lifetime: { distribution: "uniform", min: "2h", max: "1h" } },
      "lifetime.max must not be below lifetime.min",
    ],
    [{ quota: { nope: 10 } }, 'quota.nope must name a vCPU family of the catalogue, got "nope".'],
    [
      { catalog: { skus: ["Standard_Nope"] } },
      'catalog.skus[0] must name a SKU of the embedded catalogue, got "Standard_Nope".',
    ],
    [{ provisioning: { failureRate: 1.5 } }, "provisioning.failureRate must be below 1, got 1.5."],
    [{ labelGroups: [{ labels: {} }] }, "labelGroups[0].name must be a non-empty string"],
    [
      { arrivals: { bursts: [{ at: "9d", count: 3 }] } },
      "arrivals.bursts[0].at must fall before the end of the scenario",
    ],
    [{ sampleEvry: "1h" }, "sampleEvry is not a scenario field"],
    [
      { models: { "phi-4": { weight: 1, instanceType: "Standard_Nope" } } },
      'models.phi-4.instanceType must name a SKU of the scenario\'s catalogue, got "Standard_Nope".',
    ],
    [
      { models: { "llama-3.3-70b-instruct": { weight: 1, instanceType: "Standard_NC4as_T4_v3" } } },
      "models.llama-3.3-70b-instruct.instanceType must be a size that can hold llama-3.3-70b-instruct",
    ],
    [{ models: { "phi-4": { weight: 1, size: "big" } } }, "models.phi-4.size is not a scenario field"],
    [
      { models: { "phi-4": { instanceType: "Standard_NC24ads_A100_v4" } } },
      "models.phi-4.weight must be a positive number",
    ],
  ])("rejects %j with a sentence naming the field", (overrides, message) => {
    expect(errorOf(() => smallScenario(overrides))).toContain(message);
  });

  it("says when the file is not YAML or not a mapping", () => {
    expect(errorOf(() => parseScenario("a: [", "x.yaml"))).toMatch(/^x\.yaml is not valid YAML: /);
    expect(errorOf(() => parseScenario("- 1", "x.yaml"))).toBe(
      "x.yaml must be a YAML mapping of scenario fields.",
    );
  });
});
