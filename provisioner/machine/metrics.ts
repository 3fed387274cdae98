import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { instanceTypeLabel, type Machine } from "../../crds/index.ts";
import type { Node, Pod } from "../kube-types.ts";
import { gpuResource, podGpuRequest } from "../../kube/gpu-request.ts";
import { quantity } from "../../kube/quantity.ts";
import { allowedInstanceTypes } from "../requirements.ts";

/** Where the GPU gauges read nodes and pods at scrape time (the informers' caches). */
export interface GpuSource {
  nodes(): Node[];
  pods(): Pod[];
}

export interface GpuUsage {
  node: string;
  sku: string;
  capacity: number;
  allocated: number;
}

const terminated = new Set(["Succeeded", "Failed"]);

/**
 * Per GPU node: allocatable nvidia.com/gpu and the GPUs that non-terminated pods bound to it
 * request. A node appears when it has GPUs allocatable or GPU pods bound to it.
 */
export function gpuUsage(nodes: readonly Node[], pods: readonly Pod[]): GpuUsage[] {
  const allocated = new Map<string, number>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    if (!node || terminated.has(pod.status?.phase ?? "")) continue;
    const n = podGpuRequest(pod);
    if (n > 0) allocated.set(node, (allocated.get(node) ?? 0) + n);
  }
  const rows: GpuUsage[] = [];
  for (const node of nodes) {
    const name = node.metadata?.name ?? "";
    const capacity = quantity(node.status?.allocatable?.[gpuResource]);
    const used = allocated.get(name) ?? 0;
    if (capacity <= 0 && used <= 0) continue;
    rows.push({
      node: name,
      sku: node.metadata?.labels?.[instanceTypeLabel] ?? "unknown",
      capacity,
      allocated: used,
    });
  }
  return rows.sort((a, b) => a.node.localeCompare(b.node));
}

/**
 * The reason label of kaito_machine_provisioning_failures_total: the MachineLaunched reasons of
 * a failed launch, the retryable errors the backends name, and the registration deadline.
 */
export const provisioningFailureReasons = [
  "QuotaExceeded",
  "SkuNotAvailable",
  "InsufficientCapacity",
  "LaunchFailed",
  "Throttled",
  "Unauthorized",
  "LaunchTimeout",
  "RegistrationTimeout",
] as const;
export type ProvisioningFailureReason = (typeof provisioningFailureReasons)[number];

/** A backend's own reason (Azure passes ARM error codes through) folded into the bounded set. */
export function failureReason(reason: string): ProvisioningFailureReason {
  return (provisioningFailureReasons as readonly string[]).includes(reason)
    ? (reason as ProvisioningFailureReason)
    : "LaunchFailed";
}

/** The provisioner's metrics, on the manager's registry. */
export class ProvisionerMetrics {
  readonly provisioningDuration: Histogram<"sku">;
  readonly provisioningFailures: Counter<"reason">;
  readonly gpuCapacity: Gauge<"node" | "sku">;
  readonly gpuAllocated: Gauge<"node" | "sku">;
  private readonly skusSeen = new Set<string>();

  constructor(registry: Registry, source: GpuSource) {
    const registers = [registry];
    this.provisioningDuration = new Histogram({
      name: "kaito_machine_provisioning_duration_seconds",
      help: "Time from a Machine's creation until it is Ready (node registered and initialized), by instance type.",
      // GPU sizes boot at different speeds; the catalogue bounds the label.
      labelNames: ["sku"],
      // GPU VMs take minutes; the local cloud takes seconds.
      buckets: [1, 2.5, 5, 10, 30, 60, 120, 180, 300, 450, 600, 900, 1200, 1800],
      registers,
    });
    this.provisioningFailures = new Counter({
      name: "kaito_machine_provisioning_failures_total",
      help: "Failed launches (each attempt) and registration timeouts of Machines, by reason.",
      labelNames: ["reason"],
      registers,
    });
    // Every reason starts at 0, so increase() sees the first failure and dashboards show zeros
    // rather than gaps.
    for (const reason of provisioningFailureReasons) this.provisioningFailures.inc({ reason }, 0);
    this.gpuCapacity = new Gauge({
      name: "kaito_gpu_capacity",
      help: "Allocatable nvidia.com/gpu per GPU node.",
      labelNames: ["node", "sku"],
      registers,
      collect() {
        this.reset();
        for (const r of gpuUsage(source.nodes(), source.pods()))
          this.set({ node: r.node, sku: r.sku }, r.capacity);
      },
    });
    this.gpuAllocated = new Gauge({
      name: "kaito_gpu_allocated",
      help: "nvidia.com/gpu requested by the non-terminated pods bound to each GPU node.",
      labelNames: ["node", "sku"],
      registers,
      collect() {
        this.reset();
        for (const r of gpuUsage(source.nodes(), source.pods()))
          this.set({ node: r.node, sku: r.sku }, r.allocated);
      },
    });
  }

  /** Called for each failed launch attempt and each registration timeout. */
  observeFailure(reason: string): void {
    this.provisioningFailures.inc({ reason: failureReason(reason) });
  }

  /**
   * Called on each pass over a Machine that is not Ready yet. The first Machine of a size starts
   * that size's latency series at zero, so that rate() over a window sees its first Ready as an
   * increase instead of a series that appears already counted.
   */
  observeProvisioning(machine: Machine): void {
    const sku = skuOf(machine);
    if (this.skusSeen.has(sku)) return;
    this.skusSeen.add(sku);
    this.provisioningDuration.zero({ sku });
  }

  /** Called once, when the Machine's Ready condition turns True. */
  observeReady(machine: Machine, nowMs: number): void {
    const created = Date.parse(machine.metadata?.creationTimestamp ?? "");
    if (Number.isNaN(created)) return;
    const sku = skuOf(machine);
    this.skusSeen.add(sku);
    this.provisioningDuration.observe({ sku }, Math.max(0, (nowMs - created) / 1000));
  }
}

/** The instance type a Machine runs as, the label of its provisioning latency. */
function skuOf(machine: Machine): string {
  const allowed = allowedInstanceTypes(machine);
  return allowed?.length === 1 ? allowed[0]! : "unknown";
}
