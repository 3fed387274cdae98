import { describe, expect, it } from "vitest";
import { compareToSchema, type Complete } from "../schema-paths.ts";
import { accessModes, workspaceConditionTypes } from "./constants.ts";
import { workspaceCrd, workspaceSchema } from "./schema.ts";
import type { DataSource, PresetSpec, Workspace } from "./types.ts";

const dataSource: Complete<DataSource> = {
  name: "dataset",
  urls: ["https://example.com/train.parquet"],
  image: "myregistry.azurecr.io/dataset:1",
  volumeSource: { emptyDir: {} },
  imagePullSecrets: ["pull"],
};

const preset: Complete<PresetSpec> = {
  name: "phi-3-mini-4k-instruct",
  accessMode: "private",
  presetOptions: {
    image: "myregistry.azurecr.io/phi-3:1",
    imagePullSecrets: ["pull"],
    modelAccessSecret: "hf-token",
  },
};

// Every field of the interface is present (Complete<> makes tsc insist), so the comparison below
// covers the whole type, and a field that exists in only one of the two shows up as a difference.
const everyField: Complete<Workspace> = {
  apiVersion: "kaito.sh/v1beta1",
  kind: "Workspace",
  metadata: {
    name: "ws",
    generateName: "ws-",
    namespace: "default",
    uid: "0000",
    resourceVersion: "1",
    generation: 1,
    creationTimestamp: "2026-01-01T00:00:00Z",
    deletionTimestamp: "2026-01-01T00:00:00Z",
    labels: { a: "b" },
    annotations: { a: "b" },
    finalizers: ["f"],
    ownerReferences: [
      { apiVersion: "v1", kind: "K", name: "n", uid: "u", controller: true, blockOwnerDeletion: true },
    ],
  },
  resource: {
    instanceType: "Standard_NC6s_v3",
    count: 1,
    labelSelector: {
      matchLabels: { apps: "phi-3" },
      matchExpressions: [{ key: "apps", operator: "In", values: ["phi-3"] }],
    },
    preferredNodes: ["node-1"],
    partition: { mode: "mig", profile: "1g.10gb" },
  },
  inference: {
    preset,
    template: { spec: { containers: [] } },
    config: "inference-params",
    adapters: [{ source: dataSource, strength: "0.5" }],
  },
  tuning: {
    preset,
    method: "qlora",
    config: "tuning-params",
    input: dataSource,
    output: { image: "myregistry.azurecr.io/out:1", imagePushSecret: "push", volumeSource: { emptyDir: {} } },
  },
  status: {
    conditions: [
      {
        type: "WorkspaceReady",
        status: "True",
        reason: "Ready",
        message: "serving",
        lastTransitionTime: "2026-01-01T00:00:00Z",
        observedGeneration: 1,
      },
    ],
    workerNodes: ["node-1"],
    instanceType: "Standard_NC6s_v3",
    nodeCount: 1,
    machines: ["ws-abc12"],
    costPerHour: "3.06",
    failedInstanceTypes: ["Standard_NC24ads_A100_v4"],
    placement: {
      instanceType: "Standard_NC6s_v3",
      replicas: 1,
      gpusPerPod: 1,
      nodesPerReplica: 1,
      newNodes: 1,
      existingNodes: ["gpu-0"],
      sharedNodes: [{ name: "ws0123abcde", launchedBy: "default/host" }],
    },
    observedGeneration: 1,
    state: "Ready",
    targetNodeCount: 1,
    performance: {
      metrics: {
        peakTokensPerMinute: {
          description: "stress/high-concurrency",
          value: "12000",
          unit: "tokens/min",
          config: { concurrency: "64" },
        },
      },
    },
  },
};

describe("Workspace types and schema", () => {
  it("declare the same fields with the same types", () => {
    const root = workspaceCrd.spec.versions[0]!.schema.openAPIV3Schema;
    expect(compareToSchema(root, everyField)).toEqual([]);
  });

  it("serve v1alpha1 and v1beta1 with one schema and the same columns, stored as v1beta1, with no conversion webhook", () => {
    const versions = workspaceCrd.spec.versions;
    expect(versions.map((v) => [v.name, v.served, v.storage])).toEqual([
      ["v1alpha1", true, false],
      ["v1beta1", true, true],
    ]);
    expect(versions[0]!.schema).toEqual(versions[1]!.schema);
    expect(versions[0]!.additionalPrinterColumns).toEqual(versions[1]!.additionalPrinterColumns);
    expect(workspaceCrd.spec.conversion).toEqual({ strategy: "None" });
  });

  it("agree on the enumerations", () => {
    expect(workspaceSchema.properties!.inference!.properties!.preset!.properties!.accessMode!.enum).toEqual([
      ...accessModes,
    ]);
  });

  it("print a column for each condition it names", () => {
    const columns = workspaceCrd.spec.versions[0]!.additionalPrinterColumns!;
    for (const c of columns.filter((c) => c.jsonPath.startsWith(".status.conditions"))) {
      const type = /@\.type=="(\w+)"/.exec(c.jsonPath)![1];
      expect(workspaceConditionTypes).toContain(type);
      expect(c.name).toBe(type);
    }
  });

  it("prints INSTANCE RESOURCEREADY INFERENCEREADY WORKSPACEREADY AGE, and the tuning columns with -o wide", () => {
    const columns = workspaceCrd.spec.versions[0]!.additionalPrinterColumns!;
    const upper = (p: boolean) => columns.filter((c) => !c.priority === p).map((c) => c.name.toUpperCase());
    expect(upper(true)).toEqual(["INSTANCE", "RESOURCEREADY", "INFERENCEREADY", "WORKSPACEREADY", "AGE"]);
    expect(upper(false)).toEqual(["JOBSTARTED", "WORKSPACESUCCEEDED"]);
  });
});
