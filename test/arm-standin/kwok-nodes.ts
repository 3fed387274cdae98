import type { Machine } from "../../crds/index.ts";
import type { KubeClient } from "../../kube/client.ts";
import { isAlreadyExists, isNotFound } from "../../kube/errors.ts";
import { resources } from "../../kube/resources.ts";
import { findSku } from "../../planner/catalog/index.ts";
import type { Node } from "../../provisioner/kube-types.ts";
import { bootedNode, buildNode, localInstanceLabel } from "../../provisioner/cloud/local/node.ts";
import { machineTag, providerIdFor, zoneLabelOf } from "../../provisioner/cloud/azure/index.ts";
import type { VmHooks } from "./lro.ts";
import type { WireVm } from "./state.ts";

/**
 * Hooks that make each VM the stand-in finishes creating join the test cluster as a kwok Node,
 * as a real VM's kubelet would: named after the VM, with the AKS providerID, the Machine's
 * labels and taints, the SKU's labels and capacity (nvidia.com/gpu included), already booted.
 * The Node is built by the local cloud's builder; only what differs on Azure is changed.
 */
export function kwokNodeHooks(client: KubeClient, subscriptionId: string, resourceGroup: string): VmHooks {
  return {
    async onVmCreated(vm) {
      const machineName = vm.tags?.[machineTag];
      if (!machineName) return;
      let machine: Machine;
      try {
        machine = await client.get<Machine>(resources.machines, machineName);
      } catch (e) {
        // A VM made for a Machine that no longer exists (a test's orphan) gets no node.
        if (isNotFound(e)) return;
        throw e;
      }
      await client
        .create<Node>(resources.nodes, nodeFor(vm, machine, subscriptionId, resourceGroup))
        .catch((e: unknown) => {
          // The same VM finishing twice (a repeated create) finds its node there already.
          if (!isAlreadyExists(e)) throw e;
        });
    },
    async onVmDeleted(vm) {
      await client.delete(resources.nodes, vm.name).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    },
  };
}

export function nodeFor(vm: WireVm, machine: Machine, subscriptionId: string, resourceGroup: string): Node {
  const size = String((vm.properties.hardwareProfile as { vmSize?: string } | undefined)?.vmSize ?? "");
  const sku = findSku(size);
  if (!sku)
    throw new Error(`the stand-in's VM ${vm.name} has size ${size}, which the catalogue does not know`);
  const zone = zoneLabelOf(vm.location, vm.zones?.[0]);
  const local = bootedNode(
    buildNode({ machine, sku, instanceType: size, zone, region: vm.location, bootAt: 0 }),
  );
  const labels: Record<string, string> = { ...local.metadata?.labels, "kubernetes.io/hostname": vm.name };
  delete labels[localInstanceLabel];
  return {
    ...local,
    metadata: { ...local.metadata, name: vm.name, labels },
    spec: { ...local.spec, providerID: providerIdFor(subscriptionId, resourceGroup, vm.name) },
  };
}
