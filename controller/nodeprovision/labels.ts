import { workspaceLabel, workspaceNamespaceLabel, type Workspace } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";

/** GPU nodes repel pods that do not ask for them; inference and tuning pods tolerate it (as KAITO). */
export const gpuTaint = { key: "sku", value: "gpu", effect: "NoSchedule" } as const;

/**
 * The labels a workspace's nodes must carry: its labelSelector's matchLabels and single-value
 * `In` expressions (the CRD allows no other kind, because the operator puts them on nodes).
 */
export function nodeLabelsFor(ws: Workspace): Record<string, string> {
  const selector = ws.resource.labelSelector ?? {};
  const labels: Record<string, string> = { ...(selector.matchLabels ?? {}) };
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === "In" && e.values?.length === 1) labels[e.key] = e.values[0]!;
  }
  return labels;
}

/** The two labels that tie a cluster-scoped Machine or NodeClaim (and its Node) to its workspace. */
export function ownerLabels(ws: Workspace): Record<string, string> {
  return { [workspaceLabel]: ws.metadata!.name!, [workspaceNamespaceLabel]: ws.metadata!.namespace! };
}

/** Whether a cluster-scoped object carries the workspace's owner labels. */
export function isOwnedBy(obj: KubeObject, ws: Workspace): boolean {
  const labels = obj.metadata?.labels ?? {};
  return (
    labels[workspaceLabel] === ws.metadata!.name && labels[workspaceNamespaceLabel] === ws.metadata!.namespace
  );
}

/** `namespace/name` of the workspace an object's labels name, for the controller's watch. */
export function workspaceKeyOf(obj: KubeObject): string[] {
  const labels = obj.metadata?.labels ?? {};
  const name = labels[workspaceLabel];
  const namespace = labels[workspaceNamespaceLabel];
  return name && namespace ? [`${namespace}/${name}`] : [];
}

/** Every object of any workspace carries this label, so informers list only kaito's own. */
export const ownedSelector = workspaceLabel;
