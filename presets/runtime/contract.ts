/**
 * KAITO's image contract: what the containers of KAITO's images (mcr.microsoft.com/aks/kaito/
 * kaito-<model>:0.1.1, kaito-base) read from the pods we give them. Each fact names the file of
 * kaito-project/kaito it was read from (v0.12.0 unless a version is named; our image tags are
 * v0.4.6's, whose paths and defaults are the same where it matters). The builders in
 * presets/runtime/ and controller/workspace/workloads.ts take every path, flag and file name from
 * here, and presets/runtime/contract.test.ts fails when one of them drifts from a fact.
 *
 * Nothing here runs in the cluster or reads a Kubernetes object: it is data and pure functions.
 */
import { UserError } from "../../lib/errors.ts";
import type { NativeDtype, RuntimeName, TuningMethod } from "../types.ts";

// ---------------------------------------------------------------------------------------------
// Serving: pkg/workspace/inference/preset_inferences.go (containerPorts, ProbePath, the probes).

/** Both inference servers listen here. */
export const INFERENCE_PORT = 5000;
/** The workspace's Service port; it targets INFERENCE_PORT (pkg/workspace/manifests). */
export const SERVICE_PORT = 80;
/** Answers 200 once the model is loaded, on both servers. */
export const HEALTH_PATH = "/health";
/**
 * KAITO probes /health for readiness (30 s initial delay, every 10 s) and liveness (every 10 s,
 * 3 failures), after a startup probe of 10 s periods that lasts the preset's readiness timeout.
 */
export const PROBES = {
  readiness: { initialDelaySeconds: 30, periodSeconds: 10 },
  liveness: { periodSeconds: 10, failureThreshold: 3 },
  startupPeriodSeconds: 10,
} as const;

/** What a client calls on each runtime (the servers' own route tables). */
export const ROUTES: Readonly<Record<RuntimeName, readonly string[]>> = {
  // presets/workspace/inference/vllm/inference_api.py runs vLLM's OpenAI server: no /chat.
  vllm: ["/v1/chat/completions", "/v1/completions", "/v1/models", "/health"],
  // presets/workspace/inference/text-generation/inference_api.py as Azure/kaito had it (POST /chat,
  // the route KAITO's docs and the seed use). Later kaito-project/kaito commits (4ebb5a3d and on)
  // serve the same handler as POST /v1/completions; which one the 0.1.1 images carry is not
  // verified here (no GPU, no image pull).
  transformers: ["/chat", "/health"],
};

// ---------------------------------------------------------------------------------------------
// The servers' entry points and defaults.

/** presets/workspace/inference/vllm/inference_api.py; its parser's default --model. */
export const VLLM_SERVER = "/workspace/vllm/inference_api.py";
export const VLLM_WEIGHTS = "/workspace/vllm/weights";
/** presets/workspace/inference/text-generation/inference_api.py; pretrained_model_name_or_path default. */
export const TRANSFORMERS_SERVER = "/workspace/tfs/inference_api.py";
export const TRANSFORMERS_WEIGHTS = "/workspace/tfs/weights";
/** Where download-at-runtime presets keep their weights (pkg/utils DefaultWeightsVolumePath). */
export const DOWNLOAD_DIR = "/workspace/weights";

/**
 * Adapters: both servers look in /mnt/adapter (vLLM's --kaito-adapters-dir default; the
 * transformers server's ADAPTERS_DIR) for one directory per adapter holding adapter_config.json.
 * vLLM serves each as a LoRA module named after its directory once --enable-lora is given
 * (pkg/model/interface.go adds it when a workspace has adapters).
 */
export const ADAPTERS_DIR = "/mnt/adapter";
export const ADAPTER_CONFIG_FILE = "adapter_config.json";
export const VLLM_ENABLE_LORA_FLAG = "enable-lora";
/**
 * The transformers server reads each adapter's strength from the environment variable named
 * after the adapter (`os.getenv(adapter_name, '1.0')`), which KAITO sets from `strength`
 * (pkg/workspace/manifests GeneratePullerContainers). vLLM applies adapters at full strength only
 * (pkg/model/interface.go Validate: "vLLM does not support adapter strength").
 */
