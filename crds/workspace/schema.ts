/**
 * The Workspace CRD: the one source of truth for crds/workspaces.kaito.sh.yaml (written by
 * crds/generate.ts). Field names and shapes follow KAITO's v1alpha1 API; the checks KAITO runs in
 * its admission webhook run here as CEL rules, so the API server itself rejects a bad Workspace,
 * and every message names the field and says what to change.
 */
import {
  ageColumn,
  conditionColumn,
  customResourceDefinition,
  type CustomResourceDefinition,
} from "../crd.ts";
import { conditions, labelSelector } from "../core/schema.ts";
import {
  arr,
  int,
  map,
  obj,
  opaque,
  rule,
  str,
  type JSONSchemaProps,
  type ValidationRule,
} from "../openapi.ts";
import {
  accessModes,
  partitionModes,
  workspaceStates,
  maxAdapters,
  workspaceGroup,
  workspaceKind,
  workspacePlural,
  workspaceShortNames,
  workspaceSingular,
  workspaceLegacyVersion,
  workspaceVersion,
} from "./constants.ts";

const dnsSubdomain = String.raw`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`;
// registry/repository[/...]:tag or @sha256:digest. KAITO asks for a registry and a tag too, since
// a bare "ubuntu" cannot say where a tuning job pushes or pulls.
const imageReference = String.raw`^[^\s/]+(/[^\s/:@]+)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$`;
// A MIG profile: compute slices and memory, "1g.10gb", "3g.40gb".
const migProfile = String.raw`^[0-9]+g\.[0-9]+gb$`;
// A plain decimal ("1", "0.5", ".5", "1."); the range check then parses it.
const decimal = String.raw`^([0-9]+\.?[0-9]*|\.[0-9]+)$`;

