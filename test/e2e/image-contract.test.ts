// The seed examples on the local cluster with the admission webhook: the pods they produce give
// KAITO's images what those images read (presets/runtime/contract.ts). kwok runs any pod, so the
// checks are on the pods' specs; what only a GPU could show is listed in the README.
import { readFileSync } from "node:fs";
import path from "node:path";
import type { V1ConfigMap, V1Container, V1Pod } from "@kubernetes/client-node";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Workspace } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import { isKubeApiError } from "../../kube/errors.ts";
import { resources } from "../../kube/resources.ts";
import { contract as c, listPresets } from "../../presets/index.ts";
import { useTestCluster } from "../harness/index.ts";
import { until } from "../harness/until.ts";
import { withAdmissionWebhook, type AdmittedOperator } from "./webhook.ts";

const cluster = useTestCluster();
let admitted: AdmittedOperator;
beforeAll(async () => {
  admitted = await withAdmissionWebhook(cluster);
});
afterAll(async () => {
  await admitted?.stop();
});

type Ws = Workspace & KubeObject;
type Pod = V1Pod & KubeObject;
const examplesDir = path.resolve(import.meta.dirname, "../../../shared/examples");
const example = (file: string) => parse(readFileSync(path.join(examplesDir, file), "utf8")) as Ws;

function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const next = args[i + 1];
  return next === undefined || next.startsWith("--") ? "" : next;
}

/** Creates the manifest in `namespace` (as kubectl apply does) and returns what was stored. */
async function apply(namespace: string, ws: Ws): Promise<Ws> {
  ws.metadata = { ...ws.metadata, namespace };
  return admitted.operator.client.create(resources.workspaces, ws);
}

/** The workspace's first pod once it exists. */
function podOf(namespace: string, name: string): Promise<Pod> {
  return until(
    `a pod of ${namespace}/${name}`,
    async () => {
      const pods = await admitted.operator.client.list<Pod>(resources.pods, {
        namespace,
        labelSelector: `kaito.sh/workspace=${name}`,
      });
      return pods.items[0];
    },
    90_000,
  );
}

const argv = (container: V1Container) => [...(container.command ?? []), ...(container.args ?? [])];
const mount = (container: V1Container, dir: string) =>
  container.volumeMounts?.find((m) => m.mountPath === dir);
const volumeOf = (pod: Pod, name: string | undefined) => pod.spec!.volumes?.find((v) => v.name === name);

