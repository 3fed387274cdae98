import type { ResourceList } from "../../../crds/index.ts";
import type { InstanceType } from "../types.ts";

export interface FakeInstanceTypeOptions {
  name?: string;
  family?: string;
  gpus?: number;
  vcpus?: number;
  memoryGiB?: number;
  zones?: string[];
  pricePerHour?: number;
  /** Replaces the capacity built from the counts above. */
  capacity?: ResourceList;
}

/** An instance type with sensible defaults (one A100-like GPU); overrides win. */
export function fakeInstanceType(o: FakeInstanceTypeOptions = {}): InstanceType {
  const gpus = o.gpus ?? 1;
  const vcpus = o.vcpus ?? 24;
  const memoryGiB = o.memoryGiB ?? 220;
  return {
    name: o.name ?? "Standard_NC24ads_A100_v4",
    family: o.family ?? "standardNCADSA100v4Family",
    zones: o.zones ?? ["fake-zone-1", "fake-zone-2"],
    pricePerHour: o.pricePerHour ?? 3.67,
    capacity: o.capacity ?? {
      cpu: String(vcpus),
      memory: `${memoryGiB}Gi`,
      pods: "110",
      ...(gpus > 0 ? { "nvidia.com/gpu": String(gpus) } : {}),
    },
  };
}
