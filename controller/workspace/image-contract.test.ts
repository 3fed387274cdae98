// The pods the builders make, checked against KAITO's image contract (presets/runtime/
// contract.ts) for every preset x runtime x GPU generation the catalogue can place it on: a
// builder that drifts from a fact fails here.
import type { V1Container, V1PodSpec, V1Volume } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { Workspace } from "../../crds/index.ts";
import { findSku } from "../../planner/catalog/index.ts";
import {
  contract as c,
  inferenceRuntime,
  listPresets,
  tuningRuntime,
  type Preset,
  type RuntimeName,
  type TuningMethod,
} from "../../presets/index.ts";
import { isPlacementError, placeOnInstanceType } from "./placement.ts";
import { validTensorDegree } from "../../presets/memory/parallel.ts";
import { isUserError } from "../../lib/errors.ts";
import { modelNeed } from "./requirement.ts";
import { gpuOf } from "./workload.ts";
import { inferencePodTemplate, inferenceService, tuningJob } from "./workloads.ts";
import { trainingOutputDir } from "./configmaps.ts";

/** One SKU per GPU generation: V100 (7.0), T4 (7.5), A10 (8.6), A100 (8.0), H100 (9.0). */
const generations = [
  "Standard_NC24s_v3",
  "Standard_NC64as_T4_v3",
  "Standard_NV72ads_A10_v5",
  "Standard_NC96ads_A100_v4",
  "Standard_ND96isr_H100_v5",
];

function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const next = args[i + 1];
  return next === undefined || next.startsWith("--") ? "" : next;
}

function workspace(preset: Preset, runtime: RuntimeName, instanceType: string): Workspace {
  return {
    metadata: {
      name: "ws",
      namespace: "ns",
      uid: "u",
      annotations: { "kaito.sh/runtime": runtime, "kaito.sh/enablelb": "True" },
    },
    resource: { instanceType, labelSelector: { matchLabels: { app: "x" } } },
    inference: {
      preset: { name: preset.name, presetOptions: { image: "me.io/private:1" } },
      ...(preset.adapters || runtime === "transformers"
        ? {
            adapters: [
              {
                source: { name: "a.b", image: "reg.io/adapter:1", imagePullSecrets: ["pull"] },
                strength: runtime === "vllm" ? "1.0" : "0.3",
              },
            ],
          }
        : {}),
    },
  };
}

const mountAt = (container: V1Container, dir: string) =>
  container.volumeMounts?.find((m) => m.mountPath === dir);
const volume = (pod: V1PodSpec, name: string | undefined): V1Volume | undefined =>
  pod.volumes?.find((v) => v.name === name);

interface Case {
  preset: Preset;
  runtime: RuntimeName;
  sku: string;
}
const cases: Case[] = listPresets().flatMap((preset) =>
  preset.runtimes.flatMap((runtime) => generations.map((sku) => ({ preset, runtime, sku }))),
);