/** A CEL string literal: regexes carry backslashes, which CEL strings must escape. */
function celString(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** True when the named string field is present and non-empty (CEL). */
function set(field: string): string {
  return `(has(self.${field}) && self.${field} != '')`;
}

/** True when the named list field is present and non-empty (CEL). */
function nonEmpty(field: string): string {
  return `(has(self.${field}) && size(self.${field}) > 0)`;
}

/** The number of true conditions among `presence` (CEL). */
function countTrue(presence: string[]): string {
  return presence.map((p) => `(${p} ? 1 : 0)`).join(" + ");
}

function image(path: string, description: string): JSONSchemaProps {
  return str(description, {
    maxLength: 1024,
    "x-kubernetes-validations": [
      {
        rule: `self.matches(${celString(imageReference)})`,
        message: `${path} must be a full image reference such as myregistry.azurecr.io/phi-3-adapter:0.0.1`,
        messageExpression: `'${path} must be a full image reference, registry/repository:tag such as myregistry.azurecr.io/phi-3-adapter:0.0.1, not "' + self + '"'`,
      },
    ],
  });
}

function secretNames(description: string): JSONSchemaProps {
  return arr(description, str("", { maxLength: 253 }));
}

function preset(path: string): JSONSchemaProps {
  return obj(
    "The model, from the preset catalogue, and where its image comes from.",
    {
      name: str(
        "A preset of the catalogue (e.g. phi-3-mini-4k-instruct), or a Hugging Face model id (e.g. Qwen/Qwen3-8B) served with vLLM.",
        { maxLength: 253 },
      ),
      accessMode: str("public (default): the preset's image; private: presetOptions.image.", {
        enum: [...accessModes],
        default: "public",
      }),
      presetOptions: obj("Where a private model image comes from, and the token for gated model downloads.", {
        image: str("The model image.", { maxLength: 1024 }),
        imagePullSecrets: secretNames("Secrets in the Workspace's namespace for pulling the image."),
        // KAITO's v1beta1 field, accepted here too: presets that download gated weights need it.
        modelAccessSecret: str(
          "A Secret in the Workspace's namespace whose HF_TOKEN key holds a Hugging Face access token, for models whose weights are gated.",
          {
            maxLength: 253,
            "x-kubernetes-validations": [
              rule(
                `self.matches(${celString(dnsSubdomain)})`,
                `${path}.presetOptions.modelAccessSecret must be a Secret name: lower-case letters, digits, '-' and '.'`,
              ),
            ],
          },
        ),
      }),
    },
    {
      "x-kubernetes-validations": [
        rule(set("name"), `${path}.name is required: name a model preset such as phi-3-mini-4k-instruct`, {
          fieldPath: ".name",
          reason: "FieldValueRequired",
        }),
        rule(
          `!has(self.accessMode) || self.accessMode != 'private' || (has(self.presetOptions) && ${set("presetOptions.image")})`,
          `${path}.presetOptions.image is required when accessMode is private: give the private model image`,
          { fieldPath: ".presetOptions.image", reason: "FieldValueRequired" },
        ),
      ],
    },
  );
}

/** KAITO's DataSource; `rules` say which of its fields a given use needs. */
function dataSource(path: string, description: string, rules: ValidationRule[]): JSONSchemaProps {
  return obj(
    description,
    {
      name: str("A DNS subdomain; also names the container that fetches the data.", {
        maxLength: 253,
        "x-kubernetes-validations": [
          rule(
            `self.matches(${celString(dnsSubdomain)})`,
            `${path}.name must be a DNS subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`,
          ),
        ],
      }),
      urls: arr("Public URLs of the data files.", str("", { maxLength: 4096 })),
      image: image(`${path}.image`, "An image that holds the data under /data."),
      volumeSource: opaque("A core/v1 VolumeSource that holds the data."),
      imagePullSecrets: secretNames("Secrets in the Workspace's namespace for pulling the image."),
    },
    { "x-kubernetes-validations": rules },
  );
}

/**
 * The labels of the GPU nodes a workload runs on: matchLabels, or In expressions with one value,
 * since the operator puts these labels on the nodes it creates.
 */
export function nodeLabelSelector(path: string): JSONSchemaProps {
  return {
    // A CEL rule walks matchExpressions, which needs a bound to fit the cost budget.
    ...labelSelector("The labels of the GPU nodes; created nodes get its matchLabels.", {
      maxExpressions: 16,
    }),
    "x-kubernetes-validations": [
      rule(
        "(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)",
        `${path} must not be empty: add matchLabels that the GPU nodes carry, e.g. apps: phi-3`,
      ),
      rule(
        "!has(self.matchExpressions) || self.matchExpressions.all(e, e.operator == 'In' && has(e.values) && size(e.values) == 1)",
        `${path}.matchExpressions may only use operator In with exactly one value: the operator puts these labels on the nodes it creates`,
        { fieldPath: ".matchExpressions" },
      ),
    ],
  };
}

/** KAITO v1beta1's GPU partitioning of a replica's GPU (resource.partition). */
export function partitionSchema(path: string, owner: string): JSONSchemaProps {
  return obj(
    "GPU partitioning (KAITO v1beta1): run each replica on a GPU slice of bring-your-own nodes instead of whole GPUs.",
    {
      mode: str("The partitioning technology: mig (NVIDIA Multi-Instance GPU) or accelerator.", {
        enum: [...partitionModes],
      }),
      profile: str('The partition profile, e.g. "1g.10gb" for MIG.', { maxLength: 63 }),
    },
    {
      required: ["mode"],
      "x-kubernetes-validations": [
        rule(
          `self.mode != 'mig' || (has(self.profile) && self.profile.matches(${celString(migProfile)}))`,
          `${path}.profile must name a MIG profile such as 1g.10gb when mode is mig`,
          { fieldPath: ".profile" },
        ),
        rule("self == oldSelf", `${path} is immutable: create a new ${owner} to change it`),
      ],
    },
  );
}

const resource = obj(
  "The GPU nodes the workload runs on. Nodes matching labelSelector are used; the operator creates the rest.",
  {
    instanceType: str(
      "The GPU VM size, e.g. Standard_NC6s_v3. Absent: the planner picks the cheapest that fits.",
      {
        maxLength: 128,
      },
    ),
    count: int("The number of GPU nodes.", {
      format: "int32",
      default: 1,
      "x-kubernetes-validations": [
        rule("self >= 1", "resource.count must be at least 1: it is the number of GPU nodes"),
        rule("self == oldSelf", "resource.count is immutable: create a new Workspace to change it"),
      ],
    }),
    labelSelector: nodeLabelSelector("resource.labelSelector"),
    partition: partitionSchema("resource.partition", "Workspace"),
    preferredNodes: arr(
      "Existing nodes to use first; nodes without the selector's labels are ignored.",
      str("", {
        maxLength: 253,
      }),
    ),
  },
  {
    "x-kubernetes-validations": [
      rule(
        "has(self.instanceType) == has(oldSelf.instanceType) && (!has(self.instanceType) || self.instanceType == oldSelf.instanceType)",
        "resource.instanceType is immutable: create a new Workspace to change it",
        { fieldPath: ".instanceType" },
      ),
    ],
  },
);

function adapter(path: string): JSONSchemaProps {
  return obj(
    "An adapter applied on top of the preset's weights.",
    {
      source: dataSource(`${path}[].source`, "The adapter's name and image.", [
        rule(set("name"), `${path}[].source.name is required: it names the adapter and its container`, {
          fieldPath: ".name",
          reason: "FieldValueRequired",
        }),
        rule(set("image"), `${path}[].source.image is required: adapters are pulled from a container image`, {
          fieldPath: ".image",
          reason: "FieldValueRequired",
        }),
        rule(
          "!has(self.urls) && !has(self.volumeSource)",
          `${path}[].source takes an image only: remove urls and volumeSource`,
        ),
      ]),
      strength: str('How strongly the adapter applies: a decimal string from "0" to "1".', {
        maxLength: 32,
        default: "1.0",
        "x-kubernetes-validations": [
          {
            rule: `self.matches(${celString(decimal)}) && double(self) <= 1.0`,
            message: `${path}[].strength must be a decimal between 0 and 1, such as "0.5"`,
            messageExpression: `'${path}[].strength must be a decimal between 0 and 1, such as "0.5", not "' + self + '"'`,
          },
        ],
      }),
    },
    {
      "x-kubernetes-validations": [
        rule("has(self.source)", `${path}[].source is required: give the adapter's name and image`, {
          fieldPath: ".source",
          reason: "FieldValueRequired",
        }),
      ],
    },
  );
}

/** The inference section, at `path` (inference in a Workspace, spec.template.inference in an InferenceSet). */
export function inferenceSchema(path: string): JSONSchemaProps {
  return obj(
    "Serve a model: a preset (optionally with adapters) or your own pod template.",
    {
      preset: preset(`${path}.preset`),
      template: opaque("A core/v1 PodTemplateSpec to run instead of a preset."),
      config: str("A ConfigMap in the Workspace's namespace with inference arguments.", { maxLength: 253 }),
      adapters: arr("Adapters applied to the preset's model.", adapter(`${path}.adapters`), {
        maxItems: maxAdapters,
        "x-kubernetes-validations": [
          rule(
            "self.all(a, !has(a.source) || !has(a.source.name) || self.exists_one(b, has(b.source) && has(b.source.name) && b.source.name == a.source.name))",
            `${path}.adapters[].source.name must be unique: give each adapter its own name`,
          ),
        ],
      }),
    },
    {
      "x-kubernetes-validations": [
        rule(
          "has(self.preset) != has(self.template)",
          `${path} needs exactly one of preset or template: name a preset, or give a pod template to run your own image`,
        ),
        rule(
          "!has(self.adapters) || size(self.adapters) == 0 || has(self.preset)",
          `${path}.adapters need ${path}.preset: adapters apply to a preset's model`,
          { fieldPath: ".adapters" },
        ),
      ],
    },
  );
}

const tuning = obj(
  "Fine-tune a preset's model with lora or qlora and store the resulting adapter.",
  {
    preset: preset("tuning.preset"),
    method: str("The parameter-efficient tuning method: lora or qlora.", {
      maxLength: 32,
      "x-kubernetes-validations": [
        {
          rule: "self in ['lora', 'qlora']",
          message: "tuning.method must be lora or qlora",
          messageExpression: `'tuning.method must be lora or qlora, not "' + self + '"'`,
        },
        rule(
          "self == oldSelf",
          "tuning.method is immutable: create a new Workspace to tune with another method",
        ),
      ],
    }),
    config: str(
      "A ConfigMap in the Workspace's namespace with tuning arguments; absent: the method's default.",
      {
        maxLength: 253,
      },
    ),
    input: dataSource("tuning.input", "The training data: exactly one of urls, image or volumeSource.", [
      rule(
        `${countTrue([nonEmpty("urls"), set("image"), "has(self.volumeSource)"])} == 1`,
        "tuning.input needs exactly one of urls, image or volumeSource",
      ),
    ]),
    output: obj(
      "Where the adapter goes: an image (with imagePushSecret) or a volume.",
      {
        image: image("tuning.output.image", "The image to push the adapter to."),
        imagePushSecret: str("A Secret in the Workspace's namespace that can push the image.", {
          maxLength: 253,
        }),
        volumeSource: opaque("A core/v1 VolumeSource to write the adapter to."),
      },
      {
        "x-kubernetes-validations": [
          rule(
            `${countTrue([set("image"), "has(self.volumeSource)"])} == 1`,
            "tuning.output needs exactly one of image or volumeSource",
          ),
          rule(
            `!${set("image")} || ${set("imagePushSecret")}`,
            "tuning.output.imagePushSecret is required with tuning.output.image: name the Secret that can push to the registry",
            { fieldPath: ".imagePushSecret", reason: "FieldValueRequired" },
          ),
        ],
      },
    ),
  },
  {
    "x-kubernetes-validations": [
      rule(
        "has(self.preset)",
        "tuning.preset is required: name the model to tune, e.g. phi-3-mini-4k-instruct",
        {
          fieldPath: ".preset",
          reason: "FieldValueRequired",
        },
      ),
      rule("has(self.method)", "tuning.method is required: set it to lora or qlora", {
        fieldPath: ".method",
        reason: "FieldValueRequired",
      }),
      rule(
        "has(self.input)",
        "tuning.input is required: give the training data as urls, an image or a volumeSource",
        {
          fieldPath: ".input",
          reason: "FieldValueRequired",
        },
      ),
      rule(
        "has(self.output)",
        "tuning.output is required: give an image with imagePushSecret, or a volumeSource, for the adapter",
        { fieldPath: ".output", reason: "FieldValueRequired" },
      ),
      rule(
        "!has(self.preset) || !has(oldSelf.preset) || !has(self.preset.name) || !has(oldSelf.preset.name) || self.preset.name == oldSelf.preset.name",
        "tuning.preset.name is immutable: create a new Workspace to tune another model",
        { fieldPath: ".preset.name" },
      ),
    ],
  },
);

const status = obj("Written by the controller.", {
  conditions: conditions(
    "ResourceReady, InferenceReady, JobStarted, WorkspaceSucceeded, WorkspaceReady and more.",
  ),
  workerNodes: arr("The nodes the workload runs on.", str()),
  instanceType: str("The VM size in use: resource.instanceType, or the planner's choice."),
  nodeCount: int("The number of nodes in use, existing ones included.", { format: "int32", minimum: 0 }),
  machines: arr("The Machines created for this Workspace.", str()),
  failedInstanceTypes: arr(
    "Instance types whose launch failed for lack of capacity or quota; the planner avoids them.",
    str(),
  ),
  placement: obj("How the workload is laid out on nodes: the planner's decision, kept so it stays stable.", {
    instanceType: str("The VM size of the new nodes."),
    replicas: int("Inference replicas (or 1 for tuning).", { format: "int32", minimum: 0 }),
    gpusPerPod: int("nvidia.com/gpu each pod requests.", { format: "int32", minimum: 0 }),
    nodesPerReplica: int("Nodes one replica spans: more than 1 for multi-node inference.", {
      format: "int32",
      minimum: 1,
    }),
    newNodes: int("Nodes created for the workspace.", { format: "int32", minimum: 0 }),
    existingNodes: arr("Nodes that existed already and take replicas.", str()),
    sharedNodes: arr(
      "Nodes this Workspace shares with others of the same labels, by their Machine or NodeClaim: launched for a Workspace planned together with it, or found with free GPUs by a later plan.",
      obj("A shared node's Machine or NodeClaim.", {
        name: str("The Machine's or NodeClaim's name."),
        launchedBy: str(
          "namespace/name of the Workspace that launched it when the plan was made; its owner now is the Workspace its kaito.sh/workspace labels name.",
        ),
      }),
    ),
  }),
  costPerHour: str("The hourly price in USD of the nodes created for this Workspace.", {
    pattern: String.raw`^[0-9]+(\.[0-9]+)?$`,
  }),
  observedGeneration: int("The metadata.generation this status describes.", { format: "int64", minimum: 0 }),
  // KAITO v1beta1's status fields.
  state: str("Pending, Ready or NotReady (inference); Running, Succeeded or Failed (tuning).", {
    enum: [...workspaceStates],
  }),
  targetNodeCount: int("The GPU nodes the workload needs, existing ones included.", {
    format: "int32",
    minimum: 0,
  }),
  performance: obj("Benchmark results of the loaded model, by metric name (KAITO v1beta1).", {
    metrics: map(
      "Metric name to measurement, e.g. peakTokensPerMinute.",
      obj(
        "One benchmark measurement.",
        {
          description: str("The benchmark and its load pattern."),
          value: str("The measured value."),
          unit: str("The unit of value, e.g. tokens/min."),
          config: map("The benchmark's parameters.", str()),
        },
        { required: ["description", "value"] },
      ),
    ),
  }),
});

export const workspaceSchema: JSONSchemaProps = obj(
  "A model to serve or tune on GPU nodes that the operator sizes and provisions.",
  { resource, inference: inferenceSchema("inference"), tuning, status },
  {
    "x-kubernetes-validations": [
      rule(
        "has(self.inference) || has(self.tuning)",
        "exactly one of inference or tuning must be set: add inference to serve a model, or tuning to fine-tune one",
        { fieldPath: ".inference", reason: "FieldValueRequired" },
      ),
      rule(
        "!(has(self.inference) && has(self.tuning))",
        "exactly one of inference or tuning must be set, not both: keep one and create a second Workspace for the other",
        { fieldPath: ".tuning", reason: "FieldValueForbidden" },
      ),
      rule(
        "size(self.metadata.name) <= 63 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",
        "metadata.name must be a DNS label: at most 63 lower-case letters, digits and '-', starting with a letter, because the Workspace's Service takes its name",
      ),
      rule(
        "has(self.resource) && has(self.resource.labelSelector)",
        "resource.labelSelector is required: add matchLabels that the GPU nodes carry, e.g. apps: phi-3",
        { fieldPath: ".resource.labelSelector", reason: "FieldValueRequired" },
      ),
      rule(
        "!has(self.tuning) || !has(self.resource) || !has(self.resource.count) || self.resource.count == 1",
        "resource.count must be 1 for tuning: tuning runs on a single node",
        { fieldPath: ".resource.count" },
      ),
      rule(
        "!has(self.resource) || !has(self.resource.partition) || !has(self.resource.instanceType)",
        "resource.partition needs bring-your-own nodes: leave resource.instanceType out",
        { fieldPath: ".resource.partition" },
      ),
      rule(
        "!has(self.tuning) || !has(self.resource) || !has(self.resource.partition)",
        "resource.partition is for inference only: tuning runs on whole GPUs",
        { fieldPath: ".resource.partition", reason: "FieldValueForbidden" },
      ),
      rule(
        "has(self.inference) == has(oldSelf.inference)",
        "inference cannot be added or removed after creation: a Workspace cannot switch between inference and tuning, create a new one instead",
        { fieldPath: ".inference" },
      ),
      rule(
        "has(self.tuning) == has(oldSelf.tuning)",
        "tuning cannot be added or removed after creation: a Workspace cannot switch between inference and tuning, create a new one instead",
        { fieldPath: ".tuning" },
      ),
    ],
  },
);

export const workspaceCrd: CustomResourceDefinition = customResourceDefinition({
  group: workspaceGroup,
  version: workspaceVersion,
  alsoServed: [workspaceLegacyVersion],
  kind: workspaceKind,
  plural: workspacePlural,
  singular: workspaceSingular,
  scope: "Namespaced",
  shortNames: [...workspaceShortNames],
  categories: ["workspace"],
  // INSTANCE shows what the Workspace runs on, which the controller records even when the
  // planner chose it; KAITO shows resource.instanceType, which is optional here.
  columns: [
    { name: "Instance", type: "string", jsonPath: ".status.instanceType" },
    conditionColumn("ResourceReady", "ResourceReady"),
    conditionColumn("InferenceReady", "InferenceReady"),
    conditionColumn("WorkspaceReady", "WorkspaceReady"),
    ageColumn,
    conditionColumn("JobStarted", "JobStarted", 1),
    conditionColumn("WorkspaceSucceeded", "WorkspaceSucceeded", 1),
  ],
  schema: workspaceSchema,
});
