import { createHash } from "node:crypto";
import type { Workspace } from "../../crds/index.ts";

function shortHash(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * A Machine's name, and so its node's: the same for the same workspace, SKU and index on every
 * reconcile and after any restart, so a crash between "create" and "record" can never produce a
 * second Machine. The uid keeps a recreated workspace of the same name from adopting Machines its
 * predecessor is still deleting; the SKU part lets a replan to another SKU create its Machines
 * while the old ones drain. At most 63 characters, a DNS label like every node name.
 */
export function machineName(ws: Workspace, sku: string, index: number): string {
  const m = ws.metadata!;
  const owner = shortHash(`${m.namespace}/${m.name}/${m.uid ?? ""}`, 6);
  const prefix = (m.name ?? "ws").slice(0, 40).replace(/-+$/, "");
  return `${prefix}-${owner}-${shortHash(sku.toLowerCase(), 4)}-${index}`;
}

/**
 * The Deployment, Job and Service of a workspace share its name, as in KAITO. A replica spanning
 * nodes runs as two StatefulSets (workloads.ts says why), named after their role.
 */
export function workloadName(ws: Workspace): string {
  return ws.metadata!.name!;
}

/**
 * `<workspace>-<suffix>`, shortened with a hash of the full name when it would pass `max`: a
 * Workspace name may take all 63 characters of a DNS label, its derived objects may not.
 */
function derivedName(ws: Workspace, suffix: string, max: number): string {
  const full = `${workloadName(ws)}-${suffix}`;
  if (full.length <= max) return full;
  const keep = workloadName(ws)
    .slice(0, max - suffix.length - 8)
    .replace(/-+$/, "");
  return `${keep}-${shortHash(full, 6)}-${suffix}`;
}

/** A Service name is a DNS label. */
export function headlessServiceName(ws: Workspace): string {
  return derivedName(ws, "headless", 63);
}

// A StatefulSet stamps its pods with controller-revision-hash = "<name>-<10 characters>", a label
// value of at most 63 characters: its name may have 52.
const statefulSetNameMax = 52;

export function leaderStatefulSetName(ws: Workspace): string {
  return derivedName(ws, "leader", statefulSetNameMax);
}

export function workerStatefulSetName(ws: Workspace): string {
  return derivedName(ws, "worker", statefulSetNameMax);
}
