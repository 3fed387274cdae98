import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantedToken, llama32_1b, qwen3_8b } from "../../test/huggingface-standin/fixtures.ts";
import { startHuggingFaceStandin, type HuggingFaceStandin } from "../../test/huggingface-standin/server.ts";
import { runCli } from "../main.ts";
import { estimateCommand, parameterCount } from "./estimate.ts";
import { captureIO, type CapturedIO } from "../test-io.ts";

function io(): CapturedIO {
  return captureIO();
}

async function json(args: string[]): Promise<Record<string, unknown>> {
  const t = io();
  expect(await estimateCommand.run([...args, "-o", "json"], t)).toBe(0);
  return JSON.parse(t.out()) as Record<string, unknown>;
}

/** Runs through the CLI entry point and returns the exit code and stderr. */
async function fails(args: string[]): Promise<{ code: number; err: string }> {
  const t = io();
  const code = await runCli(["estimate", ...args], t);
  return { code, err: t.err() };
}

describe("kaito estimate for a preset", () => {
  it("prints the breakdown and GPU counts for common GPU sizes", async () => {
    const t = io();
    expect(await estimateCommand.run(["--preset", "llama-3.1-8b-instruct"], t)).toBe(0);
    const out = t.out();
    expect(out).toContain("serving  vllm, bf16, context 4096, concurrency 1");
    expect(out).toMatch(/^weights\s+14\.96\s+bf16$/m);
    expect(out).toMatch(/^KV cache\s+0\.50\s+128 KiB per token x 4096 tokens x 1$/m);
    expect(out).toMatch(/^total\s+20\.57\s/m);
    expect(out).toMatch(/^min per GPU\s+4\.81\s+split over 8 GPUs$/m);
    expect(out).toMatch(/^16 GiB\s+2$/m);
    expect(out).toMatch(/^24 GiB\s+1$/m);
  });

  it("honours context, concurrency, dtype and runtime", async () => {
    const r = await json([
      "--preset",
      "llama-3.3-70b-instruct",
      "--context",
      "32768",
      "--concurrency",
      "4",
      "--dtype",
      "int4",
    ]);
    expect(r.settings).toEqual({ runtime: "vllm", contextLength: 32768, concurrency: 4, dtype: "int4" });
    expect(r.breakdown).toMatchObject({ kvCacheGiB: 40 });
    expect(r.gpusPerReplica).toMatchObject({ "16": 8, "40": 4, "80": 2, "94": 1 });
    const long = await json([
      "--preset",
      "llama-3.3-70b-instruct",
      "--context",
      "131072",
      "--concurrency",
      "4",
    ]);
    expect(long.gpusPerReplica).toMatchObject({ "16": null, "80": 8 });
    const tf = await json(["--preset", "phi-2", "--runtime", "transformers"]);
    expect(tf.settings).toMatchObject({ runtime: "transformers" });
  });

  it("says when a model cannot be split and does not fit", async () => {
    const t = io();
    await estimateCommand.run(["--preset", "falcon-7b"], t);
    expect(t.out()).toMatch(/^min per GPU\s+17\.62\s+cannot be split$/m);
    expect(t.out()).toMatch(/^16 GiB\s+does not fit on 1$/m);
  });

  it("estimates tuning, with --context as sequence length and --concurrency as batch size", async () => {
    const r = await json([
      "--preset",
      "falcon-40b",
      "--tuning",
      "lora",
      "--context",
      "512",
      "--concurrency",
      "2",
    ]);
    expect(r.method).toBe("lora");
    expect(r.settings).toMatchObject({ sequenceLength: 512, batchSize: 2 });
    expect(r.gpusPerReplica).toMatchObject({ "80": 2 });
    const t = io();
    await estimateCommand.run(["--preset", "phi-2", "--tuning", "qlora"], t);
    expect(t.out()).toMatch(/^weights\s+[\d.]+\s+4-bit NF4, frozen$/m);
  });
});

describe("kaito estimate for a custom model", () => {
  it("takes the figures from flags, defaulting head dim and vocabulary", async () => {
    const r = await json([
      "--params",
      "7.2e9",
      "--layers",
      "32",
      "--hidden",
      "4096",
      "--heads",
      "32",
      "--kv-heads",
      "8",
    ]);
    expect(r.model).toMatchObject({
      name: "custom",
      parameters: 7.2e9,
      headDim: 128,
      vocabSize: 32000,
      kvHeads: 8,
    });
    // 7.2e9 x 2 bytes = 13.41 GiB of weights; 128 KiB per token.
    expect(r.breakdown).toMatchObject({ weightsGiB: 13.42, kvBytesPerToken: 131072 });
  });

  it("reads parameter counts as 7.2e9, 7200000000, 7.2B or 800M", () => {
    expect(parameterCount("7.2e9")).toBe(7.2e9);
    expect(parameterCount("7200000000")).toBe(7.2e9);
    expect(parameterCount("7.2B")).toBe(7.2e9);
    expect(parameterCount("800M")).toBe(8e8);
  });
});

