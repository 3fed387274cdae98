import { describe, expect, it } from "vitest";
import { isUserError } from "../../lib/errors.ts";
import { inferenceRuntime, mustGetPreset, tuningRuntime } from "../index.ts";

/** The value after `--flag` in an argv, "" for a bare flag, undefined when absent. */
function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const next = args[i + 1];
  return next === undefined || next.startsWith("--") ? "" : next;
}

function userError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isUserError(e)) return e.message;
    throw e;
  }
  throw new Error("expected a UserError");
}

describe("vLLM inference pods", () => {
  it("serves baked weights from the preset image on port 5000 with a /health probe", () => {
    const spec = inferenceRuntime(mustGetPreset("phi-3-mini-4k-instruct"));
    expect(spec.image).toBe("mcr.microsoft.com/aks/kaito/kaito-phi-3-mini-4k-instruct:0.1.1");
    expect(spec.command).toEqual(["python3", "/workspace/vllm/inference_api.py"]);
    expect(flag(spec.args, "model")).toBe("/workspace/vllm/weights");
    expect(flag(spec.args, "served-model-name")).toBe("phi-3-mini-4k-instruct");
    expect(flag(spec.args, "dtype")).toBe("bfloat16");
    // Without a GPU the server searches for the context itself, at KAITO's default utilization.
    expect(flag(spec.args, "max-model-len")).toBeUndefined();
    expect(flag(spec.args, "gpu-memory-utilization")).toBe("0.90");
    expect(flag(spec.args, "kaito-config-file")).toBe("/mnt/config/inference_config.yaml");
    expect(flag(spec.args, "tensor-parallel-size")).toBe("1");
    expect(flag(spec.args, "port")).toBe("5000");
    expect(spec.ports).toEqual([{ name: "http", containerPort: 5000 }]);
    expect(spec.readinessProbe).toEqual({
      path: "/health",
      port: 5000,
      periodSeconds: 10,
      initialDelaySeconds: 30,
    });
    expect(spec.livenessProbe).toEqual({
      path: "/health",
      port: 5000,
      periodSeconds: 10,
      failureThreshold: 3,
    });
    expect(spec.startupTimeoutSeconds).toBe(1800);
    expect(spec.needsModelAccessToken).toBe(false);
  });

  it("downloads gated weights into the base image with the user's token", () => {
    const spec = inferenceRuntime(mustGetPreset("llama-3.1-8b-instruct"), { contextLength: 16384 });
    expect(spec.image).toBe("mcr.microsoft.com/aks/kaito/kaito-base:0.0.2");
    expect(flag(spec.args, "model")).toBe("meta-llama/Llama-3.1-8B-Instruct");
    expect(flag(spec.args, "revision")).toBe("0e9e39f249a16976918f6564b8830bc894c89659");
    expect(flag(spec.args, "download-dir")).toBe("/workspace/weights");
    expect(flag(spec.args, "max-model-len")).toBe("16384");
    expect(flag(spec.args, "tool-call-parser")).toBe("llama3_json");
    expect(flag(spec.args, "enable-auto-tool-choice")).toBe("");
    expect(spec.needsModelAccessToken).toBe(true);
  });

  it("serves a model newer than kaito-base 0.0.2's vLLM on the newer base image its preset names", () => {
    const spec = inferenceRuntime(mustGetPreset("gpt-oss-20b"), {});
    expect(spec.image).toBe("mcr.microsoft.com/aks/kaito/kaito-base:0.4.2");
    expect(flag(spec.args, "model")).toBe("openai/gpt-oss-20b");
    // The catalogue's older download presets stay on 0.0.2.
    expect(inferenceRuntime(mustGetPreset("gemma-3-4b-instruct"), {}).image).toBe(
      "mcr.microsoft.com/aks/kaito/kaito-base:0.0.2",
    );
  });

  it("splits over GPUs as the heads allow: phi-3-medium on 8 is 2-way tensor, 4-way pipeline", () => {
    const spec = inferenceRuntime(mustGetPreset("phi-3-medium-4k-instruct"), { gpus: 8 });
    expect(flag(spec.args, "tensor-parallel-size")).toBe("2");
    expect(flag(spec.args, "pipeline-parallel-size")).toBe("4");
    expect(spec.gpus).toBe(8);
    expect(
      flag(
        inferenceRuntime(mustGetPreset("llama-2-70b"), { gpus: 8, image: "me/llama:1" }).args,
        "pipeline-parallel-size",
      ),
    ).toBeUndefined();
  });

  it("quantizes on load for int8 and int4, computing in the model's dtype", () => {
    const int4 = inferenceRuntime(mustGetPreset("mistral-7b"), { dtype: "int4" });
    expect(flag(int4.args, "quantization")).toBe("bitsandbytes");
    expect(flag(int4.args, "load-format")).toBe("bitsandbytes");
    expect(flag(int4.args, "dtype")).toBe("bfloat16");
    expect(flag(inferenceRuntime(mustGetPreset("phi-2"), { dtype: "int8" }).args, "quantization")).toBe(
      "fp8",
    );
  });

  it("asks for an image where the licence rules out a public one", () => {
    expect(userError(() => inferenceRuntime(mustGetPreset("llama-2-7b")))).toMatch(
      /^"llama-2-7b" has no public image .*set inference\.preset\.presetOptions\.image\.$/,
    );
    expect(
      inferenceRuntime(mustGetPreset("llama-2-7b"), { image: "myacr.azurecr.io/llama-2-7b:1" }).image,
    ).toBe("myacr.azurecr.io/llama-2-7b:1");
  });

  it("refuses GPU counts the model or the node cannot take", () => {
    expect(userError(() => inferenceRuntime(mustGetPreset("falcon-7b"), { gpus: 2 }))).toMatch(
      /cannot be split over GPUs \(71 attention heads\)/,
    );
    expect(userError(() => inferenceRuntime(mustGetPreset("phi-2"), { gpus: 3 }))).toBe(
      "gpus must be 1, 2, 4 or 8 (one node's worth), got 3.",
    );
  });
});

