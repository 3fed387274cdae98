import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { Workspace, WorkspaceCondition } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import { FakeClock } from "../../lib/clock.ts";
import { registerWorkspaceMetrics, workspacePhase } from "./metrics.ts";

type Ws = Workspace & KubeObject;
const t0 = Date.UTC(2026, 0, 1);
const at = (ms: number) => new Date(ms).toISOString();

function ws(conditions: [string, string, number?][], extra: Partial<Ws["metadata"]> = {}): Ws {
  return {
    metadata: { name: "w", namespace: "ns", creationTimestamp: at(t0), ...extra },
    resource: { labelSelector: { matchLabels: { a: "b" } } },
    status: {
      conditions: conditions.map(
        ([type, status, since]) =>
          ({
            type,
            status,
            reason: "R",
            message: "",
            lastTransitionTime: at(since ?? t0),
          }) as WorkspaceCondition,
      ),
    },
  } as Ws;
}

describe("workspace phases", () => {
  it.each([
    [[], "Pending"],
    [[["ResourceReady", "Unknown"]], "Provisioning"],
    [
      [
        ["ResourceReady", "True"],
        ["WorkspaceReady", "Unknown"],
      ],
      "Provisioning",
    ],
    [
      [
        ["ResourceReady", "True"],
        ["WorkspaceReady", "True"],
      ],
      "Ready",
    ],
    [
      [
        ["ResourceReady", "False"],
        ["WorkspaceReady", "False"],
      ],
      "Failed",
    ],
    // A long tuning run must not look like a workspace stuck waiting for nodes.
    [
      [
        ["ResourceReady", "True"],
        ["JobStarted", "True"],
        ["WorkspaceReady", "Unknown"],
      ],
      "Running",
    ],
    [
      [
        ["WorkspaceSucceeded", "True"],
        ["WorkspaceReady", "True"],
      ],
      "Succeeded",
    ],
  ] as [[string, string][], string][])("%j is %s", (conditions, phase) => {
    expect(workspacePhase(ws(conditions))).toBe(phase);
  });

  it("puts a deleting workspace in Deleting whatever its conditions", () => {
    expect(workspacePhase(ws([["WorkspaceReady", "True"]], { deletionTimestamp: at(t0) }))).toBe("Deleting");
  });
});

describe("workspace gauges", () => {
  async function scrape(list: Ws[], clock: FakeClock) {
    const registry = new Registry();
    registerWorkspaceMetrics(registry, { list: () => list }, clock);
    const values = async (name: string) => (await registry.getSingleMetric(name)!.get()).values;
    return {
      phases: Object.fromEntries((await values("kaito_workspaces")).map((v) => [v.labels.phase, v.value])),
      longest: (await values("kaito_workspace_longest_not_ready_seconds"))[0]?.value,
      cost: (await values("kaito_plan_cost_per_hour"))[0]?.value,
    };
  }

  it("count every phase, zeros included, and sum the plans' hourly cost", async () => {
    const ready = ws([["WorkspaceReady", "True"]]);
    ready.status!.costPerHour = "3.06";
    const pending = ws([]);
    pending.status!.costPerHour = "0.9";
    const m = await scrape([ready, pending], new FakeClock(t0));
    expect(m.phases).toMatchObject({ Ready: 1, Pending: 1, Provisioning: 0, Failed: 0, Running: 0 });
    expect(m.cost).toBeCloseTo(3.96);
  });

  it("report how long the longest-waiting workspace has not been ready, from its last transition", async () => {
    const clock = new FakeClock(t0 + 30 * 60_000);
    const created = ws([], { creationTimestamp: at(t0 + 20 * 60_000) });
    // Ready until minute 5: it has waited 25 minutes since, not 30.
    const lostReady = ws([["WorkspaceReady", "Unknown", t0 + 5 * 60_000]]);
    const ready = ws([["WorkspaceReady", "True"]]);
    const tuning = ws([
      ["JobStarted", "True"],
      ["WorkspaceReady", "Unknown"],
    ]);
    expect((await scrape([created, ready, tuning], clock)).longest).toBe(600);
    expect((await scrape([created, lostReady, ready], clock)).longest).toBe(1500);
    expect((await scrape([ready, tuning], clock)).longest).toBe(0);
  });
});
