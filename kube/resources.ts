import {
  machineGroup,
  machineKind,
  machinePlural,
  machineVersion,
  nodeClaimGroup,
  nodeClaimKind,
  nodeClaimPlural,
  nodeClaimVersion,
  workspaceGroup,
  workspaceKind,
  workspacePlural,
  workspaceVersion,
} from "../crds/index.ts";

/** Where a kind lives in the API: enough to build its REST paths. */
export interface Resource {
  group: string; // "" for the core group
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export function apiVersionOf(r: Resource): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The collection path, e.g. /apis/apps/v1/namespaces/ns/deployments or /api/v1/nodes. */
export function collectionPath(r: Resource, namespace?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  if (r.namespaced && namespace) return `${base}/namespaces/${encodeURIComponent(namespace)}/${r.plural}`;
  return `${base}/${r.plural}`;
}

export function objectPath(r: Resource, name: string, namespace?: string): string {
  if (r.namespaced && !namespace) throw new Error(`${r.kind} ${name} is namespaced: a namespace is required`);
  return `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`;
}

const core = (plural: string, kind: string, namespaced = true): Resource => ({
  group: "",
  version: "v1",
  plural,
  kind,
  namespaced,
});

export const resources = {
  namespaces: core("namespaces", "Namespace", false),
  nodes: core("nodes", "Node", false),
  pods: core("pods", "Pod"),
  services: core("services", "Service"),
  events: core("events", "Event"),
  secrets: core("secrets", "Secret"),
  configMaps: core("configmaps", "ConfigMap"),
  serviceAccounts: core("serviceaccounts", "ServiceAccount"),
  endpointSlices: {
    group: "discovery.k8s.io",
    version: "v1",
    plural: "endpointslices",
    kind: "EndpointSlice",
    namespaced: true,
  },
  deployments: { group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true },
  statefulSets: {
    group: "apps",
    version: "v1",
    plural: "statefulsets",
    kind: "StatefulSet",
    namespaced: true,
  },
  jobs: { group: "batch", version: "v1", plural: "jobs", kind: "Job", namespaced: true },
  leases: { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true },
  workspaces: {
    group: workspaceGroup,
    version: workspaceVersion,
    plural: workspacePlural,
    kind: workspaceKind,
    namespaced: true,
  },
  machines: {
    group: machineGroup,
    version: machineVersion,
    plural: machinePlural,
    kind: machineKind,
    namespaced: false,
  },
  nodeClaims: {
    group: nodeClaimGroup,
    version: nodeClaimVersion,
    plural: nodeClaimPlural,
    kind: nodeClaimKind,
    namespaced: false,
  },
} as const satisfies Record<string, Resource>;
