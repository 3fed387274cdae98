// The node labels and the builtin mode's Machine, for the workspace's own modules and their tests;
// the node objects of every mode are built in controller/nodeprovision/.
import type { Machine, Workspace } from "../../crds/index.ts";
import { desiredMachine as machineFor, nodeObjectName, osDiskGiB } from "../nodeprovision/index.ts";

export { gpuTaint, machineInstanceType, nodeLabelsFor } from "../nodeprovision/index.ts";

/** Node `index` of the workspace as the builtin mode writes it, with its deterministic name. */
export function desiredMachine(ws: Workspace, sku: { name: string; gpus: number }, index: number): Machine {
  return machineFor(
    ws,
    {
      instanceType: sku.name,
      newNodes: index + 1,
      existingNodes: [],
      gpusPerNode: sku.gpus,
      osDiskGiB: osDiskGiB(undefined),
    },
    nodeObjectName(ws, sku.name, index),
  );
}
