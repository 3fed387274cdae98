/**
 * The InferenceSet CRD: the one source of truth for crds/inferencesets.kaito.sh.yaml. Fields
 * follow KAITO's api/v1beta1/inferenceset_types.go; the checks of its _validation.go and the
 * Workspace's own (the template becomes each replica's Workspace) run here as CEL rules, so a set
 * whose replicas would be refused is refused itself, with messages that name the field.
 */
import { ageColumn, customResourceDefinition, type CustomResourceDefinition } from "../crd.ts";
import { conditions } from "../core/schema.ts";
import { bool, int, map, obj, rule, str, type JSONSchemaProps } from "../openapi.ts";
import { inferenceSchema, nodeLabelSelector, partitionSchema } from "../workspace/schema.ts";
import {
  autoUpgradeStrategies,
  inferenceSetGroup,
  inferenceSetKind,
  inferenceSetLegacyVersion,
  inferenceSetNameMax,
  inferenceSetPlural,
  inferenceSetShortNames,
  inferenceSetSingular,
  inferenceSetVersion,
  updateStrategyTypes,
} from "./constants.ts";

const template = obj(
  "What every replica runs: each becomes a Workspace with these labels, resource and inference.",
  {
    metadata: obj(
      "Labels and annotations copied onto every replica's Workspace, e.g. kaito.sh/runtime.",
      {
        labels: map("Labels of the replicas' Workspaces.", str()),
        annotations: map("Annotations of the replicas' Workspaces.", str()),
      },
      // KAITO keeps this schemaless; other ObjectMeta fields are accepted and ignored.
      { "x-kubernetes-preserve-unknown-fields": true },
    ),
    resource: obj(
      "The GPU nodes of each replica; their labels are spec.labelSelector.",
      {
        instanceType: str(
          "The GPU VM size of every replica, e.g. Standard_NC24ads_A100_v4. Absent: the planner chooses.",
          { maxLength: 128 },
        ),
        partition: partitionSchema("spec.template.resource.partition", "InferenceSet"),
      },
      {
        "x-kubernetes-validations": [
          rule(
            "!has(self.partition) || !has(self.instanceType)",
            "spec.template.resource.partition needs bring-your-own nodes: leave spec.template.resource.instanceType out",
            { fieldPath: ".partition" },
          ),
        ],
      },
    ),
    inference: inferenceSchema("spec.template.inference"),
  },
  {
    "x-kubernetes-validations": [
      rule(
        "has(self.inference)",
        "spec.template.inference is required: name the model every replica serves, e.g. preset.name: mistral-7b-instruct",
        { fieldPath: ".inference", reason: "FieldValueRequired" },
      ),
    ],
  },
);

const updateStrategy = obj(
  "How replicas are replaced when the template changes (apps/v1 StatefulSetUpdateStrategy).",
  {
    type: str("RollingUpdate (default) or OnDelete.", { enum: [...updateStrategyTypes] }),
    rollingUpdate: obj("Limits of a rolling update.", {
      maxUnavailable: {
        description: "Replicas that may be unavailable during the update: a number or a percentage.",
        anyOf: [{ type: "integer" }, { type: "string" }],
        "x-kubernetes-int-or-string": true,
        "x-kubernetes-validations": [
          rule(
            "type(self) == int ? self >= 1 : self.matches('^[1-9][0-9]?%$|^100%$')",
            "spec.updateStrategy.rollingUpdate.maxUnavailable must be a number of at least 1 or a percentage such as 25%",
          ),
        ],
      },
      partition: int("Replicas with an index below this keep the old template.", {
        format: "int32",
        minimum: 0,
      }),
    }),
  },
  { default: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } } },
);

