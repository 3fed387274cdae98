/**
 * Invalid Workspaces and InferenceSets and what the API server must answer, for the integration
 * test (test/integration/crds.test.ts) and for anyone changing the schema. Each case is a valid
 * base plus a JSON merge patch (the edit a user would make), the HTTP status, and two substrings
 * of the rejection: the field it names and the hint it gives. The bases are written as
 * kaito.sh/v1alpha1; the test sends every case in each served version (withVersion).
 */
import { mergePatch, type JsonObject, type JsonValue } from "./merge-patch.ts";
import { inferenceSetKind } from "./inferenceset/constants.ts";
import type { InferenceSet } from "./inferenceset/types.ts";
import { workspaceGroup, workspaceKind, workspaceLegacyVersion } from "./workspace/constants.ts";
import type { Workspace } from "./workspace/types.ts";

const legacyApiVersion = `${workspaceGroup}/${workspaceLegacyVersion}`;

/** The manifest as written for another served version of the group (the schema is the same). */
export function withVersion(manifest: JsonObject, version: string): JsonObject {
  return { ...manifest, apiVersion: `${workspaceGroup}/${version}` };
}

export interface InvalidWorkspaceCase {
  /** What is wrong, as a test title. */
  name: string;
  /** The manifest to create; metadata.name is left to the caller unless the case is about it. */
  workspace: JsonObject;
  /** 422 for schema and CEL errors; 400 for unknown fields under strict field validation. */
  status: 400 | 422;
  /** The field path the API server reports, e.g. "inference.adapters[0].strength". */
  field: string;
  /** A piece of the message that says what to fix. */
  hint: string;
}

export interface InvalidWorkspaceUpdate {
  name: string;
  /** A valid Workspace to create first. */
  base: JsonObject;
  /** The JSON merge patch that must then be refused. */
  patch: JsonObject;
  field: string;
  hint: string;
}

const inferenceBase = {
  apiVersion: legacyApiVersion,
  kind: workspaceKind,
  resource: { instanceType: "Standard_NC6s_v3", labelSelector: { matchLabels: { apps: "phi-3" } } },
  inference: {
    preset: { name: "phi-3-mini-128k-instruct" },
    adapters: [
      {
        source: { name: "phi-3-adapter", image: "myregistry.azurecr.io/phi-3-adapter:0.0.1" },
        strength: "0.5",
      },
    ],
  },
} satisfies Workspace;

const tuningBase = {
  apiVersion: legacyApiVersion,
  kind: workspaceKind,
  resource: { instanceType: "Standard_NC6s_v3", labelSelector: { matchLabels: { app: "phi-3-adapter" } } },
  tuning: {
    preset: { name: "phi-3-mini-4k-instruct" },
    method: "qlora",
    input: { urls: ["https://example.com/data/train.parquet"] },
    output: { image: "myregistry.azurecr.io/phi-3-adapter:0.0.1", imagePushSecret: "registry-push" },
  },
} satisfies Workspace;

/** A valid inference Workspace with a preset and one adapter. */
export function validInferenceWorkspace(): JsonObject {
  return structuredClone(inferenceBase) as JsonObject;
}

/** A valid qlora tuning Workspace reading URLs and pushing an image. */
export function validTuningWorkspace(): JsonObject {
  return structuredClone(tuningBase) as JsonObject;
}

function inference(name: string, patch: JsonObject, field: string, hint: string, status: 400 | 422 = 422) {
  return { name, workspace: mergePatch(validInferenceWorkspace(), patch) as JsonObject, status, field, hint };
}

function tuning(name: string, patch: JsonObject, field: string, hint: string, status: 400 | 422 = 422) {
  return { name, workspace: mergePatch(validTuningWorkspace(), patch) as JsonObject, status, field, hint };
}

function adapter(source: JsonValue, strength: JsonValue = "0.5"): JsonObject {
  return { inference: { adapters: [{ source, strength }] } };
}

const adapterImage = "myregistry.azurecr.io/phi-3-adapter:0.0.1";

