import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { parse } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import * as c from "./contract.ts";
import { registryStandIns, runContainerScript, storedImage } from "./oci-fixtures.ts";

// Each fact pinned to the value read in KAITO's source (the path is beside it in contract.ts):
// a change to contract.ts that drifts from KAITO fails here, and the builder tests fail when a
// builder drifts from contract.ts.
describe("KAITO's image contract, as read from its sources", () => {
  it("serving: port 5000, /health, Service port 80, the probes' timings", () => {
    expect([c.INFERENCE_PORT, c.SERVICE_PORT, c.HEALTH_PATH]).toEqual([5000, 80, "/health"]);
    expect(c.PROBES).toEqual({
      readiness: { initialDelaySeconds: 30, periodSeconds: 10 },
      liveness: { periodSeconds: 10, failureThreshold: 3 },
      startupPeriodSeconds: 10,
    });
    expect(c.ROUTES.transformers).toContain("/chat");
    expect(c.ROUTES.vllm).not.toContain("/chat");
  });

  it("servers, weights, adapters and the config file", () => {
    expect(c.VLLM_SERVER).toBe("/workspace/vllm/inference_api.py");
    expect(c.TRANSFORMERS_SERVER).toBe("/workspace/tfs/inference_api.py");
    expect(c.VLLM_WEIGHTS).toBe("/workspace/vllm/weights");
    expect(c.TRANSFORMERS_WEIGHTS).toBe("/workspace/tfs/weights");
    expect(c.ADAPTERS_DIR).toBe("/mnt/adapter");
    expect(c.INFERENCE_CONFIG_FILE).toBe("/mnt/config/inference_config.yaml");
    expect(c.DEFAULT_INFERENCE_CONFIGMAP).toBe("inference-params-template");
    expect(parse(c.defaultInferenceConfig())).toEqual({
      max_probe_steps: 6,
      vllm: { "cpu-offload-gb": 0, "swap-space": 4 },
    });
    expect(c.adapterStrengthEnv("phi-3-adapter", "0.5")).toEqual({ name: "phi-3-adapter", value: "0.5" });
  });

  it("dtype: bfloat16 only from compute capability 8.0; an unknown GPU keeps the model's", () => {
    expect(c.servingTorchDtype("bf16", 7.0)).toBe("float16"); // V100
    expect(c.servingTorchDtype("bf16", 7.5)).toBe("float16"); // T4
    expect(c.servingTorchDtype("bf16", 8.0)).toBe("bfloat16"); // A100
    expect(c.servingTorchDtype("bf16", 9.0)).toBe("bfloat16"); // H100
    expect(c.servingTorchDtype("fp16", 9.0)).toBe("float16");
    expect(c.servingTorchDtype("bf16", undefined)).toBe("bfloat16");
  });

  it("vLLM's memory utilization leaves 1.5 GiB per GPU, two decimals, at most 0.95", () => {
    expect(c.formatUtilization(c.vllmGpuMemoryUtilization(16))).toBe("0.90"); // V100, T4
    expect(c.formatUtilization(c.vllmGpuMemoryUtilization(24))).toBe("0.93"); // A10
    expect(c.formatUtilization(c.vllmGpuMemoryUtilization(80))).toBe("0.95"); // A100 80 GB, capped
    expect(c.formatUtilization(c.vllmGpuMemoryUtilization(4))).toBe("0.62"); // a vGPU slice
    expect(c.formatUtilization(c.vllmGpuMemoryUtilization(undefined))).toBe("0.90");
  });

  it("tuning: the config file, the default ConfigMaps, the data and results directories, the marker", () => {
    expect(c.TRAINER).toBe("/workspace/tfs/fine_tuning.py");
    expect(c.TRAINING_CONFIG_FILE).toBe("/mnt/config/training_config.yaml");
    expect(c.DEFAULT_TUNING_CONFIGMAP).toEqual({
      lora: "lora-params-template",
      qlora: "qlora-params-template",
    });
    expect(c.DATA_DIR).toBe("/mnt/data");
    expect(c.COMPLETION_MARKER).toBe("fine_tuning_completed.txt");
    expect(c.ADAPTER_FILES).toEqual(["adapter_config.json", "adapter_model.safetensors"]);
    for (const method of ["lora", "qlora"] as const) {
      const cfg = parse(c.defaultTrainingConfig(method)).training_config;
      expect(Object.keys(cfg).sort()).toEqual([
        "DataCollator",
        "DatasetConfig",
        "LoraConfig",
        "ModelConfig",
        "QuantizationConfig",
        "TrainingArguments",
      ]);
      expect(cfg.TrainingArguments.output_dir).toBe("/mnt/results");
      expect(cfg.QuantizationConfig.load_in_4bit).toBe(method === "qlora");
      expect(cfg.LoraConfig).toEqual({ r: 8, lora_alpha: 8, lora_dropout: 0 });
    }
  });

  it("output_dir: under /mnt, relative paths taken there, /mnt/output when absent", () => {
    expect(c.resolveOutputDir(undefined)).toBe("/mnt/output");
    expect(c.resolveOutputDir("/mnt/results")).toBe("/mnt/results");
    expect(c.resolveOutputDir("results/run1/")).toBe("/mnt/results/run1");
    expect(() => c.resolveOutputDir("/mnt")).toThrow(/must be a directory under \/mnt/);
    expect(() => c.resolveOutputDir("/mnt/../etc")).toThrow(/must be a directory under \/mnt/);
    expect(() => c.resolveOutputDir("/mnt/config")).toThrow(/other than \/mnt\/config/);
  });

  it("inputs keep the URL's file name, which the loader recognises by csv/json/parquet/arrow", () => {
    const seed =
      "https://huggingface.co/datasets/philschmid/dolly-15k-oai-style/resolve/main/data/train-00000-of-00001-54e3756291ca09c6.parquet?download=true";
    expect(c.datasetFileName(seed)).toBe("train-00000-of-00001-54e3756291ca09c6.parquet");
    expect(c.isDatasetFileName(c.datasetFileName(seed))).toBe(true);
    expect(c.isDatasetFileName("input-0")).toBe(false);
    expect(c.datasetFileName("https://x.org/a/b.JSONL#frag")).toBe("b.JSONL");
    expect(c.isDatasetFileName("b.JSONL")).toBe(true);
  });

  it("images in and out: KAITO's pinned puller and pusher", () => {
    expect(c.PULLER_IMAGE).toBe("quay.io/skopeo/stable:v1.18.0-immutable");
    expect(c.PUSHER_IMAGE).toBe("ghcr.io/oras-project/oras:v1.2.2");
  });
});