describe("multi-node inference pods", () => {
  it("vLLM keeps tensor parallelism inside a node and makes the nodes pipeline stages over Ray", () => {
    const spec = inferenceRuntime(mustGetPreset("llama-3.3-70b-instruct"), { gpus: 1, nodes: 2 });
    expect(spec.command.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(spec.args.slice(0, 2)).toEqual(["python3", "/workspace/vllm/inference_api.py"]);
    expect(flag(spec.args, "tensor-parallel-size")).toBe("1");
    expect(flag(spec.args, "pipeline-parallel-size")).toBe("2");
    expect(flag(spec.args, "distributed-executor-backend")).toBe("ray");
    expect(spec.env).toEqual([{ name: "KAITO_NODES_PER_REPLICA", value: "2" }]);
    expect(spec.ports).toEqual([
      { name: "http", containerPort: 5000 },
      { name: "rendezvous", containerPort: 29500 },
    ]);
    expect(spec.gpus).toBe(1);

    const eight = inferenceRuntime(mustGetPreset("llama-3.3-70b-instruct"), { gpus: 8, nodes: 2 });
    expect([flag(eight.args, "tensor-parallel-size"), flag(eight.args, "pipeline-parallel-size")]).toEqual([
      "8",
      "2",
    ]);
    // 10 KV heads allow 2-way tensor parallelism: 8 GPUs are 4 stages, two nodes 8.
    const medium = inferenceRuntime(mustGetPreset("phi-3-medium-4k-instruct"), { gpus: 8, nodes: 2 });
    expect([flag(medium.args, "tensor-parallel-size"), flag(medium.args, "pipeline-parallel-size")]).toEqual([
      "2",
      "8",
    ]);
  });

  it("transformers launches one accelerate process per node, rendezvousing on port 29500", () => {
    const spec = inferenceRuntime(mustGetPreset("phi-3-medium-4k-instruct"), {
      runtime: "transformers",
      gpus: 4,
      nodes: 3,
    });
    expect(spec.command.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(spec.args.slice(0, 9)).toEqual([
      "--num_processes",
      "3",
      "--num_machines",
      "3",
      "--main_process_port",
      "29500",
      "--gpu_ids",
      "all",
      "/workspace/tfs/inference_api.py",
    ]);
    // Rank and leader differ per pod: the wrapper adds them (multinode.test.ts).
    expect(flag(spec.args, "machine_rank")).toBeUndefined();
    expect(flag(spec.args, "main_process_ip")).toBeUndefined();
  });

  it("stays single-node for one node and refuses splits the model or the count rule out", () => {
    const one = inferenceRuntime(mustGetPreset("phi-2"), { nodes: 1 });
    expect(one.command).toEqual(["python3", "/workspace/vllm/inference_api.py"]);
    expect(flag(one.args, "distributed-executor-backend")).toBeUndefined();
    expect(one.env).toEqual([]);
    expect(userError(() => inferenceRuntime(mustGetPreset("falcon-7b"), { nodes: 2 }))).toMatch(
      /cannot be split over GPUs \(71 attention heads\)/,
    );
    expect(userError(() => inferenceRuntime(mustGetPreset("phi-2"), { nodes: 0 }))).toBe(
      "nodes must be a whole number of at least 1, got 0.",
    );
  });
});

describe("transformers inference pods", () => {
  it("launches KAITO's transformers server through accelerate with the preset's flags", () => {
    const spec = inferenceRuntime(mustGetPreset("phi-3-mini-4k-instruct"), {
      runtime: "transformers",
      dtype: "int4",
    });
    expect(spec.command).toEqual(["accelerate", "launch"]);
    expect(spec.args.slice(0, 9)).toEqual([
      "--num_processes",
      "1",
      "--num_machines",
      "1",
      "--machine_rank",
      "0",
      "--gpu_ids",
      "all",
      "/workspace/tfs/inference_api.py",
    ]);
    expect(flag(spec.args, "pretrained_model_name_or_path")).toBe("/workspace/tfs/weights");
    expect(flag(spec.args, "torch_dtype")).toBe("bfloat16");
    expect(flag(spec.args, "trust_remote_code")).toBe("");
    expect(flag(spec.args, "load_in_4bit")).toBe("");
  });
});

describe("vLLM on a known GPU", () => {
  const v100 = { memoryGiB: 16, computeCapability: 7.0 };
  const a100 = { memoryGiB: 80, computeCapability: 8.0 };

  it("takes the longest context the model accepts and the GPUs' KV cache holds, in whole blocks", () => {
    const short = inferenceRuntime(mustGetPreset("phi-3-mini-4k-instruct"), { gpu: v100 });
    expect(flag(short.args, "max-model-len")).toBe("4096"); // the model's own limit
    const long = Number(
      flag(inferenceRuntime(mustGetPreset("phi-3-mini-128k-instruct"), { gpu: v100 }).args, "max-model-len"),
    );
    expect(long % 16).toBe(0);
    expect(long).toBeGreaterThan(4096);
    expect(long).toBeLessThan(131072); // 16 GiB cannot hold 128k tokens of phi-3's KV cache
    const roomier = Number(
      flag(inferenceRuntime(mustGetPreset("phi-3-mini-128k-instruct"), { gpu: a100 }).args, "max-model-len"),
    );
    expect(roomier).toBeGreaterThan(long);
    // An explicit context is kept as asked.
    const asked = inferenceRuntime(mustGetPreset("phi-3-mini-128k-instruct"), {
      gpu: a100,
      contextLength: 8192,
    });
    expect(flag(asked.args, "max-model-len")).toBe("8192");
  });

  it("serves a bfloat16 model in float16 on a V100 and bfloat16 on an A100, as both servers", () => {
    const phi3 = mustGetPreset("phi-3-mini-4k-instruct");
    expect(flag(inferenceRuntime(phi3, { gpu: v100 }).args, "dtype")).toBe("float16");
    expect(flag(inferenceRuntime(phi3, { gpu: a100 }).args, "dtype")).toBe("bfloat16");
    expect(flag(inferenceRuntime(phi3, { gpu: v100, runtime: "transformers" }).args, "torch_dtype")).toBe(
      "float16",
    );
    expect(flag(inferenceRuntime(phi3, { gpu: v100 }).args, "gpu-memory-utilization")).toBe("0.90");
    expect(flag(inferenceRuntime(phi3, { gpu: a100 }).args, "gpu-memory-utilization")).toBe("0.95");
  });

  it("refuses adapters vLLM cannot apply: partial strengths, or a model without LoRA support", () => {
    const phi3 = mustGetPreset("phi-3-mini-4k-instruct");
    expect(userError(() => inferenceRuntime(phi3, { adapters: [{ name: "a", strength: "0.5" }] }))).toMatch(
      /^vLLM applies adapters at full strength only, and adapter "a" asks for 0\.5/,
    );
    const falcon = mustGetPreset("falcon-7b");
    expect(userError(() => inferenceRuntime(falcon, { adapters: [{ name: "a", strength: "1.0" }] }))).toMatch(
      /^vLLM cannot serve LoRA adapters on "falcon-7b"/,
    );
    expect(
      flag(inferenceRuntime(phi3, { adapters: [{ name: "a", strength: "1" }] }).args, "enable-lora"),
    ).toBe("");
  });
});

describe("tuning jobs", () => {
  it("runs KAITO's trainer with the method's default config template", () => {
    const spec = tuningRuntime(mustGetPreset("phi-3-mini-4k-instruct"), "qlora", { gpus: 2 });
    expect(spec.image).toBe("mcr.microsoft.com/aks/kaito/kaito-phi-3-mini-4k-instruct:0.1.1");
    expect(spec.args).toEqual(["--num_processes", "2", "/workspace/tfs/fine_tuning.py"]);
    expect(spec.config).toEqual({
      key: "training_config.yaml",
      path: "/mnt/config/training_config.yaml",
      defaultConfigMap: "qlora-params-template",
    });
    expect(spec.outputDir).toBe("/mnt/results");
    expect(spec.env).toContainEqual({
      name: "DEFAULT_TARGET_MODULES",
      value: "k_proj,q_proj,v_proj,o_proj,gate_proj,down_proj,up_proj",
    });
    expect(spec.readinessProbe).toBeUndefined();
  });

  it("trains one copy per GPU when it fits one, and one copy over all GPUs when it does not", () => {
    expect(tuningRuntime(mustGetPreset("phi-2"), "lora", { gpus: 2, gpuMemoryGiB: 80 }).args[1]).toBe("2");
    expect(tuningRuntime(mustGetPreset("falcon-40b"), "lora", { gpus: 2, gpuMemoryGiB: 80 }).args[1]).toBe(
      "1",
    );
  });

  it("refuses presets that cannot be tuned and methods they do not offer", () => {
    expect(userError(() => tuningRuntime(mustGetPreset("mistral-7b-instruct"), "lora"))).toMatch(
      /^preset "mistral-7b-instruct" does not support tuning; pick a base model/,
    );
  });
});