describe("kaito estimate input errors", () => {
  it.each([
    [
      [],
      "kaito estimate: name a model with --preset NAME, or describe one with --params, --layers, --hidden, --heads and --kv-heads.\n",
    ],
    [
      ["--preset", "phi-2", "--layers", "32"],
      "kaito estimate: use either --preset or the model figures (--layers), not both.\n",
    ],
    [
      ["--params", "7e9", "--layers", "32"],
      "kaito estimate: a custom model also needs --hidden, --heads, --kv-heads; see `npm run kaito -- estimate --help`.\n",
    ],
    [["--preset", "phi2"], 'kaito estimate: unknown preset "phi2"; did you mean "phi-2" or "phi-4"?\n'],
    [
      ["--preset", "phi-2", "--context", "4096"],
      'kaito estimate: context length 4096 exceeds the 2048-token limit of "phi-2"; use at most 2048.\n',
    ],
    [
      ["--preset", "phi-2", "--context", "lots"],
      'kaito estimate: --context must be a positive whole number, got "lots".\n',
    ],
    [
      ["--preset", "phi-2", "--dtype", "fp8"],
      'kaito estimate: --dtype must be bf16, fp16, int8, int4; got "fp8".\n',
    ],
    [
      ["--preset", "phi-2", "--runtime", "tgi"],
      'kaito estimate: --runtime must be vllm, transformers; got "tgi".\n',
    ],
    [
      ["--preset", "phi-2", "--tuning", "full"],
      'kaito estimate: --tuning must be lora, qlora; got "full".\n',
    ],
    [
      ["--preset", "phi-2", "--tuning", "lora", "--dtype", "int4"],
      "kaito estimate: --runtime and --dtype apply to serving only; drop them when estimating --tuning lora.\n",
    ],
    [
      ["--params", "seven", "--layers", "32", "--hidden", "4096", "--heads", "32", "--kv-heads", "8"],
      'kaito estimate: --params must be a parameter count such as 7.2e9 or 7.2B, got "seven".\n',
    ],
    [
      ["--params", "7e9", "--layers", "32", "--hidden", "4096", "--heads", "32", "--kv-heads", "5"],
      "kaito estimate: the model figures do not add up: kvHeads (5) must divide attentionHeads (32).\n",
    ],
  ])("%j fails with one sentence", async (args, message) => {
    expect(await fails(args)).toEqual({ code: 1, err: message });
  });

  it("turns unknown flags into a user error pointing at --help", async () => {
    const r = await fails(["--preset", "phi-2", "--gpus", "2"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^kaito estimate: .*--gpus.*; run `npm run kaito -- estimate --help` for the options\.\n$/,
    );
  });
});

describe("kaito estimate --model, against the Hugging Face stand-in", () => {
  let standin: HuggingFaceStandin;
  beforeAll(async () => {
    standin = await startHuggingFaceStandin();
  });
  afterAll(async () => {
    await standin?.close();
  });
  const hf = () => ["--hf-endpoint", standin.url];

  it("sizes a model from its config.json as the operator does", async () => {
    const r = await json(["--model", qwen3_8b.id, ...hf()]);
    expect(r.model).toMatchObject({ name: qwen3_8b.id, parameters: 8190735360, layers: 36, kvHeads: 8 });
    const t = io();
    expect(await estimateCommand.run(["--model", qwen3_8b.id, ...hf()], t)).toBe(0);
    expect(t.out()).toMatch(/^model {4}Qwen\/Qwen3-8B: 8\.19B parameters, 36 layers/m);
  });

  it("takes a catalogue model's Hugging Face id without asking the Hub", async () => {
    const before = standin.requests.length;
    const r = await json(["--model", "google/gemma-3-4b-it", ...hf()]);
    expect((r.model as { name: string }).name).toBe("gemma-3-4b-instruct");
    expect(standin.requests.length).toBe(before);
  });

  it("reads a gated model with the token of --hf-token-file or $HF_TOKEN, and says how without one", async () => {
    const refused = await fails(["--model", llama32_1b.id, ...hf()]);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain(`"${llama32_1b.id}" is gated on Hugging Face`);
    expect(refused.err).toContain("--hf-token-file or $HF_TOKEN");
    const t = io();
    t.env.HF_TOKEN = grantedToken;
    expect(await estimateCommand.run(["--model", llama32_1b.id, ...hf(), "-o", "json"], t)).toBe(0);
    expect(JSON.parse(t.out()).model.layers).toBe(16);
  });

  it("says an unknown model is unknown, and refuses a name that is no id", async () => {
    expect((await fails(["--model", "nobody/nothing", ...hf()])).err).toContain(
      'Hugging Face has no model "nobody/nothing"',
    );
    expect((await fails(["--model", "qwen3", ...hf()])).err).toContain(
      "--model takes a Hugging Face model id",
    );
  });
});