describe("the downloader script", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("saves each URL under the name datasetFileName gives it", () => {
    dir = mkdtempSync(path.join(tmpdir(), "kaito-download-"));
    const bin = path.join(dir, "bin");
    mkdirSync(bin);
    // curl stand-in: writes the URL it was asked for into the -o file.
    writeFileSync(
      path.join(bin, "curl"),
      '#!/bin/sh\nwhile [ $# -gt 1 ]; do if [ "$1" = -o ]; then out="$2"; fi; shift; done\necho "$1" > "$out"\n',
      { mode: 0o755 },
    );
    const urls = ["https://h.co/d/train-1.parquet?download=true", "https://h.co/x/eval.jsonl#top"];
    execFileSync("/bin/sh", ["-c", c.DOWNLOADER_SCRIPT, "kaito-download", dir, ...urls], {
      env: { PATH: `${bin}:/usr/bin:/bin` },
      stdio: "ignore",
    });
    for (const url of urls)
      expect(readFileSync(path.join(dir, c.datasetFileName(url)), "utf8").trim()).toBe(url);
  });
});

describe("the pusher's image is the one the puller unpacks", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function setup() {
    dir = mkdtempSync(path.join(tmpdir(), "kaito-oci-"));
    const env = registryStandIns(dir);
    const results = path.join(dir, "results");
    const adapters = path.join(dir, "adapter");
    const auth = path.join(dir, "push-auth.json");
    mkdirSync(results);
    mkdirSync(adapters);
    writeFileSync(auth, '{"auths":{}}');
    writeFileSync(path.join(results, "adapter_config.json"), '{"r": 8}');
    writeFileSync(path.join(results, "adapter_model.safetensors"), "weights");
    writeFileSync(path.join(results, "trainer_state.json"), "{}");
    return { env, results, adapters, auth };
  }
  const image = "myregistry.azurecr.io/adapters/phi-3:0.0.1";
  const push = (results: string, auth: string) =>
    ["/bin/sh", "-c", c.PUSHER_SCRIPT, "kaito-push", results, image, "phi-3-mini-4k-instruct", auth] as const;

  it("refuses to push when the tuning run wrote no completion marker", () => {
    const { env, results, auth } = setup();
    const run = runContainerScript(push(results, auth), env, {});
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("fine_tuning_completed.txt is missing");
  });

  it("pushes one data/ layer with the adapter files, and the puller lands them where the server looks", () => {
    const { env, results, adapters, auth } = setup();
    writeFileSync(path.join(results, c.COMPLETION_MARKER), "done");
    expect(runContainerScript(push(results, auth), env, {})).toEqual({ code: 0, stderr: "" });

    // The image: an OCI config whose diff_id is the digest of the uncompressed layer.
    const store = storedImage(env, image);
    const lines = readFileSync(path.join(store, "manifest"), "utf8").trim().split("\n");
    expect(lines.map((l) => l.split(" ")[2])).toEqual([c.OCI_CONFIG_MEDIA_TYPE, c.OCI_LAYER_MEDIA_TYPE]);
    const [, configDigest] = lines[0]!.split(" ");
    const [, layerDigest] = lines[1]!.split(" ");
    const config = JSON.parse(readFileSync(path.join(store, "blobs", configDigest!), "utf8"));
    const tar = execFileSync("gzip", ["-dc", path.join(store, "blobs", layerDigest!)]);
    expect(config.rootfs.diff_ids).toEqual([`sha256:${createHash("sha256").update(tar).digest("hex")}`]);
    expect(config).toMatchObject({ architecture: "amd64", os: "linux" });
    const entries = execFileSync("tar", ["-tf", "-"], { input: tar }).toString().trim().split("\n").sort();
    expect(entries).toEqual(["data/", "data/adapter_config.json", "data/adapter_model.safetensors"]);

    // The puller (as the inference pod runs it) unpacks /data into /mnt/adapter/<name>.
    const dest = path.join(adapters, "phi-3-adapter");
    const pull = ["/bin/sh", "-c", c.PULLER_SCRIPT, "kaito-pull", image, dest, path.join(dir, "no-auth")];
    expect(runContainerScript(pull, env, {})).toEqual({ code: 0, stderr: "" });
    expect(readdirSync(dest).sort()).toEqual(["adapter_config.json", "adapter_model.safetensors"]);
    expect(readFileSync(path.join(dest, "adapter_config.json"), "utf8")).toBe('{"r": 8}');
  });

  it("fails the puller for an image that was never pushed or has no /data", () => {
    const { env, adapters } = setup();
    const pull = ["/bin/sh", "-c", c.PULLER_SCRIPT, "kaito-pull", "nowhere.io/a:1", adapters, dir];
    const run = runContainerScript(pull, env, {});
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("cannot pull nowhere.io/a:1");
  });
});