describe("inference pods against KAITO's image contract", () => {
  let checked = 0;
  it.each(cases)("$preset.name on $runtime, $sku", ({ preset, runtime, sku }) => {
    const ws = workspace(preset, runtime, sku);
    const need = modelNeed(ws);
    if (need.kind !== "preset") throw new Error("preset expected");
    let placement;
    try {
      placement = placeOnInstanceType(ws, need.requirement, findSku(sku), sku);
    } catch (e) {
      if (isPlacementError(e)) return; // the model does not fit this size: nothing to run
      throw e;
    }
    const gpu = gpuOf(sku)!;
    const adapters = (ws.inference!.adapters ?? []).map((a) => ({
      name: a.source!.name!,
      strength: a.strength!,
    }));
    let spec;
    try {
      spec = inferenceRuntime(need.preset, {
        runtime,
        gpus: placement.gpusPerPod,
        nodes: placement.nodesPerReplica,
        image: "me.io/private:1",
        gpu,
        adapters,
      });
    } catch (e) {
      // The placement's k x m >= total rule admits a few layouts with no KV room left on the
      // actual GPUs (falcon-40b on 2 x NV72ads_A10_v5): refused here with a sentence, not run.
      if (isUserError(e) && /leaves no room for its KV cache/.test(e.message)) return;
      throw e;
    }
    checked++;
    const pod = inferencePodTemplate(ws, placement, spec, ["n"], 1).spec!;
    const main = pod.containers[0]!;
    const args = [...main.command!, ...main.args!];
    const dtype = c.servingTorchDtype(preset.figures.dtype, gpu.computeCapability);

    // Serving: port, probes on /health (readiness, liveness, startup).
    expect(main.ports).toContainEqual({ name: "http", containerPort: c.INFERENCE_PORT });
    for (const probe of [main.readinessProbe, main.livenessProbe, main.startupProbe])
      expect(probe?.httpGet).toEqual({ path: c.HEALTH_PATH, port: c.INFERENCE_PORT });
    expect(main.readinessProbe?.initialDelaySeconds).toBe(c.PROBES.readiness.initialDelaySeconds);
    expect(main.livenessProbe?.failureThreshold).toBe(c.PROBES.liveness.failureThreshold);

    if (runtime === "vllm") {
      expect(args).toContain(c.VLLM_SERVER);
      expect(flag(args, "dtype")).toBe(dtype);
      expect(flag(args, "gpu-memory-utilization")).toBe(
        c.formatUtilization(c.vllmGpuMemoryUtilization(gpu.memoryGiB)),
      );
      const len = Number(flag(args, "max-model-len"));
      expect(len).toBeGreaterThanOrEqual(Math.min(4096, preset.figures.maxContext));
      expect(len).toBeLessThanOrEqual(preset.figures.maxContext);
      const tp = Number(flag(args, "tensor-parallel-size"));
      const pp = Number(flag(args, "pipeline-parallel-size") ?? "1");
      expect(tp * pp).toBe(placement.gpusPerPod * placement.nodesPerReplica);
      // Tensor parallel over the pod's GPUs, as KAITO, wherever the heads allow that degree.
      if (validTensorDegree(preset.figures, placement.gpusPerPod)) expect(tp).toBe(placement.gpusPerPod);
      // The config file, from the default ConfigMap mounted where the flag points.
      expect(flag(args, c.CONFIG_FILE_FLAG)).toBe(c.INFERENCE_CONFIG_FILE);
      const config = mountAt(main, c.CONFIG_DIR);
      expect(volume(pod, config?.name)?.configMap?.name).toBe(c.DEFAULT_INFERENCE_CONFIGMAP);
      if (adapters.length) expect(flag(args, c.VLLM_ENABLE_LORA_FLAG)).toBe("");
    } else {
      expect(args).toContain(c.TRANSFORMERS_SERVER);
      expect(flag(args, "torch_dtype")).toBe(dtype);
      expect(flag(args, c.CONFIG_FILE_FLAG)).toBeUndefined();
      for (const a of adapters) expect(main.env).toContainEqual({ name: a.name, value: a.strength });
    }

    // Adapters: unpacked by the puller into ADAPTERS_DIR/<name>, never by running their image.
    if (adapters.length) {
      expect(mountAt(main, c.ADAPTERS_DIR)).toBeDefined();
      const pullers = pod.initContainers ?? [];
      expect(pullers.map((p) => p.image)).toEqual([c.PULLER_IMAGE]);
      expect(pullers[0]!.command!.slice(-3)).toEqual([
        "reg.io/adapter:1",
        `${c.ADAPTERS_DIR}/a.b`,
        c.PULL_AUTH_DIR,
      ]);
      expect(pullers[0]!.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      const auth = pullers[0]!.volumeMounts!.find((m) => m.mountPath === c.PULL_AUTH_DIR)!;
      expect(volume(pod, auth.name)?.projected?.sources?.[0]?.secret).toEqual({
        name: "pull",
        items: [{ key: ".dockerconfigjson", path: "pull.json" }],
      });
      expect(JSON.stringify(pod)).not.toContain('"image":"reg.io/adapter:1"');
    }
  });

  it("covered every preset on at least one GPU generation", () => {
    expect(checked).toBeGreaterThanOrEqual(listPresets().length);
  });
});

describe("the inference Service", () => {
  it("serves port 80 to the pods' port 5000, a LoadBalancer only with kaito.sh/enablelb: True", () => {
    const ws = workspace(listPresets()[0]!, "vllm", "Standard_NC24s_v3");
    const svc = inferenceService(ws, false);
    expect(svc.spec!.type).toBe("LoadBalancer");
    expect(svc.spec!.ports).toEqual([
      { name: "http", port: c.SERVICE_PORT, targetPort: "http", protocol: "TCP" },
    ]);
    ws.metadata!.annotations!["kaito.sh/enablelb"] = "true";
    expect(inferenceService(ws, false).spec!.type).toBe("ClusterIP");
  });
});

const tuningCases = listPresets().flatMap((preset) =>
  preset.tuning.flatMap((method) => generations.map((sku) => ({ preset, method, sku }))),
);

describe("tuning Jobs against KAITO's image contract", () => {
  it.each(tuningCases)("$preset.name with $method on $sku", ({ preset, method, sku }) => {
    const ws: Workspace = {
      metadata: { name: "t", namespace: "ns", uid: "u" },
      resource: { instanceType: sku, labelSelector: { matchLabels: { app: "x" } } },
      tuning: {
        preset: { name: preset.name, presetOptions: { image: "me.io/private:1" } },
        method: method as TuningMethod,
        input: { urls: ["https://h.co/d/train-00000.parquet?download=true", "https://h.co/e.jsonl"] },
        output: { image: "reg.io/out:1", imagePushSecret: "push" },
      },
    };
    const outputDir = trainingOutputDir({
      metadata: { name: c.DEFAULT_TUNING_CONFIGMAP[method as TuningMethod] },
      data: { [c.TRAINING_CONFIG_KEY]: c.defaultTrainingConfig(method as TuningMethod) },
    });
    expect(outputDir).toBe(c.TEMPLATE_OUTPUT_DIR);
    const runtime = tuningRuntime(preset, method as TuningMethod, {
      gpus: 1,
      outputDir,
      image: "me.io/private:1",
    });
    const pod = tuningJob(ws, runtime, ["n"]).spec!.template.spec!;
    const inits = pod.initContainers!;
    const tuner = inits.find((x) => x.name === "tuner")!;
    const pusher = pod.containers.find((x) => x.name === "pusher")!;

    // The trainer, its config at /mnt/config/training_config.yaml from the method's default ConfigMap.
    expect([...tuner.command!, ...tuner.args!]).toContain(c.TRAINER);
    const config = mountAt(tuner, c.CONFIG_DIR)!;
    expect(volume(pod, config.name)?.configMap?.name).toBe(
      c.DEFAULT_TUNING_CONFIGMAP[method as TuningMethod],
    );
    expect(`${config.mountPath}/${c.TRAINING_CONFIG_KEY}`).toBe(c.TRAINING_CONFIG_FILE);

    // Inputs downloaded into /mnt/data under names the loader recognises.
    const downloader = inits[0]!;
    expect(mountAt(downloader, c.DATA_DIR)?.name).toBe(mountAt(tuner, c.DATA_DIR)?.name);
    expect(downloader.command!.slice(-2)).toEqual(ws.tuning!.input!.urls);
    for (const url of ws.tuning!.input!.urls!) expect(c.isDatasetFileName(c.datasetFileName(url))).toBe(true);

    // Results at the config's output_dir, shared with the pusher, which runs after the trainer.
    expect(mountAt(tuner, outputDir)?.name).toBe("results");
    expect(mountAt(pusher, outputDir)?.name).toBe("results");
    expect(inits.indexOf(tuner)).toBe(inits.length - 1);
    expect(pusher.image).toBe(c.PUSHER_IMAGE);
    expect(pusher.command!.slice(-4)).toEqual([outputDir, "reg.io/out:1", preset.name, c.PUSH_AUTH_FILE]);
    expect(pusher.command![2]).toContain(c.COMPLETION_MARKER);
    const auth = pusher.volumeMounts!.find((m) => c.PUSH_AUTH_FILE.startsWith(`${m.mountPath}/`))!;
    expect(volume(pod, auth.name)?.secret?.secretName).toBe("push");
  });
});
