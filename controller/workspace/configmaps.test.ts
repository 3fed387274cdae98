import type { V1ConfigMap } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { Workspace } from "../../crds/index.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import { KubeApiError } from "../../kube/errors.ts";
import { contract as c } from "../../presets/index.ts";
import { ensureConfigMap, isWorkloadConfigError, trainingOutputDir } from "./configmaps.ts";

type ConfigMap = V1ConfigMap & KubeObject;

/** ConfigMaps in a map, with the API server's NotFound and AlreadyExists. */
function store(initial: ConfigMap[] = []) {
  const objects = new Map(initial.map((o) => [`${o.metadata!.namespace}/${o.metadata!.name}`, o]));
  const created: string[] = [];
  const client = {
    get: async (_r: unknown, name: string, ns: string) => {
      const o = objects.get(`${ns}/${name}`);
      if (!o)
        throw new KubeApiError({ statusCode: 404, reason: "NotFound", message: "", method: "GET", path: "" });
      return structuredClone(o);
    },
    create: async (_r: unknown, o: ConfigMap) => {
      const key = `${o.metadata!.namespace}/${o.metadata!.name}`;
      if (objects.has(key))
        throw new KubeApiError({
          statusCode: 409,
          reason: "AlreadyExists",
          message: "",
          method: "POST",
          path: "",
        });
      objects.set(key, o);
      created.push(key);
      return o;
    },
  } as unknown as KubeClient;
  return { client, created, objects };
}

const ws: Workspace = { metadata: { name: "w", namespace: "ns" }, resource: { labelSelector: {} } };

describe("the workload's config ConfigMaps", () => {
  it("creates KAITO's default once in the workspace's namespace and leaves an edited one alone", async () => {
    const s = store();
    const cm = await ensureConfigMap(
      s.client,
      ws,
      undefined,
      "qlora-params-template",
      c.TRAINING_CONFIG_KEY,
      "tuning.config",
    );
    expect(s.created).toEqual(["ns/qlora-params-template"]);
    expect(cm.data![c.TRAINING_CONFIG_KEY]).toBe(c.defaultTrainingConfig("qlora"));
    s.objects.get("ns/qlora-params-template")!.data![c.TRAINING_CONFIG_KEY] =
      "training_config:\n  TrainingArguments:\n    output_dir: /mnt/mine\n";
    const again = await ensureConfigMap(
      s.client,
      ws,
      undefined,
      "qlora-params-template",
      c.TRAINING_CONFIG_KEY,
      "tuning.config",
    );
    expect(s.created).toHaveLength(1);
    expect(trainingOutputDir(again)).toBe("/mnt/mine");
  });

  it("says what to create when the named ConfigMap is missing or lacks the key the image reads", async () => {
    const s = store([{ metadata: { name: "mine", namespace: "ns" }, data: { "other.yaml": "" } }]);
    const missing = ensureConfigMap(
      s.client,
      ws,
      "absent",
      "inference-params-template",
      c.INFERENCE_CONFIG_KEY,
      "inference.config",
    );
    await expect(missing).rejects.toThrow(
      'inference.config names the ConfigMap "absent", which is not in namespace ns; create it with a "inference_config.yaml" key.',
    );
    await expect(missing).rejects.toSatisfy(isWorkloadConfigError);
    await expect(
      ensureConfigMap(
        s.client,
        ws,
        "mine",
        "inference-params-template",
        c.INFERENCE_CONFIG_KEY,
        "inference.config",
      ),
    ).rejects.toThrow(
      'the ConfigMap "mine" in namespace ns has no "inference_config.yaml" key, which the inference server reads; add it.',
    );
    expect(s.created).toEqual([]);
  });

  it("reads output_dir as KAITO does, and refuses one outside /mnt or YAML that does not parse", () => {
    const cm = (text: string): ConfigMap => ({
      metadata: { name: "t" },
      data: { [c.TRAINING_CONFIG_KEY]: text },
    });
    expect(trainingOutputDir(cm(c.defaultTrainingConfig("lora")))).toBe("/mnt/results");
    expect(trainingOutputDir(cm("training_config:\n  ModelConfig: {}\n"))).toBe("/mnt/output");
    // KAITO joins a path outside /mnt onto it (preset_tuning.go PrepareOutputDir) ...
    const dir = (d: string) => `training_config:\n  TrainingArguments:\n    output_dir: ${d}\n`;
    expect(trainingOutputDir(cm(dir("/etc")))).toBe("/mnt/etc");
    // ... and refuses one that climbs out.
    expect(() => trainingOutputDir(cm(dir("/mnt/../etc")))).toThrow(
      /in the ConfigMap "t", .*must be a directory under \/mnt/,
    );
    expect(() => trainingOutputDir(cm("training_config: [unclosed"))).toThrow(/is not valid YAML/);
  });
});
