import { Gauge, Histogram, type Registry } from "prom-client";
import type { Workspace } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import type { Informer } from "../../kube/informer.ts";
import type { CallOptions, Plan, PlannerClient, ProblemInput, Sku } from "../../planner/grpc/index.ts";
import type { Clock } from "../../lib/clock.ts";

export const workspacePhases = [
  "Pending",
  "Provisioning",
  "Ready",
  "Succeeded",
  "Failed",
  "Deleting",
] as const;
export type WorkspacePhase = (typeof workspacePhases)[number];

/** One word for where a workspace stands, from its conditions: the label of kaito_workspaces. */
export function workspacePhase(ws: Workspace & KubeObject): WorkspacePhase {
  if (ws.metadata?.deletionTimestamp) return "Deleting";
  const c = (type: string) => ws.status?.conditions?.find((x) => x.type === type)?.status;
  if (c("WorkspaceSucceeded") === "True") return "Succeeded";
  if (c("WorkspaceReady") === "True") return "Ready";
  if (c("WorkspaceReady") === "False" || c("ResourceReady") === "False") return "Failed";
  if (c("ResourceReady") === "True") return "Provisioning";
  return ws.status?.conditions?.length ? "Provisioning" : "Pending";
}

/** kaito_workspaces{phase} and kaito_plan_cost_per_hour, read from the cache at scrape time. */
export function registerWorkspaceMetrics(
  registry: Registry,
  workspaces: Informer<Workspace & KubeObject>,
): void {
  new Gauge({
    name: "kaito_workspaces",
    help: "Workspaces by phase.",
    labelNames: ["phase"],
    registers: [registry],
    collect() {
      const counts = new Map<WorkspacePhase, number>(workspacePhases.map((p) => [p, 0]));
      for (const ws of workspaces.list()) counts.set(workspacePhase(ws), counts.get(workspacePhase(ws))! + 1);
      for (const [phase, n] of counts) this.set({ phase }, n);
    },
  });
  new Gauge({
    name: "kaito_plan_cost_per_hour",
    help: "Hourly price in USD of the nodes the current plans create, summed over workspaces.",
    registers: [registry],
    collect() {
      this.set(workspaces.list().reduce((sum, ws) => sum + Number(ws.status?.costPerHour ?? 0), 0));
    },
  });
}

/** A PlannerClient that times every plan() into kaito_planner_solve_duration_seconds. */
export function instrumentPlanner(planner: PlannerClient, registry: Registry, clock: Clock): PlannerClient {
  const solve = new Histogram({
    name: "kaito_planner_solve_duration_seconds",
    help: "Time to answer a planning request, solver included.",
    labelNames: ["outcome"],
    // Large problems may run to the solver's time limit: buckets go past 10 s.
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  return {
    async plan(problem: ProblemInput, options?: CallOptions): Promise<Plan> {
      const started = clock.now();
      try {
        const plan = await planner.plan(problem, options);
        solve.observe({ outcome: "ok" }, (clock.now() - started) / 1000);
        return plan;
      } catch (e) {
        solve.observe({ outcome: "error" }, (clock.now() - started) / 1000);
        throw e;
      }
    },
    catalog: (): Promise<Sku[]> => planner.catalog(),
  };
}