const autoUpgrade = obj(
  "KAITO's automatic base-image upgrades. Accepted for compatibility; kaito-ts does not act on them.",
  {
    enabled: bool("Upgrade replicas when a newer base image ships.", { default: false }),
    strategy: str("InPlace (default) or Surge.", { enum: [...autoUpgradeStrategies], default: "InPlace" }),
    maintenanceWindow: obj(
      "When upgrades may start.",
      {
        schedule: str("A 5-field cron expression in UTC, e.g. 0 2 * * 6.", {
          minLength: 9,
          maxLength: 128,
        }),
        duration: str("How long the window stays open, e.g. 4h.", {
          default: "4h",
          pattern: String.raw`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`,
        }),
      },
      { required: ["schedule"] },
    ),
  },
);

const spec = obj(
  "The replicas and what each runs.",
  {
    replicas: int("Workspaces to run; 0 scales to zero. The scale subresource reads and writes it.", {
      format: "int32",
      default: 1,
      minimum: 0,
    }),
    labelSelector: nodeLabelSelector("spec.labelSelector"),
    template,
    nodeCountLimit: int("Most GPU nodes the replicas may use together; 0 or absent: no limit.", {
      minimum: 0,
    }),
    updateStrategy,
    autoUpgrade,
  },
  {
    "x-kubernetes-validations": [
      rule(
        "has(self.labelSelector)",
        "spec.labelSelector is required: add matchLabels the replicas' GPU nodes carry, e.g. apps: mistral-7b",
        { fieldPath: ".labelSelector", reason: "FieldValueRequired" },
      ),
      rule("has(self.template)", "spec.template is required: give the inference every replica runs", {
        fieldPath: ".template",
        reason: "FieldValueRequired",
      }),
    ],
  },
);

const performanceMetric = obj(
  "One benchmark measurement.",
  {
    description: str("The benchmark and its load pattern."),
    value: str("The measured value."),
    unit: str("The unit of value."),
    config: map("The benchmark's parameters.", str()),
  },
  { required: ["description", "value"] },
);

const status = obj("Written by the controller.", {
  replicas: int("Workspaces the set runs.", { minimum: 0 }),
  readyReplicas: int("Workspaces whose WorkspaceReady is True.", { minimum: 0 }),
  selector: str("The label selector of the replicas' Workspaces, for the scale subresource."),
  conditions: conditions("InferenceSetReady and InferenceSetDeleting."),
  performance: obj("Benchmark results summed over the replicas (KAITO v1beta1).", {
    metrics: map("Metric name to measurement.", performanceMetric),
  }),
  nodeCount: int("GPU nodes the replicas use, each counted once.", { minimum: 0 }),
  observedGeneration: int("The metadata.generation this status describes.", { format: "int64", minimum: 0 }),
});

export const inferenceSetSchema: JSONSchemaProps = obj(
  "Several replicas of one model, each a Workspace, scaled by kubectl scale, an HPA or KEDA.",
  { spec, status },
  {
    required: ["spec"],
    "x-kubernetes-validations": [
      rule(
        `size(self.metadata.name) <= ${inferenceSetNameMax} && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')`,
        `metadata.name must be a DNS label of at most ${inferenceSetNameMax} characters (lower-case letters, digits and '-', starting with a letter): each replica's Workspace is named after it plus "-<index>"`,
      ),
    ],
  },
);

export const inferenceSetCrd: CustomResourceDefinition = customResourceDefinition({
  group: inferenceSetGroup,
  version: inferenceSetVersion,
  alsoServed: [inferenceSetLegacyVersion],
  kind: inferenceSetKind,
  plural: inferenceSetPlural,
  singular: inferenceSetSingular,
  scope: "Namespaced",
  shortNames: [...inferenceSetShortNames],
  categories: ["inferenceset"],
  // KAITO's columns.
  columns: [
    { name: "Replicas", type: "integer", jsonPath: ".spec.replicas" },
    { name: "ReadyReplicas", type: "integer", jsonPath: ".status.readyReplicas" },
    ageColumn,
  ],
  schema: inferenceSetSchema,
  scale: {
    specReplicasPath: ".spec.replicas",
    statusReplicasPath: ".status.replicas",
    labelSelectorPath: ".status.selector",
  },
});
