// The Hub client (presets/huggingface/hub.ts) against the stand-in: what the Hub serves becomes a
// preset, what it refuses becomes the error that says what to fix, and the cache spares the Hub.
import https from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../lib/clock.ts";
import { HuggingFaceHub, inferenceRequirement, isHuggingFaceError } from "../../presets/index.ts";
import { gptOss20b, grantedToken, llama32_1b, qwen3_8b, ungrantedToken } from "./fixtures.ts";
import { startHuggingFaceStandin, type HuggingFaceStandin } from "./server.ts";

let standin: HuggingFaceStandin;
beforeAll(async () => {
  standin = await startHuggingFaceStandin();
});
afterAll(async () => {
  await standin?.close();
});

function hub(clock = new FakeClock()) {
  return { clock, hub: new HuggingFaceHub({ endpoint: standin.url, clock }) };
}

async function refusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    if (isHuggingFaceError(e)) return { code: e.code, status: e.status, message: e.message };
    throw e;
  }
  throw new Error("expected a refusal");
}

describe("the Hugging Face stand-in and the Hub client", () => {
  it("sizes a public model from its config.json and pins the commit the Hub resolved", async () => {
    const preset = await hub().hub.preset(qwen3_8b.id);
    expect(preset.figures).toMatchObject({
      parameters: 8190735360,
      layers: 36,
      kvHeads: 8,
      maxContext: 40960,
    });
    expect(preset.huggingFace).toEqual({ repo: qwen3_8b.id, revision: qwen3_8b.sha });
    expect(inferenceRequirement(preset).breakdown.weightsGiB).toBeCloseTo((8190735360 * 2) / 1024 ** 3, 1);
  });

  it("sizes packed MXFP4 experts by their bytes, not their element count", async () => {
    const preset = await hub().hub.preset(gptOss20b.id);
    expect(preset.figures.quantization).toBe("mxfp4");
    expect(preset.figures.checkpointGiB).toBeCloseTo(12.82, 2);
    expect(Math.abs(preset.figures.parameters / 20.91e9 - 1)).toBeLessThan(0.01);
  });

  it("refuses an unknown model: 401 to anonymous callers, 404 with a token, both RepoNotFound", async () => {
    const anonymous = await refusal(hub().hub.preset("nobody/no-such-model"));
    expect(anonymous).toMatchObject({ code: "ModelNotFound", status: 401 });
    expect(anonymous.message).toContain('Hugging Face has no model "nobody/no-such-model"');
    const authenticated = await refusal(hub().hub.preset("nobody/no-such-model", { token: grantedToken }));
    expect(authenticated).toMatchObject({ code: "ModelNotFound", status: 404 });
  });

  it("refuses a gated model's files without a token (401), to a token without access (403), and a bad token", async () => {
    const none = await refusal(hub().hub.preset(llama32_1b.id));
    expect(none).toMatchObject({ code: "ModelAccessRequired", status: 401 });
    expect(none.message).toContain("is gated on Hugging Face");
    expect(none.message).toContain("modelAccessSecret");
    expect(await refusal(hub().hub.preset(llama32_1b.id, { token: ungrantedToken }))).toMatchObject({
      code: "ModelAccessDenied",
      status: 403,
    });
    const bad = await refusal(hub().hub.preset(llama32_1b.id, { token: "hf_not_a_real_token" }));
    expect(bad).toMatchObject({ code: "InvalidToken", status: 401 });
    expect(JSON.stringify(bad)).not.toContain("hf_not_a_real_token");
    const granted = await hub().hub.preset(llama32_1b.id, { token: grantedToken });
    expect(granted.weights).toEqual({ kind: "download", gated: true });
  });

  it("refuses an unknown revision and a repo without config.json", async () => {
    expect(await refusal(hub().hub.preset(qwen3_8b.id, { revision: "v9" }))).toMatchObject({
      code: "RevisionNotFound",
      status: 404,
    });
    expect(await refusal(hub().hub.preset("someone/gguf-only"))).toMatchObject({
      code: "ConfigNotFound",
      status: 404,
    });
  });

  it("caches successes for an hour and refusals for a minute, per token, on the injected clock", async () => {
    const { clock, hub: h } = hub();
    const count = () => standin.requests.length;
    const before = count();
    await h.preset(qwen3_8b.id);
    await h.preset(qwen3_8b.id);
    expect(count() - before).toBe(2); // model info + config.json, once
    clock.step(59 * 60_000);
    await h.preset(qwen3_8b.id);
    expect(count() - before).toBe(2);
    clock.step(2 * 60_000);
    await h.preset(qwen3_8b.id);
    expect(count() - before).toBe(4);

    const gated = count();
    await refusal(h.preset(llama32_1b.id));
    await refusal(h.preset(llama32_1b.id));
    expect(count() - gated).toBe(2);
    // A token is a different question: asked at once, not answered from the anonymous refusal.
    await h.preset(llama32_1b.id, { token: grantedToken });
    expect(count() - gated).toBe(4);
    clock.step(61_000);
    await refusal(h.preset(llama32_1b.id));
    expect(count() - gated).toBe(6);
  });

  it("reports an unreachable Hub as retryable", async () => {
    const h = new HuggingFaceHub({ endpoint: "http://127.0.0.1:9", clock: new FakeClock() });
    const e = await refusal(h.preset(qwen3_8b.id));
    expect(e.code).toBe("HubUnavailable");
    expect(e.message).toContain("could not reach Hugging Face at http://127.0.0.1:9");
  });

  it("serves HTTPS with a throwaway certificate", async () => {
    const secure = await startHuggingFaceStandin({ https: true });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get(`${secure.url}/api/models/${qwen3_8b.id}`, { ca: secure.ca }, (res) => {
            let text = "";
            res.on("data", (d: Buffer) => (text += d));
            res.on("end", () => resolve(text));
          })
          .on("error", reject);
      });
      expect(JSON.parse(body)).toMatchObject({ id: qwen3_8b.id, sha: qwen3_8b.sha, gated: false });
    } finally {
      await secure.close();
    }
  });
});
