import { describe, expect, it } from "vitest";
import { compareToSchema, type Complete } from "../schema-paths.ts";
import { inferenceSetCrd } from "./schema.ts";
import type { InferenceSet } from "./types.ts";

const everyField: Complete<InferenceSet> = {
  apiVersion: "kaito.sh/v1beta1",
  kind: "InferenceSet",
  metadata: {
    name: "mistral",
    generateName: "m-",
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
  spec: {
    replicas: 2,
    labelSelector: {
      matchLabels: { apps: "mistral" },
      matchExpressions: [{ key: "apps", operator: "In", values: ["mistral"] }],
    },
    template: {
      metadata: { labels: { team: "a" }, annotations: { "kaito.sh/runtime": "vllm" } },
      resource: { instanceType: "Standard_NC24ads_A100_v4", partition: { mode: "mig", profile: "1g.10gb" } },
      inference: {
        preset: {
          name: "mistral-7b-instruct",
          accessMode: "public",
          presetOptions: { image: "r.io/m:1", imagePullSecrets: ["p"], modelAccessSecret: "hf" },
        },
        template: { spec: {} },
        config: "params",
        adapters: [
          {
            source: {
              name: "a",
              urls: ["https://x"],
              image: "r.io/a:1",
              volumeSource: { emptyDir: {} },
              imagePullSecrets: ["p"],
            },
            strength: "0.5",
          },
        ],
      },
    },
    nodeCountLimit: 4,
    updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, partition: 0 } },
    autoUpgrade: {
      enabled: false,
      strategy: "InPlace",
      maintenanceWindow: { schedule: "0 2 * * 6", duration: "4h" },
    },
  },
  status: {
    replicas: 2,
    readyReplicas: 1,
    selector: "inferenceset.kaito.sh/created-by=mistral",
    conditions: [
      {
        type: "InferenceSetReady",
        status: "False",
        reason: "WaitingForReplicas",
        message: "1 of 2 replicas ready.",
        lastTransitionTime: "2026-01-01T00:00:00Z",
        observedGeneration: 1,
      },
    ],
    performance: {
      metrics: {
        peakTokensPerMinute: { description: "d", value: "1", unit: "tokens/min", config: { a: "b" } },
      },
    },
    nodeCount: 2,
    observedGeneration: 1,
  },
};

describe("InferenceSet types and schema", () => {
  it("declare the same fields with the same types", () => {
    for (const v of inferenceSetCrd.spec.versions)
      expect(compareToSchema(v.schema.openAPIV3Schema, everyField), v.name).toEqual([]);
  });

  it("serve v1alpha1 and v1beta1, stored as v1beta1, with KAITO's scale subresource and columns", () => {
    const versions = inferenceSetCrd.spec.versions;
    expect(versions.map((v) => [v.name, v.storage])).toEqual([
      ["v1alpha1", false],
      ["v1beta1", true],
    ]);
    for (const v of versions) {
      expect(v.subresources?.scale).toEqual({
        specReplicasPath: ".spec.replicas",
        statusReplicasPath: ".status.replicas",
        labelSelectorPath: ".status.selector",
      });
      expect(v.additionalPrinterColumns!.map((c) => c.name.toUpperCase())).toEqual([
        "REPLICAS",
        "READYREPLICAS",
        "AGE",
      ]);
    }
  });
});
