import { UserError } from "../lib/errors.ts";
import {
  isNodeProvisionerMode,
  nodeProvisionerModes,
  parseNodeClass,
  type NodeProvisionerConfig,
} from "../controller/nodeprovision/index.ts";

/** The flags `controller` and `up` share. */
export const nodeProvisionerFlags = {
  "node-provisioner": { type: "string", default: "builtin" },
  "node-class": { type: "string" },
} as const;

export const nodeProvisionerUsage = `  --node-provisioner MODE           how workspaces get nodes (default: builtin):
                                    builtin: Machines served by kaito's provisioner (--cloud);
                                    karpenter: NodeClaims for an installed Karpenter (AKS Node Auto
                                    Provisioning, EKS Karpenter, ...);
                                    azure-gpu-provisioner: NodeClaims as KAITO writes them for
                                    gpu-provisioner >= v0.3; byo: no nodes are made, workspaces run
                                    on Ready GPU nodes that match their labelSelector
  --node-class GROUP/KIND/NAME      karpenter only: the claims' node class (default:
                                    karpenter.azure.com/AKSNodeClass/default; on EKS e.g.
                                    karpenter.k8s.aws/EC2NodeClass/default)`;

/** Reads --node-provisioner and --node-class; a bad value is one sentence that says what to fix. */
export function nodeProvisionerFrom(values: {
  "node-provisioner"?: string;
  "node-class"?: string;
}): NodeProvisionerConfig {
  const mode = values["node-provisioner"] ?? "builtin";
  if (!isNodeProvisionerMode(mode))
    throw new UserError(
      `--node-provisioner must be one of ${nodeProvisionerModes.join(", ")}, got "${mode}".`,
    );
  if (values["node-class"] !== undefined && mode !== "karpenter")
    throw new UserError(`--node-class applies to --node-provisioner karpenter only, not ${mode}.`);
  return {
    mode,
    ...(values["node-class"] !== undefined ? { nodeClass: parseNodeClass(values["node-class"]) } : {}),
  };
}
