import { validateScenario, type Scenario } from "./scenario.ts";

/** A small, fast scenario for tests; `overrides` replace top-level fields of the YAML form. */
export function smallScenario(overrides: Record<string, unknown> = {}): Scenario {
  return validateScenario({
    name: "small",
    duration: "2d",
    seed: 11,
    arrivals: { rate: 4 },
    lifetime: { distribution: "exponential", mean: "6h" },
    models: { "phi-3-mini-4k-instruct": 3, "llama-3.1-8b-instruct": 2, "qwen2.5-coder-32b-instruct": 1 },
    replicas: { 1: 3, 2: 1 },
    labelGroups: [
      { name: "a", labels: { team: "a" } },
      { name: "b", labels: { team: "b" } },
    ],
    provisioning: {
      delay: { distribution: "uniform", min: "3m", max: "9m" },
      failureRate: 0.1,
      maxRetries: 1,
    },
    idleTimeout: "10m",
    sampleEvery: "5m",
    ...overrides,
  });
}
