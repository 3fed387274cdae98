import type { V1ConfigMap } from "@kubernetes/client-node";
import { parse } from "yaml";
import type { Workspace } from "../../crds/index.ts";
import { contract, type TuningMethod } from "../../presets/index.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import { isAlreadyExists, isNotFound } from "../../kube/errors.ts";
import { resources as api } from "../../kube/resources.ts";

type ConfigMap = V1ConfigMap & KubeObject;

/**
 * A ConfigMap the workload needs is missing or unusable. The user fixes it by editing the
 * ConfigMap, which does not change the Workspace, so the reconcile retries with back-off
 * instead of giving up.
 */
export class WorkloadConfigError extends Error {
  override readonly name = "WorkloadConfigError";
}

export function isWorkloadConfigError(e: unknown): e is WorkloadConfigError {
  return e instanceof WorkloadConfigError || (e instanceof Error && e.name === "WorkloadConfigError");
}

/** The default ConfigMaps' data, by name (presets/runtime/contract.ts). */
function defaultData(name: string): Record<string, string> | undefined {
  if (name === contract.DEFAULT_INFERENCE_CONFIGMAP)
    return { [contract.INFERENCE_CONFIG_KEY]: contract.defaultInferenceConfig() };
  for (const method of Object.keys(contract.DEFAULT_TUNING_CONFIGMAP) as TuningMethod[])
    if (name === contract.DEFAULT_TUNING_CONFIGMAP[method])
      return { [contract.TRAINING_CONFIG_KEY]: contract.defaultTrainingConfig(method) };
  return undefined;
}

/**
 * The config ConfigMap of a workload, made usable: a named one (inference.config,
 * tuning.config) must exist and hold `key`; a default one is created in the workspace's
 * namespace when absent, as KAITO copies its templates there, and never overwritten, so a user
 * may edit it. Default ConfigMaps are shared by the namespace's workspaces and have no owner.
 */
export async function ensureConfigMap(
  client: KubeClient,
  ws: Workspace,
  named: string | undefined,
  defaultName: string,
  key: string,
  field: string,
): Promise<ConfigMap> {
  const namespace = ws.metadata!.namespace!;
  const name = named ?? defaultName;
  let cm: ConfigMap | undefined;
  try {
    cm = await client.get<ConfigMap>(api.configMaps, name, namespace);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  if (!cm && named) {
    throw new WorkloadConfigError(
      `${field} names the ConfigMap "${name}", which is not in namespace ${namespace}; create it with a "${key}" key.`,
    );
  }
  if (!cm) {
    const data = defaultData(name)!;
    const body: ConfigMap = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace, labels: { "app.kubernetes.io/managed-by": "kaito-ts" } },
      data,
    };
    try {
      cm = await client.create<ConfigMap>(api.configMaps, body);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      cm = await client.get<ConfigMap>(api.configMaps, name, namespace);
    }
  }
  if (cm.data?.[key] === undefined) {
    throw new WorkloadConfigError(
      `the ConfigMap "${name}" in namespace ${namespace} has no "${key}" key, which the ${field === "inference.config" ? "inference server" : "tuning script"} reads; add it.`,
    );
  }
  return cm;
}

/**
 * The results directory of a tuning run: TrainingArguments.output_dir of its config, resolved
 * as KAITO does (under /mnt; /mnt/output when absent).
 */
export function trainingOutputDir(cm: ConfigMap): string {
  let doc: unknown;
  try {
    doc = parse(cm.data?.[contract.TRAINING_CONFIG_KEY] ?? "");
  } catch (e) {
    throw new WorkloadConfigError(
      `the ConfigMap "${cm.metadata?.name}" holds a ${contract.TRAINING_CONFIG_KEY} that is not valid YAML (${(e as Error).message}); fix it.`,
    );
  }
  const outputDir = (doc as { training_config?: { TrainingArguments?: { output_dir?: unknown } } } | null)
    ?.training_config?.TrainingArguments?.output_dir;
  if (outputDir !== undefined && typeof outputDir !== "string") {
    throw new WorkloadConfigError(
      `TrainingArguments.output_dir in the ConfigMap "${cm.metadata?.name}" must be a string such as ${contract.TEMPLATE_OUTPUT_DIR}.`,
    );
  }
  try {
    return contract.resolveOutputDir(outputDir);
  } catch (e) {
    throw new WorkloadConfigError(`in the ConfigMap "${cm.metadata?.name}", ${(e as Error).message}`);
  }
}
