import { describe, expect, it } from "vitest";
import type { Workspace, WorkspaceConditionType } from "../../crds/index.ts";
import { workspaceState } from "./state.ts";

function ws(
  kind: "inference" | "tuning",
  conditions: Partial<Record<WorkspaceConditionType, string>>,
): Workspace {
  return {
    resource: { labelSelector: { matchLabels: { a: "b" } } },
    ...(kind === "inference" ? { inference: { preset: { name: "phi-2" } } } : { tuning: { method: "lora" } }),
    status: {
      conditions: Object.entries(conditions).map(([type, status]) => ({
        type: type as WorkspaceConditionType,
        status: status as "True",
        reason: "R",
        message: "m",
        lastTransitionTime: "2026-01-01T00:00:00Z",
      })),
    },
  };
}

describe("status.state", () => {
  it.each([
    ["inference", {}, "Pending"],
    ["inference", { ResourceReady: "Unknown" }, "Pending"],
    ["inference", { ResourceReady: "True", WorkspaceReady: "Unknown" }, "NotReady"],
    ["inference", { ResourceReady: "False", WorkspaceReady: "False" }, "NotReady"],
    ["inference", { ResourceReady: "True", WorkspaceReady: "True" }, "Ready"],
    ["tuning", { JobStarted: "Unknown" }, "Pending"],
    ["tuning", { JobStarted: "True", WorkspaceSucceeded: "Unknown" }, "Running"],
    ["tuning", { JobStarted: "True", WorkspaceSucceeded: "True" }, "Succeeded"],
    ["tuning", { JobStarted: "True", WorkspaceSucceeded: "False" }, "Failed"],
  ] as const)("%s with %j is %s", (kind, conditions, state) => {
    expect(workspaceState(ws(kind, conditions))).toBe(state);
  });
});