export const invalidWorkspaces: readonly InvalidWorkspaceCase[] = [
  // Which workload
  inference(
    "inference and tuning together",
    { tuning: tuningBase.tuning },
    "tuning",
    "exactly one of inference or tuning must be set, not both",
  ),
  inference(
    "neither inference nor tuning",
    { inference: null },
    "inference",
    "exactly one of inference or tuning",
  ),
  // resource
  inference(
    "no resource at all",
    { resource: null },
    "resource.labelSelector",
    "resource.labelSelector is required",
  ),
  inference(
    "resource without labelSelector",
    { resource: { labelSelector: null } },
    "resource.labelSelector",
    "resource.labelSelector is required",
  ),
  inference(
    "empty labelSelector",
    { resource: { labelSelector: { matchLabels: null } } },
    "resource.labelSelector",
    "must not be empty",
  ),
  inference(
    "labelSelector expression the operator cannot label nodes with",
    { resource: { labelSelector: { matchExpressions: [{ key: "gpu", operator: "Exists" }] } } },
    "resource.labelSelector.matchExpressions",
    "operator In with exactly one value",
  ),
  inference("count 0", { resource: { count: 0 } }, "resource.count", "resource.count must be at least 1"),
  inference(
    "count of the wrong type",
    { resource: { count: "two" } },
    "resource.count",
    "must be of type integer",
  ),
  tuning(
    "multi-node tuning",
    { resource: { count: 2 } },
    "resource.count",
    "resource.count must be 1 for tuning",
  ),
  // inference
  inference(
    "empty preset name",
    { inference: { preset: { name: "" } } },
    "inference.preset.name",
    "is required",
  ),
  inference(
    "preset of the wrong type",
    { inference: { preset: "phi-3" } },
    "inference.preset",
    "must be of type object",
  ),
  inference(
    "unknown access mode",
    { inference: { preset: { accessMode: "internal" } } },
    "inference.preset.accessMode",
    'supported values: "public", "private"',
  ),
  inference(
    "private access mode without an image",
    { inference: { preset: { accessMode: "private" } } },
    "inference.preset.presetOptions.image",
    "required when accessMode is private",
  ),
  inference(
    "a model access secret that is not a Secret name",
    { inference: { preset: { presetOptions: { modelAccessSecret: "HF Token" } } } },
    "inference.preset.presetOptions.modelAccessSecret",
    "must be a Secret name",
  ),
  inference(
    "preset and template together",
    { inference: { template: { spec: { containers: [{ name: "model", image: "example.com/model:1" }] } } } },
    "inference",
    "exactly one of preset or template",
  ),
  inference(
    "neither preset nor template",
    { inference: { preset: null, adapters: null } },
    "inference",
    "exactly one of preset or template",
  ),
  inference(
    "adapter strength 2.0",
    adapter({ name: "a1", image: adapterImage }, "2.0"),
    "inference.adapters[0].strength",
    "must be a decimal between 0 and 1",
  ),
  inference(
    "adapter strength abc",
    adapter({ name: "a1", image: adapterImage }, "abc"),
    "inference.adapters[0].strength",
    "must be a decimal between 0 and 1",
  ),
  inference(
    "negative adapter strength",
    adapter({ name: "a1", image: adapterImage }, "-0.5"),
    "inference.adapters[0].strength",
    "must be a decimal between 0 and 1",
  ),
  inference(
    "adapter strength as a number",
    adapter({ name: "a1", image: adapterImage }, 0.5),
    "inference.adapters[0].strength",
    "must be of type string",
  ),
  inference(
    "adapter without a source",
    { inference: { adapters: [{ strength: "0.5" }] } },
    "inference.adapters[0].source",
    "source is required",
  ),
  inference(
    "adapter without a source image",
    adapter({ name: "a1" }),
    "inference.adapters[0].source.image",
    "source.image is required",
  ),
  inference(
    "adapter image without a registry and tag",
    adapter({ name: "a1", image: "phi-3-adapter" }),
    "inference.adapters[0].source.image",
    "must be a full image reference",
  ),
  inference(
    "adapter name that is not a DNS subdomain",
    adapter({ name: "Phi_3", image: adapterImage }),
    "inference.adapters[0].source.name",
    "must be a DNS subdomain",
  ),
  inference(
    "two adapters with one name",
    { inference: { adapters: [1, 2].map(() => ({ source: { name: "a1", image: adapterImage } })) } },
    "inference.adapters",
    "must be unique",
  ),
  inference(
    "eleven adapters",
    {
      inference: {
        adapters: Array.from({ length: 11 }, (_, i) => ({ source: { name: `a${i}`, image: adapterImage } })),
      },
    },
    "inference.adapters",
    "must have at most 10 items",
  ),
  inference(
    "adapters of the wrong type",
    { inference: { adapters: "phi-3-adapter" } },
    "inference.adapters",
    "must be of type array",
  ),
  // tuning
  tuning(
    "unknown tuning method",
    { tuning: { method: "sft" } },
    "tuning.method",
    "tuning.method must be lora or qlora",
  ),
  tuning("no tuning method", { tuning: { method: null } }, "tuning.method", "tuning.method is required"),
  tuning("no tuning preset", { tuning: { preset: null } }, "tuning.preset", "tuning.preset is required"),
  tuning(
    "empty tuning preset name",
    { tuning: { preset: { name: "" } } },
    "tuning.preset.name",
    "is required",
  ),
  tuning(
    "tuning input with both urls and image",
    { tuning: { input: { image: "myregistry.azurecr.io/dataset:1" } } },
    "tuning.input",
    "exactly one of urls, image or volumeSource",
  ),
  tuning(
    "tuning input with no data",
    { tuning: { input: { urls: null, name: "dataset" } } },
    "tuning.input",
    "exactly one of urls, image or volumeSource",
  ),
  tuning(
    "tuning urls of the wrong type",
    { tuning: { input: { urls: "https://example.com/a" } } },
    "tuning.input.urls",
    "must be of type array",
  ),
  tuning("no tuning output", { tuning: { output: null } }, "tuning.output", "tuning.output is required"),
  tuning(
    "output image without imagePushSecret",
    { tuning: { output: { imagePushSecret: null } } },
    "tuning.output.imagePushSecret",
    "imagePushSecret is required with tuning.output.image",
  ),
  tuning(
    "output with both image and volumeSource",
    { tuning: { output: { volumeSource: { emptyDir: {} } } } },
    "tuning.output",
    "exactly one of image or volumeSource",
  ),
  tuning(
    "output image without a tag",
    { tuning: { output: { image: "myregistry.azurecr.io/adapter" } } },
    "tuning.output.image",
    "must be a full image reference",
  ),
  // KAITO v1beta1's fields, accepted in both versions
  inference(
    "partition with an instance type",
    { resource: { partition: { mode: "mig", profile: "1g.10gb" } } },
    "resource.partition",
    "resource.partition needs bring-your-own nodes",
  ),
  inference(
    "MIG partition without a profile",
    { resource: { instanceType: null, partition: { mode: "mig" } } },
    "resource.partition.profile",
    "must name a MIG profile such as 1g.10gb",
  ),
  inference(
    "unknown partition mode",
    { resource: { instanceType: null, partition: { mode: "mps", profile: "1g.10gb" } } },
    "resource.partition.mode",
    'supported values: "mig", "accelerator"',
  ),
  tuning(
    "partition for tuning",
    { resource: { instanceType: null, partition: { mode: "mig", profile: "1g.10gb" } } },
    "resource.partition",
    "resource.partition is for inference only",
  ),
  // Names and unknown fields
  inference(
    "a name the inference Service cannot take",
    { metadata: { name: "phi-3.v2" } },
    "metadata.name",
    "metadata.name must be a DNS label",
  ),
  inference("unknown top-level field", { spec: { replicas: 2 } }, "spec", 'unknown field "spec"', 400),
  inference(
    "misspelt field",
    { resource: { instancetype: "Standard_NC6s_v3" } },
    "resource.instancetype",
    'unknown field "resource.instancetype"',
    400,
  ),
];

