// The extender's decisions as pure functions over plain objects: no HTTP, no cache, no clock.
// This is what the benchmark measures and what the unit tests pin down.
import { gpuMemoryLabel, gpuResource, maxExtenderScore, minExtenderScore } from "./contract.ts";
import type { GpuNode } from "./gpu-node.ts";
import type { GpuPod } from "./gpu-pod.ts";

/** One node kube-scheduler offers, with what the cluster view knows about it. */
export interface Candidate {
  name: string;
  /** Undefined when the extender has never seen the node. */
  node: GpuNode | undefined;
  gpusInUse: number;
  /** Replicas of the pod's own workspace already on the node. */
  workspaceReplicas: number;
}

export type Verdict =
  | { fits: true; leftoverGpus: number }
  /** `resolvable`: evicting pods could make room, so kube-scheduler may try preemption. */
  | { fits: false; resolvable: boolean; reason: string };

/**
 * GPUs left on the node after placing the pod, or -1 when the pod does not fit. Allocation-free:
 * this is the hot path of both verbs; `judge` explains the -1s.
 */
export function leftoverIfFits(pod: GpuPod, c: Candidate): number {
  const node = c.node;
  if (pod.invalid !== undefined || node === undefined) return -1;
  if (node.workspace !== undefined && !pod.plannedNodes.has(node.name) && !sameWorkspace(pod, node))
    return -1;
  if (pod.minGpuMemoryMiB !== undefined && (node.gpuMemoryMiB ?? 0) < pod.minGpuMemoryMiB) return -1;
  const leftover = node.gpus - c.gpusInUse - pod.gpus;
  return leftover >= 0 ? leftover : -1;
}

/**
 * The reasons a node fails a pod, one string per kind of failure. They name what the pod needs but
 * nothing of the individual node, because kube-scheduler counts identical reasons in the pod's
 * FailedScheduling event ("0/5000 nodes are available: 1336 too few free nvidia.com/gpu ...");
 * per-node numbers would turn that into thousands of distinct lines, and would make every
 * response larger. Built once per request.
 */
export interface FailureReasons {
  notCached: string;
  reserved: string;
  tooFewInAll: string;
  noMemoryLabel: string;
  tooLittleMemory: string;
  tooFewFree: string;
}

export function failureReasons(pod: GpuPod): FailureReasons {
  const memory = pod.minGpuMemoryMiB;
  return {
    notCached: "node is not in the extender's node cache (yet)",
    reserved: "node is reserved for another workspace",
    tooFewInAll: `node has fewer ${gpuResource} in all than the pod needs (${pod.gpus})`,
    noMemoryLabel: `node has no ${gpuMemoryLabel} label, so its per-GPU memory is unknown; the pod needs ${memory} MiB per GPU`,
    tooLittleMemory: `node's GPUs have less memory than the pod needs (${memory} MiB per GPU)`,
    tooFewFree: `too few free ${gpuResource} on the node (the pod needs ${pod.gpus})`,
  };
}

/** Whether the pod fits the node, and why not. Only call it for pods that request GPUs. */
export function judge(pod: GpuPod, c: Candidate, reasons: FailureReasons = failureReasons(pod)): Verdict {
  if (pod.invalid) return unresolvable(pod.invalid);
  const node = c.node;
  if (!node) return unresolvable(reasons.notCached);
  if (node.workspace && !pod.plannedNodes.has(node.name) && !sameWorkspace(pod, node)) {
    return unresolvable(reasons.reserved);
  }
  if (node.gpus < pod.gpus) return unresolvable(reasons.tooFewInAll);
  if (pod.minGpuMemoryMiB !== undefined) {
    if (node.gpuMemoryMiB === undefined) return unresolvable(reasons.noMemoryLabel);
    if (node.gpuMemoryMiB < pod.minGpuMemoryMiB) return unresolvable(reasons.tooLittleMemory);
  }
  const free = node.gpus - c.gpusInUse;
  if (free < pod.gpus) return { fits: false, resolvable: true, reason: reasons.tooFewFree };
  return { fits: true, leftoverGpus: free - pod.gpus };
}

function unresolvable(reason: string): Verdict {
  return { fits: false, resolvable: false, reason };
}

