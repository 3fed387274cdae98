import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../lib/clock.ts";
import { silentLogger } from "../lib/log.ts";
import { unreachableKubeClient } from "../kube/testing.ts";
import type { Plan, PlannerClient } from "../planner/grpc/index.ts";
import { buildOperator, defaultAddresses, type OperatorComponent } from "./operator.ts";
import { instrumentPlanner } from "./planner-metrics.ts";

const solveSeconds = async (registry: Registry, outcome: string) => {
  const metric = (await registry.getMetricsAsJSON()).find(
    (m) => m.name === "kaito_planner_solve_duration_seconds",
  );
  const values = (metric?.values ?? []) as {
    metricName?: string;
    labels: Record<string, unknown>;
    value: number;
  }[];
  const pick = (suffix: string) =>
    values.find(
      (v) =>
        v.metricName === `kaito_planner_solve_duration_seconds_${suffix}` && v.labels.outcome === outcome,
    )?.value;
  return { count: pick("count"), sum: pick("sum") };
};

describe("instrumentPlanner", () => {
  it("times answers and failures apart, on the clock it is given", async () => {
    const clock = new FakeClock();
    const registry = new Registry();
    let fail = false;
    const slow: PlannerClient = {
      async plan() {
        clock.step(1500);
        if (fail) throw new Error("no solver");
        return { costPerHour: 1 } as Plan;
      },
      catalog: async () => [],
    };
    const timed = instrumentPlanner(slow, registry, clock);
    await timed.plan({ nodes: [], demands: [] });
    fail = true;
    await expect(timed.plan({ nodes: [], demands: [] })).rejects.toThrow("no solver");
    expect(await solveSeconds(registry, "ok")).toEqual({ count: 1, sum: 1.5 });
    expect(await solveSeconds(registry, "error")).toEqual({ count: 1, sum: 1.5 });
  });
});

describe("the operator's planner metric", () => {
  it.each<OperatorComponent[]>([["planner"], ["workspace"], ["planner", "workspace"]])(
    "exists once whichever components run: %j",
    async (...components) => {
      const client = unreachableKubeClient();
      try {
        const manager = buildOperator({
          client,
          components: new Set(components),
          addresses: defaultAddresses,
          log: silentLogger,
        });
        expect(await solveSeconds(manager.registry, "ok")).toEqual({ count: 0, sum: 0 });
      } finally {
        client.close();
      }
    },
  );
});