export function adapterStrengthEnv(adapterName: string, strength: string): { name: string; value: string } {
  return { name: adapterName, value: strength };
}

/**
 * KAITO always passes vLLM a config file (pkg/model/interface.go: `kaito-config-file` =
 * ConfigVolume.MountPath + ConfigfileNameVLLM), mounted from inference.config or, when none is
 * named, from a copy of the chart's default (charts/kaito/workspace/templates/
 * inference-params.yaml). Its `vllm:` keys are appended to the server's flags, so they override
 * ours (vllm/inference_api.py KAITOArgumentParser.parse_args).
 */
export const CONFIG_DIR = "/mnt/config";
export const INFERENCE_CONFIG_KEY = "inference_config.yaml";
export const INFERENCE_CONFIG_FILE = `${CONFIG_DIR}/${INFERENCE_CONFIG_KEY}`;
export const DEFAULT_INFERENCE_CONFIGMAP = "inference-params-template";
export const CONFIG_FILE_FLAG = "kaito-config-file";

/** The default inference config's data (the chart's values; the comments are ours). */
export function defaultInferenceConfig(): string {
  return [
    "# Steps of the server's search for the longest context that fits, when --max-model-len is not set.",
    "max_probe_steps: 6",
    "# vLLM engine arguments (https://docs.vllm.ai/en/stable/serving/engine_args.html); they override",
    "# the operator's flags, e.g. max-model-len: 2048 or gpu-memory-utilization: 0.9.",
    "vllm:",
    "  cpu-offload-gb: 0",
    "  swap-space: 4",
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// dtype: pkg/model/interface.go (v0.10+; TestBuildVLLMInferenceCommandDTypeDynamic in
// interface_test.go) downgrades bfloat16 to float16 below compute capability 8.0, where vLLM
// refuses bfloat16 (V100 is 7.0, T4 7.5). An unknown GPU keeps the model's dtype, as KAITO does.

export const BF16_MIN_COMPUTE_CAPABILITY = 8.0;
const TORCH_DTYPE = { bf16: "bfloat16", fp16: "float16" } as const;

/** The torch dtype to serve a 16-bit model in on a GPU of compute capability `cc`. */
export function servingTorchDtype(native: NativeDtype, cc: number | undefined): "bfloat16" | "float16" {
  if (native === "bf16" && cc !== undefined && cc < BF16_MIN_COMPUTE_CAPABILITY) return "float16";
  return TORCH_DTYPE[native];
}

// ---------------------------------------------------------------------------------------------
// GPU memory: pkg/model/interface.go getGPUMemoryUtilForVLLM (from v0.4.x until vLLM's own
// auto-fit replaced it): leave 1.5 GiB of each GPU to everything that is not KV cache,
// floor((1 - 1.5 / perGpuGiB) x 100) / 100, at most 0.95; 0.9 when the GPU is unknown.

export const VLLM_RESERVED_NON_KV_GIB = 1.5;
export const VLLM_MAX_MEMORY_UTILIZATION = 0.95;
export const VLLM_DEFAULT_MEMORY_UTILIZATION = 0.9;

export function vllmGpuMemoryUtilization(perGpuGiB: number | undefined): number {
  if (perGpuGiB === undefined || !(perGpuGiB > VLLM_RESERVED_NON_KV_GIB))
    return VLLM_DEFAULT_MEMORY_UTILIZATION;
  const util = Math.floor((1 - VLLM_RESERVED_NON_KV_GIB / perGpuGiB) * 100 + 1e-9) / 100;
  return Math.min(util, VLLM_MAX_MEMORY_UTILIZATION);
}

/** vLLM's --gpu-memory-utilization as KAITO formats it (two decimals). */
export function formatUtilization(util: number): string {
  return util.toFixed(2);
}

// ---------------------------------------------------------------------------------------------
// Tuning: presets/workspace/tuning/text-generation/{fine_tuning.py,dataset.py,parser.py},
// pkg/workspace/tuning/preset_tuning.go, pkg/model/interface.go GetTuningCommand.

/** Run as `accelerate launch --num_processes=<GPUs> /workspace/tfs/fine_tuning.py`. */
export const TRAINER = "/workspace/tfs/fine_tuning.py";
/** fine_tuning.py reads YAML_FILE_PATH, default /mnt/config/training_config.yaml: always this file. */
export const TRAINING_CONFIG_KEY = "training_config.yaml";
export const TRAINING_CONFIG_FILE = `${CONFIG_DIR}/${TRAINING_CONFIG_KEY}`;
/**
 * With tuning.config empty KAITO copies the method's template ConfigMap from its release
 * namespace into the workspace's namespace under the same name, once, and mounts it
 * (preset_tuning.go SetTrainingResultVolume, resources.EnsureConfigOrCopyFromDefault).
 */
export const DEFAULT_TUNING_CONFIGMAP: Readonly<Record<TuningMethod, string>> = {
  lora: "lora-params-template",
  qlora: "qlora-params-template",
};

/** dataset.py: DATASET_FOLDER_PATH, default /mnt/data, searched recursively. */
export const DATA_DIR = "/mnt/data";
/** dataset.py SUPPORTED_EXTENSIONS: a file is a dataset when its lower-cased name contains one. */
export const DATASET_NAME_MARKERS = ["csv", "json", "parquet", "arrow", "webdataset"] as const;

/**
 * The name a downloaded input keeps: the URL's last path segment without its query or fragment
 * (pkg/workspace/tuning/scripts/data-downloader.sh), so the loader can tell its format.
 */
export function datasetFileName(url: string): string {
  const path = url.replace(/[?#].*$/, "");
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Whether dataset.py's loader would take a file of this name. */
export function isDatasetFileName(name: string): boolean {
  const lower = name.toLowerCase();
  return DATASET_NAME_MARKERS.some((m) => lower.includes(m));
}

/**
 * Results: TrainingArguments.output_dir of the config (the templates say /mnt/results); without
 * one, /mnt/output. It must lie under /mnt (preset_tuning.go PrepareOutputDir); a relative path
 * is taken under /mnt.
 */
export const OUTPUT_BASE = "/mnt";
export const DEFAULT_OUTPUT_DIR = "/mnt/output";
export const TEMPLATE_OUTPUT_DIR = "/mnt/results";

/** Where the trainer writes, from the config's output_dir; a UserError when it leaves /mnt. */
export function resolveOutputDir(outputDir: string | undefined): string {
  if (outputDir === undefined || outputDir === "") return DEFAULT_OUTPUT_DIR;
  const joined = outputDir.startsWith(OUTPUT_BASE) ? outputDir : `${OUTPUT_BASE}/${outputDir}`;
  const clean = normalizePath(joined);
  if (clean === OUTPUT_BASE || !clean.startsWith(`${OUTPUT_BASE}/`) || reservedDir(clean)) {
    throw new UserError(
      `the tuning config's TrainingArguments.output_dir "${outputDir}" must be a directory under ${OUTPUT_BASE} other than ${CONFIG_DIR} and ${DATA_DIR}, such as ${TEMPLATE_OUTPUT_DIR}.`,
    );
  }
  return clean;
}

function reservedDir(dir: string): boolean {
  return [CONFIG_DIR, DATA_DIR, ADAPTERS_DIR].some((r) => dir === r || dir.startsWith(`${r}/`));
}

function normalizePath(p: string): string {
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

/** fine_tuning.py writes this into output_dir after trainer.save_model, and only then. */
export const COMPLETION_MARKER = "fine_tuning_completed.txt";
/** What PEFT's save_model leaves in output_dir that an adapter needs (pkg/workspace/image/pusher.sh). */
export const ADAPTER_FILES = ["adapter_config.json", "adapter_model.safetensors"] as const;

/** Phi-3's projections, which PEFT cannot guess (preset_tuning.go sets them for phi-3 presets). */
export const PHI3_TARGET_MODULES = "k_proj,q_proj,v_proj,o_proj,gate_proj,down_proj,up_proj";

/**
 * The method's default training config: the chart's templates (charts/kaito/workspace/
 * templates/{lora,qlora}-params.yaml) as data, with our comments. The sections are the
 * dataclasses parser.py maps: ModelConfig, QuantizationConfig, LoraConfig, TrainingArguments,
 * DataCollator, DatasetConfig.
 */
export function defaultTrainingConfig(method: TuningMethod): string {
  const quantization =
    method === "qlora"
      ? [
          "    load_in_4bit: true",
          '    bnb_4bit_quant_type: "nf4"',
          '    bnb_4bit_compute_dtype: "bfloat16"',
          "    bnb_4bit_use_double_quant: true",
        ]
      : ["    load_in_4bit: false"];
  return [
    "training_config:",
    "  ModelConfig: # transformers AutoModelForCausalLM.from_pretrained arguments",
    '    torch_dtype: "bfloat16"',
    "    local_files_only: true",
    '    device_map: "auto"',
    "  QuantizationConfig: # transformers BitsAndBytesConfig",
    ...quantization,
    "  LoraConfig: # peft LoraConfig",
    "    r: 8",
    "    lora_alpha: 8",
    "    lora_dropout: 0.0",
    "  TrainingArguments: # transformers TrainingArguments; output_dir is where the adapter goes",
    `    output_dir: "${TEMPLATE_OUTPUT_DIR}"`,
    "    ddp_find_unused_parameters: false",
    '    save_strategy: "epoch"',
    "    per_device_train_batch_size: 1",
    "  DataCollator: # transformers DataCollatorForLanguageModeling",
    "    mlm: true",
    "  DatasetConfig: # shuffle, split, and which columns hold the text",
    "    shuffle_dataset: true",
    "    train_test_split: 1",
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Images in and out: pkg/workspace/image/{puller,pusher}.{go,sh}. An adapter image (and a tuning
// input image) holds its files under /data; it is read without being run, so it may be FROM
// scratch. The tuned adapter is pushed as an OCI image whose one layer is `data/` with the
// adapter files, which is what the puller (ours and KAITO's) unpacks.

export const IMAGE_DATA_DIR = "data";
/** Published images, pinned as KAITO pins them: the puller needs sh, tar and skopeo. */
export const PULLER_IMAGE = "quay.io/skopeo/stable:v1.18.0-immutable";
/** oras on Alpine: sh, tar, gzip and sha256sum for building the layer. */
export const PUSHER_IMAGE = "ghcr.io/oras-project/oras:v1.2.2";
/** curl fetches tuning input URLs (KAITO uses curlimages/curl unpinned; we pin a release). */
export const DOWNLOADER_IMAGE = "curlimages/curl:8.11.1";

export const OCI_CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip";
/** The manifest annotation KAITO's pusher writes: the preset the adapter was tuned from. */
export const MODEL_NAME_ANNOTATION = "sh.kaito.model.name";

/**
 * The pusher: `sh -c PUSHER_SCRIPT kaito-push RESULTS_DIR IMAGE PRESET REGISTRY_CONFIG`. It runs
 * after the trainer has exited (the trainer is the Job pod's init container), so it only checks
 * that the completion marker is there instead of waiting for it forever when training failed.
 */
export const PUSHER_SCRIPT = [
  "set -eu",
  'results="$1"; image="$2"; preset="$3"; registry_config="$4"',
  `if [ ! -e "$results/${COMPLETION_MARKER}" ]; then`,
  `  echo "kaito-push: $results/${COMPLETION_MARKER} is missing: the tuning run did not complete" >&2`,
  "  exit 1",
  "fi",
  'work="$(mktemp -d)"',
  `mkdir "$work/${IMAGE_DATA_DIR}"`,
  `for f in ${ADAPTER_FILES.join(" ")}; do`,
  '  if [ ! -f "$results/$f" ]; then echo "kaito-push: the adapter file $results/$f is missing" >&2; exit 1; fi',
  `  cp "$results/$f" "$work/${IMAGE_DATA_DIR}/"`,
  "done",
  // The config's diff_id is the digest of the uncompressed layer, as the OCI image spec asks.
  `tar -cf "$work/layer.tar" -C "$work" ${IMAGE_DATA_DIR}`,
  `diff_id="$(sha256sum "$work/layer.tar" | cut -d " " -f 1)"`,
  'gzip -9 "$work/layer.tar"',
  `printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diff_id" > "$work/config.json"`,
  `printf '{"$manifest":{"${MODEL_NAME_ANNOTATION}":"%s"}}' "$preset" > "$work/annotations.json"`,
  'cd "$work"',
  `oras push --registry-config "$registry_config" --config "config.json:${OCI_CONFIG_MEDIA_TYPE}" --annotation-file annotations.json "$image" "layer.tar.gz:${OCI_LAYER_MEDIA_TYPE}"`,
  'echo "kaito-push: pushed the adapter to $image"',
].join("\n");

/**
 * The puller: `sh -c PULLER_SCRIPT kaito-pull IMAGE DEST AUTH_DIR`. skopeo copies the image into
 * a directory without running it, its layers are unpacked in order, and the image's /data lands
 * in DEST. It tries anonymously, then each registry credential file in AUTH_DIR.
 */
export const PULLER_SCRIPT = [
  "set -eu",
  'image="$1"; dest="$2"; auth_dir="$3"',
  'work="$(mktemp -d)"',
  "copied=",
  'for auth in "" "$auth_dir"/*.json; do',
  '  if [ -n "$auth" ] && [ ! -f "$auth" ]; then continue; fi',
  '  if [ -z "$auth" ]; then set -- ; else set -- --authfile "$auth"; fi',
  '  if skopeo copy --dest-decompress "$@" "docker://$image" "dir:$work/image"; then copied=1; break; fi',
  "done",
  'if [ -z "$copied" ]; then echo "kaito-pull: cannot pull $image" >&2; exit 1; fi',
  'mkdir "$work/rootfs"',
  `for layer in $(skopeo inspect --format '{{range .Layers}}{{.}} {{end}}' "dir:$work/image"); do`,
  '  tar -xf "$work/image/${layer#*:}" -C "$work/rootfs"',
  "done",
  `if [ ! -d "$work/rootfs/${IMAGE_DATA_DIR}" ]; then echo "kaito-pull: $image has no /${IMAGE_DATA_DIR} directory" >&2; exit 1; fi`,
  'mkdir -p "$dest"',
  `cp -R "$work/rootfs/${IMAGE_DATA_DIR}/." "$dest/"`,
  'echo "kaito-pull: unpacked /data of $image into $dest"',
].join("\n");

/** Where the puller finds registry credentials: one `<secret>.json` per image pull secret. */
export const PULL_AUTH_DIR = "/etc/kaito/pull";
/** Where the pusher finds the push secret's docker config. */
export const PUSH_AUTH_FILE = "/etc/kaito/push/config.json";

/**
 * The downloader: `sh -c DOWNLOADER_SCRIPT kaito-download DATA_DIR URL...`. Each file keeps the
 * name datasetFileName gives it.
 */
export const DOWNLOADER_SCRIPT = [
  "set -eu",
  'dir="$1"; shift',
  'for url in "$@"; do',
  '  name="${url%%[?#]*}"; name="${name##*/}"',
  '  echo "kaito-download: $url -> $dir/$name"',
  '  curl -sSfL --retry 3 --proto =http,https -o "$dir/$name" "$url"',
  '  if [ ! -s "$dir/$name" ]; then echo "kaito-download: $url is empty" >&2; exit 1; fi',
  "done",
].join("\n");
