import type { Workspace } from "../../../crds/index.ts";
import type { KubeObject } from "../../../kube/client.ts";
import { resources as api } from "../../../kube/resources.ts";
import type { Result } from "../../../kube/runtime/reconciler.ts";
import {
  setWorkspaceCondition,
  workspaceFinalizer,
  writeStatus,
  type WorkingWorkspace,
  type WorkspaceDependencies,
} from "./phase.ts";

type TerminationDependencies = Pick<
  WorkspaceDependencies,
  "client" | "provisioner" | "recorder" | "clock" | "batcher"
>;

/**
 * Deletion: the node objects go first (their finalizers remove nodes and instances), then our
 * finalizer. While objects remain, WorkspaceDeleting says so; each pass asks the provisioner
 * again, so a crash anywhere resumes. byo deletes nothing: the nodes are the user's.
 */
export class Termination {
  private readonly d: TerminationDependencies;

  constructor(deps: TerminationDependencies) {
    this.d = deps;
  }

  async reconcile(ws: Workspace & KubeObject): Promise<Result> {
    this.d.batcher?.forget(ws);
    if (!ws.metadata?.finalizers?.includes(workspaceFinalizer)) return {};
    const provisioner = this.d.provisioner;
    if (!(await provisioner.delete(ws))) {
      const before = structuredClone(ws.status ?? {}) as Record<string, unknown>;
      ws.status ??= {};
      setWorkspaceCondition(
        ws as WorkingWorkspace,
        this.d.clock,
        "WorkspaceDeleting",
        "True",
        "DeletingMachines",
        `Waiting for the workspace's ${provisioner.kind ?? "node object"}s to be deleted.`,
      );
      await writeStatus(this.d.client, ws, before);
      return {};
    }
    await this.d.client.patch(
      api.workspaces,
      ws.metadata.name!,
      ws.metadata.namespace,
      {
        metadata: {
          finalizers: ws.metadata.finalizers.filter((f) => f !== workspaceFinalizer),
          resourceVersion: ws.metadata.resourceVersion,
        },
      },
      "merge",
    );
    this.d.recorder.event(
      ws,
      "Normal",
      "Deleted",
      provisioner.kind
        ? `All ${provisioner.kind}s of the workspace are gone.`
        : "The workspace is gone; its nodes are the user's and stay.",
    );
    return {};
  }
}
