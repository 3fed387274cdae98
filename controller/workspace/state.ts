import type { Workspace, WorkspaceConditionType, WorkspaceState } from "../../crds/index.ts";
import { findCondition } from "../../kube/conditions.ts";

/**
 * KAITO v1beta1's status.state, a one-word summary of the conditions: Pending until the nodes and
 * workload are there; then Ready or NotReady for inference, Running, Succeeded or Failed for tuning
 * (api/v1beta1/workspace_types.go, WorkspaceState).
 */
export function workspaceState(ws: Workspace): WorkspaceState {
  const conditions = ws.status?.conditions;
  const status = (type: WorkspaceConditionType) => findCondition(conditions, type)?.status;
  if (ws.tuning) {
    if (status("WorkspaceSucceeded") === "True") return "Succeeded";
    if (status("WorkspaceSucceeded") === "False" || status("WorkspaceReady") === "False") return "Failed";
    return status("JobStarted") === "True" ? "Running" : "Pending";
  }
  if (status("WorkspaceReady") === "True") return "Ready";
  if (status("WorkspaceReady") === "False" || status("ResourceReady") === "False") return "NotReady";
  return status("ResourceReady") === "True" ? "NotReady" : "Pending";
}
