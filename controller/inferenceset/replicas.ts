/**
 * The Workspaces an InferenceSet owns: their deterministic names, their manifests, and which of
 * them are current. Pure; the reconciler (controller.ts) reads and writes the API.
 *
 * As in KAITO (pkg/inferenceset/inferenceset_controller.go), each replica is a Workspace with
 * the template's labels and annotations plus inferenceset.kaito.sh/created-by=<set>, the set's
 * labelSelector as its resource.labelSelector, the template's instanceType (and partition) and
 * inference, and a controller ownerReference to the set. Unlike KAITO, whose names end in a
 * random suffix and whose selector gets a per-Workspace label so replicas never share a node,
 * names here are "<set>-<index>" (the lowest free index first) and siblings keep the set's labels,
 * so the planner may put them on the same nodes.
 */
import { createHash } from "node:crypto";
import {
  inferenceSetApiVersion,
  inferenceSetCreatedByLabel,
  inferenceSetKind,
  workspaceApiVersion,
  workspaceKind,
  type InferenceSet,
  type Workspace,
} from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";

/** On each replica: a hash of the template it was made from; another hash means outdated. */
export const templateHashAnnotation = "inferenceset.kaito.sh/template-hash";

export type Replica = Workspace & KubeObject;

/** The name of the replica with `index`: "<set>-<index>". */
export function replicaName(set: InferenceSet, index: number): string {
  return `${set.metadata!.name}-${index}`;
}

/** The index in a replica's name, or undefined when the name is not "<set>-<index>". */
export function replicaIndex(set: InferenceSet, name: string): number | undefined {
  const prefix = `${set.metadata!.name}-`;
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : undefined;
}

/** `count` indices for new replicas: the lowest ones no existing replica (or other object) has. */
export function freeIndices(taken: Iterable<number>, count: number): number[] {
  const used = new Set(taken);
  const out: number[] = [];
  for (let i = 0; out.length < count; i++) if (!used.has(i)) out.push(i);
  return out;
}

/** A hash of what a replica is made of; a change to the template changes it. */
export function templateHash(set: InferenceSet): string {
  const t = set.spec.template;
  const material = JSON.stringify({
    labelSelector: set.spec.labelSelector,
    resource: t.resource ?? {},
    inference: t.inference,
    metadata: t.metadata ?? {},
  });
  return createHash("sha256").update(material).digest("hex").slice(0, 16);
}

/** The Workspace for replica `index` of the set. */
export function replicaManifest(set: InferenceSet, index: number): Replica {
  const m = set.metadata!;
  const template = set.spec.template;
  return {
    apiVersion: workspaceApiVersion,
    kind: workspaceKind,
    metadata: {
      name: replicaName(set, index),
      namespace: m.namespace,
      labels: { ...template.metadata?.labels, [inferenceSetCreatedByLabel]: m.name! },
      annotations: { ...template.metadata?.annotations, [templateHashAnnotation]: templateHash(set) },
      ownerReferences: [
        {
          apiVersion: inferenceSetApiVersion,
          kind: inferenceSetKind,
          name: m.name!,
          uid: m.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    resource: {
      ...(template.resource?.instanceType ? { instanceType: template.resource.instanceType } : {}),
      ...(template.resource?.partition ? { partition: template.resource.partition } : {}),
      labelSelector: structuredClone(set.spec.labelSelector),
    },
    inference: structuredClone(template.inference),
  };
}

/** The replicas the set controls (by ownerReference uid), from all Workspaces of its namespace. */
export function replicasOf(set: InferenceSet, workspaces: readonly Replica[]): Replica[] {
  const uid = set.metadata!.uid;
  return workspaces.filter(
    (w) =>
      w.metadata?.namespace === set.metadata!.namespace &&
      w.metadata?.ownerReferences?.some((r) => r.kind === inferenceSetKind && r.controller && r.uid === uid),
  );
}

export function isReady(w: Workspace): boolean {
  return w.status?.conditions?.some((c) => c.type === "WorkspaceReady" && c.status === "True") ?? false;
}

export function isCurrent(set: InferenceSet, w: Workspace): boolean {
  return w.metadata?.annotations?.[templateHashAnnotation] === templateHash(set);
}