export const invalidWorkspaceUpdates: readonly InvalidWorkspaceUpdate[] = [
  {
    name: "changing resource.instanceType",
    base: validInferenceWorkspace(),
    patch: { resource: { instanceType: "Standard_NC12s_v3" } },
    field: "resource.instanceType",
    hint: "resource.instanceType is immutable",
  },
  {
    name: "removing resource.instanceType",
    base: validInferenceWorkspace(),
    patch: { resource: { instanceType: null } },
    field: "resource.instanceType",
    hint: "resource.instanceType is immutable",
  },
  {
    name: "changing resource.count",
    base: validInferenceWorkspace(),
    patch: { resource: { count: 2 } },
    field: "resource.count",
    hint: "resource.count is immutable",
  },
  {
    name: "switching from inference to tuning",
    base: validInferenceWorkspace(),
    patch: { inference: null, tuning: tuningBase.tuning },
    field: "tuning",
    hint: "cannot switch between inference and tuning",
  },
  {
    name: "changing resource.partition",
    base: mergePatch(validInferenceWorkspace(), {
      resource: { instanceType: null, partition: { mode: "mig", profile: "1g.10gb" } },
    }) as JsonObject,
    patch: { resource: { partition: { profile: "2g.20gb" } } },
    field: "resource.partition",
    hint: "resource.partition is immutable",
  },
  {
    name: "changing tuning.method",
    base: validTuningWorkspace(),
    patch: { tuning: { method: "lora" } },
    field: "tuning.method",
    hint: "tuning.method is immutable",
  },
  {
    name: "changing the tuned model",
    base: validTuningWorkspace(),
    patch: { tuning: { preset: { name: "phi-3-mini-128k-instruct" } } },
    field: "tuning.preset.name",
    hint: "tuning.preset.name is immutable",
  },
];