describe("the seed examples' pods on the local cluster", () => {
  it("v1alpha1 inference gets the transformers server (POST /chat) in float16 on the V100, probed on /health", async () => {
    const ns = await admitted.newAdmittedNamespace("seed-chat");
    const stored = await apply(ns, example("kaito_workspace_phi_3.yaml"));
    expect(stored.metadata?.annotations?.["kaito.sh/runtime"]).toBe("transformers");
    const pod = await podOf(ns, stored.metadata!.name!);
    const model = pod.spec!.containers[0]!;
    expect(argv(model)).toContain(c.TRANSFORMERS_SERVER);
    expect(flag(argv(model), "torch_dtype")).toBe("float16");
    expect(model.livenessProbe?.httpGet).toMatchObject({ path: c.HEALTH_PATH, port: c.INFERENCE_PORT });
    expect(model.readinessProbe?.httpGet).toMatchObject({ path: c.HEALTH_PATH, port: c.INFERENCE_PORT });
    expect(c.ROUTES.transformers).toContain("/chat");
  });

  it.each([
    ["Standard_NC6s_v3", "V100"],
    ["Standard_NC4as_T4_v3", "T4"],
  ])(
    "vLLM (v1beta1's default, here by annotation) runs in float16 on %s (%s) with KAITO's config file",
    async (sku) => {
      const ns = await admitted.newAdmittedNamespace("seed-vllm");
      const ws = example("kaito_workspace_phi_3.yaml");
      ws.metadata!.annotations = { "kaito.sh/runtime": "vllm" };
      ws.resource.instanceType = sku;
      const stored = await apply(ns, ws);
      const pod = await podOf(ns, stored.metadata!.name!);
      const args = argv(pod.spec!.containers[0]!);
      expect(args).toContain(c.VLLM_SERVER);
      expect(flag(args, "dtype")).toBe("float16");
      expect(flag(args, "gpu-memory-utilization")).toBe("0.90");
      expect(Number(flag(args, "max-model-len"))).toBeGreaterThanOrEqual(4096);
      expect(flag(args, c.CONFIG_FILE_FLAG)).toBe(c.INFERENCE_CONFIG_FILE);
      const config = mount(pod.spec!.containers[0]!, c.CONFIG_DIR);
      expect(volumeOf(pod, config?.name)?.configMap?.name).toBe(c.DEFAULT_INFERENCE_CONFIGMAP);
      const cm = await admitted.operator.client.get<V1ConfigMap & KubeObject>(
        resources.configMaps,
        c.DEFAULT_INFERENCE_CONFIGMAP,
        ns,
      );
      expect(cm.data?.[c.INFERENCE_CONFIG_KEY]).toBe(c.defaultInferenceConfig());
    },
  );

  it("the adapter example unpacks its image with the puller, never running it, at the strength the server reads", async () => {
    const ns = await admitted.newAdmittedNamespace("seed-adapter");
    const stored = await apply(ns, example("kaito_workspace_phi_3_with_adapters.yaml"));
    expect(stored.metadata?.annotations?.["kaito.sh/runtime"]).toBe("transformers");
    const pod = await podOf(ns, stored.metadata!.name!);
    const [puller] = pod.spec!.initContainers!;
    expect(puller!.image).toBe(c.PULLER_IMAGE);
    expect(puller!.command!.slice(-3, -1)).toEqual([
      "ACR_REPO_HERE.azurecr.io/ADAPTER_HERE:0.0.1",
      `${c.ADAPTERS_DIR}/phi-3-adapter`,
    ]);
    const model = pod.spec!.containers[0]!;
    expect(mount(model, c.ADAPTERS_DIR)?.name).toBe(mount(puller!, c.ADAPTERS_DIR)?.name);
    expect(model.env).toContainEqual({ name: "phi-3-adapter", value: "1.0" });
  });

  it.each(["kaito_workspace_phi_3_tuning.yaml", "kaito_workspace_phi_3_128k_tuning.yaml"])(
    "%s: the Job's config, input names, results volume and marker are what fine_tuning.py reads",
    async (file) => {
      const ns = await admitted.newAdmittedNamespace("seed-tuning");
      const ws = example(file);
      const stored = await apply(ns, ws);
      const pod = await podOf(ns, stored.metadata!.name!);
      const inits = pod.spec!.initContainers!;
      const tuner = inits.find((x) => x.name === "tuner")!;
      const pusher = pod.spec!.containers.find((x) => x.name === "pusher")!;
      // /mnt/config/training_config.yaml from the qlora template, created in the namespace.
      const config = mount(tuner, c.CONFIG_DIR)!;
      expect(volumeOf(pod, config.name)?.configMap?.name).toBe("qlora-params-template");
      const cm = await admitted.operator.client.get<V1ConfigMap & KubeObject>(
        resources.configMaps,
        "qlora-params-template",
        ns,
      );
      expect(parse(cm.data![c.TRAINING_CONFIG_KEY]!).training_config.QuantizationConfig.load_in_4bit).toBe(
        true,
      );
      // The input keeps its .parquet name under /mnt/data.
      const downloader = inits[0]!;
      expect(downloader.command!.at(-1)).toBe(ws.tuning!.input!.urls![0]);
      expect(c.datasetFileName(ws.tuning!.input!.urls![0]!)).toMatch(/\.parquet$/);
      expect(mount(downloader, c.DATA_DIR)?.name).toBe(mount(tuner, c.DATA_DIR)?.name);
      // Results at the template's output_dir, shared with the pusher, which checks the marker.
      expect(mount(tuner, "/mnt/results")?.name).toBe(mount(pusher, "/mnt/results")?.name);
      expect(pusher.command![2]).toContain(c.COMPLETION_MARKER);
      expect(pusher.command!.slice(-4, -2)).toEqual(["/mnt/results", ws.tuning!.output!.image]);
    },
  );

  it("tune then serve: the tuning output image is an adapter source, and the pusher's layout is the puller's", async () => {
    const ns = await admitted.newAdmittedNamespace("tune-serve");
    const tuning = await apply(ns, example("kaito_workspace_phi_3_tuning.yaml"));
    const image = tuning.tuning!.output!.image!;
    const serve = example("kaito_workspace_phi_3_with_adapters.yaml");
    serve.inference!.preset!.name = "phi-3-mini-4k-instruct";
    serve.inference!.adapters = [{ source: { name: "dolly", image }, strength: "1.0" }];
    const served = await apply(ns, serve);
    const [jobPod, servePod] = await Promise.all([
      podOf(ns, tuning.metadata!.name!),
      podOf(ns, served.metadata!.name!),
    ]);
    const pusher = jobPod.spec!.containers.find((x) => x.name === "pusher")!;
    const tuner = jobPod.spec!.initContainers!.find((x) => x.name === "tuner")!;
    const puller = servePod.spec!.initContainers![0]!;
    // Same image reference out and in; the pusher reads the trainer's results directory...
    expect(pusher.command!.at(-3)).toBe(image);
    expect(puller.command!.at(-3)).toBe(image);
    expect(mount(tuner, pusher.command!.at(-4)!)?.name).toBe("results");
    // ...and packs its data/ directory, which the puller unpacks where the server looks.
    expect(pusher.command![2]).toContain(`tar -cf "$work/layer.tar" -C "$work" ${c.IMAGE_DATA_DIR}`);
    expect(puller.command![2]).toContain(`"$work/rootfs/${c.IMAGE_DATA_DIR}/."`);
    expect(puller.command!.at(-2)).toBe(`${c.ADAPTERS_DIR}/dolly`);
    expect(mount(servePod.spec!.containers[0]!, c.ADAPTERS_DIR)).toBeDefined();
  });
});

describe("admission at kubectl apply", () => {
  it("refuses a Workspace with an unknown preset, listing the valid names", async () => {
    const ns = await admitted.newAdmittedNamespace("refused");
    const ws = example("kaito_workspace_phi_3.yaml");
    ws.inference!.preset!.name = "phi-9-mini";
    let message = "";
    try {
      await apply(ns, ws);
    } catch (e) {
      if (!isKubeApiError(e)) throw e;
      expect(e.statusCode).toBe(422);
      message = e.message;
    }
    expect(message).toContain(
      'admission webhook "validate.workspaces.kaito.sh" denied the request: inference.preset.name "phi-9-mini" is not a known preset; valid names are ',
    );
    for (const p of listPresets()) expect(message).toContain(p.name);
  });
});
