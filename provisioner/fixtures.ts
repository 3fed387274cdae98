// Object factories for the provisioner's tests: defaults merged with overrides, random names.
import { randomBytes } from "node:crypto";
import {
  instanceTypeLabel,
  machineApiVersion,
  machineKind,
  workspaceLabel,
  workspaceNamespaceLabel,
  type Machine,
  type MachineSpec,
} from "../crds/index.ts";
import type { ObjectMeta } from "../kube/client.ts";
import type { Node } from "./kube-types.ts";

export const testSku = "Standard_NC24ads_A100_v4";

export function randomName(prefix = "machine"): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** A Machine as the Workspace controller creates it: one A100 SKU, a GPU taint, one GPU requested. */
export function machine(o: { metadata?: ObjectMeta; spec?: MachineSpec; sku?: string } = {}): Machine {
  const sku = o.sku ?? testSku;
  return {
    apiVersion: machineApiVersion,
    kind: machineKind,
    metadata: {
      name: randomName(),
      ...o.metadata,
      labels: {
        [workspaceLabel]: "phi-3",
        [workspaceNamespaceLabel]: "default",
        apps: "phi-3",
        ...o.metadata?.labels,
      },
    },
    spec: {
      requirements: [{ key: instanceTypeLabel, operator: "In", values: [sku] }],
      taints: [{ key: "sku", value: "gpu", effect: "NoSchedule" }],
      resources: { requests: { "nvidia.com/gpu": "1" } },
      ...o.spec,
    },
  };
}

/** A Ready node with GPUs allocatable. */
export function node(
  o: { name?: string; providerID?: string; gpus?: number; ready?: boolean } & Partial<Node> = {},
): Node {
  const name = o.name ?? randomName("node");
  const gpus = String(o.gpus ?? 1);
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { [instanceTypeLabel]: testSku }, ...o.metadata },
    spec: { providerID: o.providerID ?? `fake://${name}`, ...o.spec },
    status: {
      capacity: { cpu: "24", "nvidia.com/gpu": gpus },
      allocatable: { cpu: "24", "nvidia.com/gpu": gpus },
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
      ...o.status,
    },
  };
}