export interface InvalidInferenceSetCase {
  name: string;
  inferenceSet: JsonObject;
  status: 400 | 422;
  field: string;
  hint: string;
}

const inferenceSetBase = {
  apiVersion: legacyApiVersion.replace(workspaceLegacyVersion, "v1beta1"),
  kind: inferenceSetKind,
  spec: {
    replicas: 2,
    labelSelector: { matchLabels: { apps: "mistral-7b" } },
    template: {
      resource: { instanceType: "Standard_NC24ads_A100_v4" },
      inference: { preset: { name: "mistral-7b-instruct" } },
    },
  },
} satisfies InferenceSet;

/** A valid InferenceSet of two mistral-7b-instruct replicas (KAITO's example). */
export function validInferenceSet(): JsonObject {
  return structuredClone(inferenceSetBase) as JsonObject;
}

function set(name: string, patch: JsonObject, field: string, hint: string, status: 400 | 422 = 422) {
  return { name, inferenceSet: mergePatch(validInferenceSet(), patch) as JsonObject, status, field, hint };
}

export const invalidInferenceSets: readonly InvalidInferenceSetCase[] = [
  set(
    "negative replicas",
    { spec: { replicas: -1 } },
    "spec.replicas",
    "should be greater than or equal to 0",
  ),
  set("no spec", { spec: null }, "spec", "Required value"),
  set(
    "no labelSelector",
    { spec: { labelSelector: null } },
    "spec.labelSelector",
    "spec.labelSelector is required",
  ),
  set(
    "empty labelSelector",
    { spec: { labelSelector: { matchLabels: null } } },
    "spec.labelSelector",
    "spec.labelSelector must not be empty",
  ),
  set("no template", { spec: { template: null } }, "spec.template", "spec.template is required"),
  set(
    "template without inference",
    { spec: { template: { inference: null } } },
    "spec.template.inference",
    "spec.template.inference is required",
  ),
  set(
    "template with neither preset nor template",
    { spec: { template: { inference: { preset: null } } } },
    "spec.template.inference",
    "exactly one of preset or template",
  ),
  set(
    "empty preset name",
    { spec: { template: { inference: { preset: { name: "" } } } } },
    "spec.template.inference.preset.name",
    "is required",
  ),
  set(
    "adapter strength 2.0",
    {
      spec: {
        template: {
          inference: {
            adapters: [{ source: { name: "a1", image: "myregistry.azurecr.io/a:1" }, strength: "2.0" }],
          },
        },
      },
    },
    "spec.template.inference.adapters[0].strength",
    "must be a decimal between 0 and 1",
  ),
  set(
    "negative nodeCountLimit",
    { spec: { nodeCountLimit: -1 } },
    "spec.nodeCountLimit",
    "should be greater than or equal to 0",
  ),
  set(
    "unknown update strategy",
    { spec: { updateStrategy: { type: "Recreate" } } },
    "spec.updateStrategy.type",
    'supported values: "RollingUpdate", "OnDelete"',
  ),
  set(
    "maxUnavailable 0",
    { spec: { updateStrategy: { rollingUpdate: { maxUnavailable: 0 } } } },
    "spec.updateStrategy.rollingUpdate.maxUnavailable",
    "must be a number of at least 1 or a percentage",
  ),
  set(
    "partition with an instance type",
    { spec: { template: { resource: { partition: { mode: "mig", profile: "1g.10gb" } } } } },
    "spec.template.resource.partition",
    "needs bring-your-own nodes",
  ),
  set(
    "a name too long for its replicas' Workspaces",
    { metadata: { name: `m${"x".repeat(58)}` } },
    "metadata.name",
    "at most 58 characters",
  ),
  set("misspelt field", { spec: { replica: 2 } }, "spec.replica", 'unknown field "spec.replica"', 400),
];
