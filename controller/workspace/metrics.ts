import { Gauge, type Registry } from "prom-client";
import type { Workspace } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import type { Informer } from "../../kube/informer.ts";
import type { Clock } from "../../lib/clock.ts";

export const workspacePhases = [
  "Pending",
  "Provisioning",
  "Running",
  "Ready",
  "Succeeded",
  "Failed",
  "Deleting",
] as const;
export type WorkspacePhase = (typeof workspacePhases)[number];

/** Phases in which a workspace waits for something: what KaitoWorkspaceNotReady watches. */
export const notReadyPhases: ReadonlySet<WorkspacePhase> = new Set(["Pending", "Provisioning", "Failed"]);

/** One word for where a workspace stands, from its conditions: the label of kaito_workspaces. */
export function workspacePhase(ws: Workspace & KubeObject): WorkspacePhase {
  if (ws.metadata?.deletionTimestamp) return "Deleting";
  const c = (type: string) => ws.status?.conditions?.find((x) => x.type === type)?.status;
  if (c("WorkspaceSucceeded") === "True") return "Succeeded";
  if (c("WorkspaceReady") === "True") return "Ready";
  if (c("WorkspaceReady") === "False" || c("ResourceReady") === "False") return "Failed";
  // A tuning Job that runs for hours is doing its work, not waiting for nodes.
  if (c("JobStarted") === "True") return "Running";
  if (c("ResourceReady") === "True") return "Provisioning";
  return ws.status?.conditions?.length ? "Provisioning" : "Pending";
}

/**
 * Since when (ms) a workspace in a not-ready phase has been waiting: WorkspaceReady's last
 * transition away from True, or the creation time when the condition is not written yet.
 */
export function notReadySince(ws: Workspace & KubeObject): number | undefined {
  if (!notReadyPhases.has(workspacePhase(ws))) return undefined;
  const ready = ws.status?.conditions?.find((x) => x.type === "WorkspaceReady");
  const since = Date.parse(ready?.lastTransitionTime ?? ws.metadata?.creationTimestamp ?? "");
  return Number.isNaN(since) ? undefined : since;
}

/**
 * kaito_workspaces{phase}, kaito_plan_cost_per_hour and kaito_workspace_longest_not_ready_seconds,
 * read from the cache at scrape time.
 */
export function registerWorkspaceMetrics(
  registry: Registry,
  workspaces: Pick<Informer<Workspace & KubeObject>, "list">,
  clock: Clock,
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
  // One gauge instead of a series per workspace keeps the labels bounded; the alert only needs
  // to know that some workspace has waited too long, and kubectl says which.
  new Gauge({
    name: "kaito_workspace_longest_not_ready_seconds",
    help: "How long the workspace that has waited longest has been pending, provisioning or failed (0 when none is).",
    registers: [registry],
    collect() {
      const now = clock.now();
      let longest = 0;
      for (const ws of workspaces.list()) {
        const since = notReadySince(ws);
        if (since !== undefined) longest = Math.max(longest, (now - since) / 1000);
      }
      this.set(longest);
    },
  });
}
