import type { Workspace } from "../../crds/index.ts";
import { objectKey } from "../../kube/informer.ts";
import { parseQuantity } from "../../kube/quantity.ts";
import { findSku, normalizeFamily } from "../../planner/catalog/index.ts";
import type { OfferingSnapshot } from "../../provisioner/index.ts";
import type { NodeLaunch } from "../nodeprovision/index.ts";

/** What a plan may launch: the sizes on offer and the vCPUs each family may still take. */
export interface LaunchLimits {
  /** For messages: the region the reading is for. */
  region?: string;
  /** Lower-case names of the sizes offered. */
  offered: ReadonlySet<string>;
  /** The quota family of each offered size, as the cloud spells it, by lower-case name. */
  familyOf: ReadonlyMap<string, string>;
  /** vCPUs new nodes may use, by normalizeFamily(family); a family absent has no known limit. */
  quota: ReadonlyMap<string, number>;
  /** vCPUs of one node of each offered size, by lower-case name, where the cloud says. */
  vcpus: ReadonlyMap<string, number>;
}

// Condition times have whole seconds: a launch stamped t happened before t + 1 s.
const stampResolutionMs = 1_000;

/**
 * The limits for planning `ws` from one reading of the cloud.
 *
 * The reading's quota is an instant figure, and the cloud counts an instance only once it exists.
 * So, per family:
 * - Launches (Machines or NodeClaims) of other workspaces that are still launching, or launched after the reading began,
 *   are not in it yet: their vCPUs come off the headroom, or two workspaces planned a few seconds
 *   apart would both spend the same vCPUs.
 * - This workspace's own Machines that the reading counts go back on: a plan covers the whole
 *   workspace, and one that keeps them launches nothing for them (one that moves them deletes
 *   them, and their vCPUs come free once they are gone).
 * - A Machine whose launch failed holds nothing; a Machine being deleted is left as the reading
 *   has it.
 * What remains is a race no reading can close: workspaces planned at the same moment, instances
 * created outside kaito, and the regional vCPU cap that every family shares (the planner sees it
 * only as a cap on each family). A launch that then fails for quota is replanned without that size,
 * as it was before quota was read at all.
 */
export function launchLimits(
  reading: OfferingSnapshot,
  ws: Workspace,
  launches: readonly NodeLaunch[],
): LaunchLimits {
  const offered = new Set<string>();
  const familyOf = new Map<string, string>();
  const vcpusOf = new Map<string, number>();
  for (const t of reading.instanceTypes) {
    const name = t.name.toLowerCase();
    offered.add(name);
    familyOf.set(name, t.family);
    const cpu = parseQuantity(t.capacity.cpu);
    if (cpu !== undefined) vcpusOf.set(name, cpu);
  }

  const quota = new Map<string, number>();
  for (const [family, headroom] of Object.entries(reading.quota))
    quota.set(normalizeFamily(family), headroom);

  const key = objectKey(ws);
  for (const m of launches) {
    if (m.deleting) continue;
    const size = m.instanceType;
    if (!size) continue;
    const sku = findSku(size);
    const familyName = familyOf.get(size.toLowerCase()) ?? sku?.family;
    if (!familyName) continue;
    const family = normalizeFamily(familyName);
    const headroom = quota.get(family);
    if (headroom === undefined) continue;
    const vcpus = vcpusOf.get(size.toLowerCase()) ?? sku?.vcpus ?? 0;
    if (m.launched === "False") continue;
    const own = m.workspace === key;
    const counted =
      m.launched === "True" &&
      m.launchedAt !== undefined &&
      Date.parse(m.launchedAt) + stampResolutionMs <= reading.readAt;
    if (own && counted) quota.set(family, headroom + vcpus);
    else if (!own && !counted) quota.set(family, headroom - vcpus);
  }
  for (const [family, headroom] of quota) quota.set(family, Math.max(0, Math.floor(headroom)));

  return {
    ...(reading.region !== undefined ? { region: reading.region } : {}),
    offered,
    familyOf,
    quota,
    vcpus: vcpusOf,
  };
}

/** Whether the size is on offer; true when nothing is known. */
export function isOffered(limits: LaunchLimits | undefined, size: string): boolean {
  return !limits || limits.offered.has(size.toLowerCase());
}

/** A launch the reading's quota cannot take: the family, the vCPUs it needs and those left. */
export interface QuotaShortfall {
  family: string;
  neededVcpus: number;
  freeVcpus: number;
}

/**
 * Whether `nodes` new nodes of `size` overrun the vCPU quota left in its family; undefined when
 * they fit or when the reading knows no limit or size for it.
 */
export function quotaShortfall(
  limits: LaunchLimits | undefined,
  size: string,
  nodes: number,
): QuotaShortfall | undefined {
  if (!limits || nodes <= 0) return undefined;
  const name = size.toLowerCase();
  const family = limits.familyOf.get(name);
  const perNode = limits.vcpus.get(name) ?? findSku(size)?.vcpus;
  if (family === undefined || perNode === undefined) return undefined;
  const free = limits.quota.get(normalizeFamily(family));
  const needed = nodes * perNode;
  return free !== undefined && needed > free ? { family, neededVcpus: needed, freeVcpus: free } : undefined;
}
