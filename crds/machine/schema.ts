/**
 * The Machine CRD: the one source of truth for crds/machines.karpenter.sh.yaml (written by
 * crds/generate.ts). Field names, shapes and printer columns follow Karpenter-core's v1alpha5
 * Machine, so any provisioner that speaks that API can stand in for ours.
 */
import {
  ageColumn,
  conditionColumn,
  customResourceDefinition,
  type CustomResourceDefinition,
} from "../crd.ts";
import { nodeSelectorRequirements, resourceList, taints } from "../core/schema.ts";
import { arr, bool, int, map, obj, rule, str, type JSONSchemaProps } from "../openapi.ts";
import { workspaceLabel } from "../workspace/constants.ts";
import {
  capacityTypeLabel,
  instanceTypeLabel,
  machineGroup,
  machineKind,
  machinePlural,
  machineSingular,
  machineVersion,
  provisionerNameLabel,
  zoneLabel,
} from "./constants.ts";

const percent = (description: string) => int(description, { format: "int32", minimum: 0, maximum: 100 });
const count = (description: string) => int(description, { format: "int32", minimum: 0 });

const kubelet = obj("Kubelet settings for the node, where the provider supports them.", {
  clusterDNS: arr("IP addresses of the cluster DNS servers.", str()),
  containerRuntime: str("The container runtime of the node."),
  maxPods: count("The most pods the node runs."),
  podsPerCore: count("The most pods per CPU core; maxPods wins when lower."),
  systemReserved: resourceList("Resources kept for the operating system."),
  kubeReserved: resourceList("Resources kept for Kubernetes daemons."),
  evictionHard: map("Signal name to the threshold that evicts at once.", str()),
  evictionSoft: map("Signal name to the threshold that evicts after a grace period.", str()),
  evictionSoftGracePeriod: map("Signal name to its grace period, e.g. 1m30s.", str()),
  evictionMaxPodGracePeriod: int("The longest grace period, in seconds, given to pods on soft eviction.", {
    format: "int32",
  }),
  imageGCHighThresholdPercent: percent("Disk usage above which image garbage collection always runs."),
  imageGCLowThresholdPercent: percent("Disk usage below which image garbage collection never runs."),
  cpuCFSQuota: bool("Whether CPU limits are enforced with CFS quota."),
});

const spec = obj(
  "What the node must be. Fixed once created: replace the Machine to change it.",
  {
    taints: taints("Taints the node keeps."),
    startupTaints: taints(
      "Taints the node boots with, removed by a daemon; initialization waits for them to go.",
    ),
    requirements: nodeSelectorRequirements(
      "Requirements on the node's labels: node.kubernetes.io/instance-type, topology.kubernetes.io/zone, ...",
    ),
    resources: obj("What the node must have.", {
      requests: resourceList("The least of each resource the node provides, e.g. nvidia.com/gpu: 1."),
    }),
    kubelet,
    machineTemplateRef: obj(
      "A provider-specific object with the rest of the node's configuration.",
      {
        kind: str("Kind of the object."),
        name: str("Name of the object."),
        apiVersion: str("API version of the object."),
      },
      { required: ["name"] },
    ),
  },
  {
    "x-kubernetes-validations": [
      rule("self == oldSelf", "spec is immutable: delete the Machine and create a new one to change it"),
    ],
  },
);

const status = obj("Written by the provisioner.", {
  nodeName: str("The node that registered for this Machine."),
  providerID: str("The cloud's id of the instance; the node's spec.providerID matches it."),
  capacity: resourceList("The node's full capacity."),
  allocatable: resourceList("What the node offers to pods."),
  conditions: arr(
    "MachineLaunched, MachineRegistered, MachineInitialized and Ready.",
    obj(
      "One aspect of the Machine's state.",
      {
        type: str("The aspect."),
        status: str("True, False or Unknown."),
        severity: str("Error (when absent), Warning or Info."),
        lastTransitionTime: str("When the status last changed."),
        reason: str("A CamelCase word for the last transition."),
        message: str("A human-readable explanation."),
      },
      { required: ["type", "status"] },
    ),
    // Keyed by type, so server-side apply merges one condition at a time.
    { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] },
  ),
});

export const machineSchema: JSONSchemaProps = obj("A request for one node, fulfilled by a cloud provider.", {
  spec,
  status,
});

const labelPath = (key: string) => `.metadata.labels.${key.replaceAll(".", "\\.")}`;

export const machineCrd: CustomResourceDefinition = customResourceDefinition({
  group: machineGroup,
  version: machineVersion,
  kind: machineKind,
  plural: machinePlural,
  singular: machineSingular,
  scope: "Cluster",
  categories: ["karpenter"],
  columns: [
    { name: "Type", type: "string", jsonPath: labelPath(instanceTypeLabel) },
    { name: "Zone", type: "string", jsonPath: labelPath(zoneLabel) },
    { name: "Node", type: "string", jsonPath: ".status.nodeName" },
    conditionColumn("Ready", "Ready"),
    ageColumn,
    { name: "Capacity", type: "string", jsonPath: labelPath(capacityTypeLabel), priority: 1 },
    { name: "Provisioner", type: "string", jsonPath: labelPath(provisionerNameLabel), priority: 1 },
    { name: "Workspace", type: "string", jsonPath: labelPath(workspaceLabel), priority: 1 },
    { name: "Template", type: "string", jsonPath: ".spec.machineTemplateRef.name", priority: 1 },
  ],
  schema: machineSchema,
});
