import { workspaceLabel, type Workspace } from "../../crds/index.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import { isNotFound } from "../../kube/errors.ts";
import type { Resource } from "../../kube/resources.ts";

/**
 * An object the workspace's workload needs by name exists and is not the workspace's: the user
 * (or another tool) made it. The controller does not take it over (a forced server-side apply
 * would), reports this on WorkspaceReady and looks again later, since deleting or renaming the
 * object changes nothing the workspace's watches see.
 */
export class ForeignObjectError extends Error {
  override readonly name = "ForeignObjectError";
  readonly code = "WorkloadNameTaken";
  readonly kind: string;
  readonly objectName: string;

  constructor(kind: string, namespace: string, objectName: string, workspace: string) {
    super(
      `${kind} ${namespace}/${objectName} already exists and was not made by workspace ${workspace}; kaito-ts does not take over objects it did not create: delete or rename it.`,
    );
    this.kind = kind;
    this.objectName = objectName;
  }
}

export function isForeignObjectError(e: unknown): e is ForeignObjectError {
  return e instanceof ForeignObjectError || (e instanceof Error && e.name === "ForeignObjectError");
}

/** Whether `obj` is the workspace's: owned by it (its uid), or carrying its workspace label. */
export function belongsTo(obj: KubeObject, ws: Workspace): boolean {
  const uid = ws.metadata?.uid;
  if (uid && obj.metadata?.ownerReferences?.some((r) => r.uid === uid)) return true;
  return obj.metadata?.labels?.[workspaceLabel] === ws.metadata?.name;
}

/**
 * Throws ForeignObjectError when an object of that name exists and is not the workspace's. Asked
 * only when the scoped cache (which holds labelled objects alone) has no copy: a first apply, or
 * a cache that has not seen the object yet; either way one GET.
 */
export async function assertNotForeign(
  client: KubeClient,
  resource: Resource,
  ws: Workspace,
  name: string,
): Promise<void> {
  let existing: KubeObject;
  try {
    existing = await client.get<KubeObject>(resource, name, ws.metadata!.namespace);
  } catch (e) {
    if (isNotFound(e)) return;
    throw e;
  }
  if (!belongsTo(existing, ws))
    throw new ForeignObjectError(resource.kind, ws.metadata!.namespace!, name, ws.metadata!.name!);
}
