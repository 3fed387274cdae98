import {
  capacityTypeLabel,
  doNotDisruptAnnotation,
  instanceTypeLabel,
  nodeClaimApiVersion,
  nodeClaimKind,
  nodePoolLabel,
  type NodeClaim,
  type NodeClassReference,
  type Workspace,
} from "../../crds/index.ts";
import { UserError } from "../../lib/errors.ts";
import { gpuTaint, nodeLabelsFor, ownerLabels } from "./labels.ts";
import type { NodeRequest } from "./types.ts";

const osLabel = "kubernetes.io/os";
/** AKS Node Auto Provisioning's well-known SKU label (karpenter-provider-azure pkg/apis/v1beta1/labels.go). */
export const azureSkuNameLabel = "karpenter.azure.com/sku-name";
/** KAITO's annotation naming the node image family gpu-provisioner boots (api/v1beta1). */
export const nodeImageFamilyAnnotation = "kaito.sh/node-image-family";
/** The NodePool name KAITO puts on gpu-provisioner claims: one no Karpenter scales. */
export const kaitoNodePoolName = "kaito";

/** AKS Node Auto Provisioning's node class, the `karpenter` mode's default. */
export const defaultNodeClass: NodeClassReference = {
  group: "karpenter.azure.com",
  kind: "AKSNodeClass",
  name: "default",
};
/** The node class of the local cluster's Karpenter (its kwok provider). */
export const kwokNodeClass: NodeClassReference = {
  group: "karpenter.kwok.sh",
  kind: "KWOKNodeClass",
  name: "default",
};
/** What KAITO v0.12 points gpu-provisioner claims at (pkg/utils/nodeclaim/nodeclaim.go). */
export const kaitoNodeClass: NodeClassReference = {
  group: "kaito.sh",
  kind: "KaitoNodeClass",
  name: "default",
};

/** Parses `--node-class GROUP/KIND/NAME`, e.g. karpenter.k8s.aws/EC2NodeClass/default. */
export function parseNodeClass(text: string): NodeClassReference {
  const parts = text.split("/");
  const dns = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  if (
    parts.length !== 3 ||
    !dns.test(parts[0]!) ||
    !/^[A-Z][A-Za-z0-9]*$/.test(parts[1]!) ||
    !dns.test(parts[2]!)
  )
    throw new UserError(
      `--node-class must be GROUP/KIND/NAME such as karpenter.azure.com/AKSNodeClass/default, got "${text}".`,
    );
  return { group: parts[0]!, kind: parts[1]!, name: parts[2]! };
}

/**
 * A NodeClaim for an installed Karpenter (`karpenter` mode): exactly the planner's size (the only
 * value of the instance-type requirement, so Karpenter cannot pick another), on-demand, Linux; the
 * workspace's labels and owner labels, which Karpenter copies onto the node; the GPU taint; the
 * GPUs as a resource request, so Initialized waits for the device plugin to advertise them;
 * `karpenter.sh/do-not-disrupt` and `expireAfter: Never`, because a model's node must not be
 * consolidated or expired under it. No `karpenter.sh/nodepool` label: a bare claim (README: why).
 * On AKS Node Auto Provisioning the size is also pinned by its own SKU label.
 */
export function karpenterNodeClaim(
  ws: Workspace,
  request: NodeRequest,
  name: string,
  nodeClass: NodeClassReference,
): NodeClaim {
  const requirements: NodeClaim["spec"] & object = {
    nodeClassRef: { ...nodeClass },
    requirements: [
      { key: instanceTypeLabel, operator: "In", values: [request.instanceType] },
      { key: capacityTypeLabel, operator: "In", values: ["on-demand"] },
      { key: osLabel, operator: "In", values: ["linux"] },
      ...(nodeClass.group === defaultNodeClass.group
        ? [{ key: azureSkuNameLabel, operator: "In" as const, values: [request.instanceType] }]
        : []),
    ],
    resources: { requests: { "nvidia.com/gpu": String(request.gpusPerNode) } },
    taints: [{ ...gpuTaint }],
    expireAfter: "Never",
  };
  return {
    apiVersion: nodeClaimApiVersion,
    kind: nodeClaimKind,
    metadata: {
      name,
      labels: { ...nodeLabelsFor(ws), ...ownerLabels(ws) },
      annotations: { [doNotDisruptAnnotation]: "true" },
    },
    spec: requirements,
  };
}

/**
 * A NodeClaim exactly as KAITO v0.12 writes it for gpu-provisioner >= v0.3
 * (pkg/utils/nodeclaim/nodeclaim.go, GenerateNodeClaimManifestWithOptions, CLOUD_PROVIDER=azure):
 * labels `karpenter.sh/nodepool: kaito`, the owner labels and the workspace's matchLabels;
 * annotations do-not-disrupt and the node image family (ubuntu, KAITO's default); nodeClassRef
 * kaito.sh/KaitoNodeClass/default; the `sku=gpu:NoSchedule` taint; requirements on the nodepool
 * label, the instance type, the OS and AKS's SKU label; and only a `storage` request, which
 * gpu-provisioner makes the OS disk (v0.4.3 refuses a claim without it). KAITO names the claim
 * with a hash of the time; ours is deterministic (naming.ts) in the same `ws` + 9 hex shape.
 */
export function gpuProvisionerNodeClaim(ws: Workspace, request: NodeRequest, name: string): NodeClaim {
  return {
    apiVersion: nodeClaimApiVersion,
    kind: nodeClaimKind,
    metadata: {
      name,
      labels: { [nodePoolLabel]: kaitoNodePoolName, ...nodeLabelsFor(ws), ...ownerLabels(ws) },
      annotations: { [doNotDisruptAnnotation]: "true", [nodeImageFamilyAnnotation]: "ubuntu" },
    },
    spec: {
      nodeClassRef: { ...kaitoNodeClass },
      taints: [{ ...gpuTaint }],
      requirements: [
        { key: nodePoolLabel, operator: "In", values: [kaitoNodePoolName] },
        { key: instanceTypeLabel, operator: "In", values: [request.instanceType] },
        { key: osLabel, operator: "In", values: ["linux"] },
        { key: azureSkuNameLabel, operator: "In", values: [request.instanceType] },
      ],
      resources: { requests: { storage: `${request.osDiskGiB}Gi` } },
    },
  };
}