function sameWorkspace(pod: GpuPod, node: GpuNode): boolean {
  const a = pod.workspace;
  const b = node.workspace;
  if (!a || !b || a.name !== b.name) return false;
  // A node labelled with the workspace name only (no namespace label) matches on the name.
  return b.namespace === undefined || a.namespace === b.namespace;
}

export interface FilterOutcome {
  /** Indices into the candidates, in their order. */
  feasible: number[];
  failed: Record<string, string>;
  failedAndUnresolvable: Record<string, string>;
}

/** Splits the candidates into feasible ones and failures with reasons. */
export function filter(pod: GpuPod, candidates: readonly Candidate[]): FilterOutcome {
  const out: FilterOutcome = { feasible: [], failed: {}, failedAndUnresolvable: {} };
  if (pod.gpus <= 0) {
    out.feasible = candidates.map((_, i) => i);
    return out;
  }
  const reasons = failureReasons(pod);
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    if (leftoverIfFits(pod, c) >= 0) {
      out.feasible.push(i);
      continue;
    }
    const v = judge(pod, c, reasons);
    if (v.fits)
      out.feasible.push(i); // unreachable while the two agree; the tests hold them to it
    else if (v.resolvable) out.failed[c.name] = v.reason;
    else out.failedAndUnresolvable[c.name] = v.reason;
  }
  return out;
}

// Best fit, then spread, packed into one number (smaller is better): the GPUs left over, then
// the replicas of the same workspace already on the node.
const leftoverWeight = 2 ** 21;
const replicaCap = 2 ** 21 - 1;

/**
 * Where the planner's nodes score when some fit: 10 down to 6, and every other node 5 down to 0,
 * so the planner's choice beats any other node by at least five points (5 x weight x 10 in
 * kube-scheduler's sum), more than default plugins such as PodTopologySpread can add back.
 */
const plannedTier = { top: maxExtenderScore, bottom: 6 };
const otherTierWhenPlanned = { top: 5, bottom: minExtenderScore };
const onlyTier = { top: maxExtenderScore, bottom: minExtenderScore };

/**
 * Scores 0..10, one per candidate in the same order. Within a tier (the planner's nodes, the
 * others) nodes are ranked by GPUs left over (best fit), then by replicas of the pod's workspace
 * (spread), and each distinct rank takes the next score down from the tier's top. Ranks rather
 * than a linear formula keep the order exact where it decides the outcome, at the top: the best
 * node outscores the runner-up by at least a point, which kube-scheduler multiplies by the
 * extender's weight and 10. Nodes the pod does not fit score 0; pods without GPUs get 0
 * everywhere (no opinion).
 */
export function prioritize(pod: GpuPod, candidates: readonly Candidate[]): number[] {
  const n = candidates.length;
  const scores = new Array<number>(n).fill(minExtenderScore);
  if (pod.gpus <= 0) return scores;
  const keys = new Float64Array(n);
  const planned = new Uint8Array(n);
  const plannedKeys = new Set<number>();
  const otherKeys = new Set<number>();
  for (let i = 0; i < n; i++) {
    const c = candidates[i]!;
    const leftover = leftoverIfFits(pod, c);
    if (leftover < 0) {
      keys[i] = -1;
      continue;
    }
    const key = Math.min(leftover, replicaCap) * leftoverWeight + Math.min(c.workspaceReplicas, replicaCap);
    keys[i] = key;
    if (pod.plannedNodes.has(c.name)) {
      planned[i] = 1;
      plannedKeys.add(key);
    } else {
      otherKeys.add(key);
    }
  }
  const plannedScores = rankScores(plannedKeys, plannedTier);
  const otherScores = rankScores(otherKeys, plannedKeys.size > 0 ? otherTierWhenPlanned : onlyTier);
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    if (key >= 0) scores[i] = (planned[i] ? plannedScores : otherScores).get(key) ?? minExtenderScore;
  }
  return scores;
}

/** The best key scores `top`, each next distinct key one less, never below `bottom`. */
function rankScores(keys: Set<number>, tier: { top: number; bottom: number }): Map<number, number> {
  const out = new Map<number, number>();
  const sorted = [...keys].sort((a, b) => a - b);
  for (let rank = 0; rank < sorted.length; rank++)
    out.set(sorted[rank]!, Math.max(tier.bottom, tier.top - rank));
  return out;
}
