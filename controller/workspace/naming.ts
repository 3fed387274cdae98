import { createHash } from "node:crypto";
import type { Workspace } from "../../crds/index.ts";

function shortHash(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

// Machine and NodeClaim names (`ws` + 9 hex, deterministic) live in ../nodeprovision/naming.ts.

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
