import {
  instanceTypeLabel,
  machineApiVersion,
  machineKind,
  workspaceLabel,
  workspaceNamespaceLabel,
  type Machine,
  type Workspace,
} from "../../crds/index.ts";
import { machineName } from "./naming.ts";

/** GPU nodes repel pods that do not ask for them; inference and tuning pods tolerate it (as KAITO). */
export const gpuTaint = { key: "sku", value: "gpu", effect: "NoSchedule" } as const;

/**
 * The labels a workspace's nodes must carry: its labelSelector's matchLabels and single-value
 * `In` expressions (the CRD allows no other kind, because the operator puts them on nodes).
 */
export function nodeLabelsFor(ws: Workspace): Record<string, string> {
  const selector = ws.resource.labelSelector ?? {};
  const labels: Record<string, string> = { ...(selector.matchLabels ?? {}) };
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === "In" && e.values?.length === 1) labels[e.key] = e.values[0]!;
  }
  return labels;
}

/** Machines of this workspace: labelled with its name and namespace (Machines are cluster-scoped). */
export function machineSelector(ws: Workspace): string {
  return `${workspaceLabel}=${ws.metadata!.name},${workspaceNamespaceLabel}=${ws.metadata!.namespace}`;
}

export function desiredMachine(ws: Workspace, sku: { name: string; gpus: number }, index: number): Machine {
  const name = machineName(ws, sku.name, index);
  return {
    apiVersion: machineApiVersion,
    kind: machineKind,
    metadata: {
      name,
      labels: {
        ...nodeLabelsFor(ws),
        [workspaceLabel]: ws.metadata!.name!,
        [workspaceNamespaceLabel]: ws.metadata!.namespace!,
        "kubernetes.io/hostname": name,
      },
    },
    spec: {
      requirements: [
        { key: instanceTypeLabel, operator: "In", values: [sku.name] },
        { key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"] },
      ],
      resources: { requests: { "nvidia.com/gpu": String(sku.gpus) } },
      taints: [{ ...gpuTaint }],
    },
  };
}

/** The instance type a Machine asks for. */
export function machineInstanceType(m: Machine): string | undefined {
  return m.spec?.requirements?.find((r) => r.key === instanceTypeLabel)?.values?.[0];
}
