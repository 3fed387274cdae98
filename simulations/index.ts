import { seededRandom } from "../lib/random.ts";
import { simulatePolicy, type PolicyResult, type Sample } from "./engine.ts";
import { policy, POLICY_NAMES, type PolicyName } from "./policies.ts";
import type { Scenario } from "./scenario.ts";
import { generateArrivals } from "./workload.ts";

export { parseScenario, validateScenario, type Scenario, type Distribution } from "./scenario.ts";
export { ALL_POLICY_NAMES, POLICY_NAMES, policy, type Policy, type PolicyName } from "./policies.ts";
export type { PolicyResult, Sample } from "./engine.ts";
export { EventClock } from "./event-clock.ts";
export { generateArrivals, type Arrival } from "./workload.ts";
export { renderReport } from "./report/html.ts";
export { formatDuration, parseDuration } from "./duration.ts";

export interface SimulationResult {
  scenario: Scenario;
  arrivals: number;
  results: PolicyResult[];
}

export interface RunOptions {
  policies?: readonly PolicyName[];
  /** Progress across all policies, 0..1. */
  onProgress?: (fraction: number) => void;
}

/**
 * Runs the scenario through each policy. The workload is drawn once from the seed, and each
 * policy gets its own generator for provisioning delays and failures, seeded the same way.
 */
export async function runSimulation(scenario: Scenario, options: RunOptions = {}): Promise<SimulationResult> {
  const names = options.policies ?? POLICY_NAMES;
  const arrivals = generateArrivals(scenario, seededRandom(scenario.seed));
  const results: PolicyResult[] = [];
  for (const [i, name] of names.entries()) {
    const onArrival = options.onProgress
      ? (done: number) => options.onProgress!((i + done / Math.max(1, arrivals.length)) / names.length)
      : undefined;
    results.push(
      await simulatePolicy(scenario, arrivals, policy(name), scenario.seed ^ 0x5eed, {
        ...(onArrival ? { onArrival } : {}),
      }),
    );
  }
  return { scenario, arrivals: arrivals.length, results };
}

export type { Sample as SimulationSample };
