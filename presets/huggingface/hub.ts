/**
 * Reads a model's config.json and model info from the Hugging Face Hub, or anything that speaks
 * its REST (HF_ENDPOINT mirrors, test/huggingface-standin/), and turns them into a preset.
 *
 *   GET <endpoint>/api/models/<id>[/revision/<rev>]   model info: sha, gated, safetensors counts
 *   GET <endpoint>/<id>/resolve/<rev>/config.json     with "Authorization: Bearer <token>"
 *
 * Results are cached per model, revision and token (by a hash of it: the token itself is never
 * kept as a key, logged or put in a message), bounded, on the injected clock: a success for an
 * hour, a refusal (unknown, gated, bad token) for a minute so a fix is seen soon, an outage not
 * at all. Concurrent asks for one model share one request.
 */
import { createHash } from "node:crypto";
import type { Clock } from "../../lib/clock.ts";
import { errorMessage } from "../../lib/errors.ts";
import { TtlCache } from "../../lib/ttl-cache.ts";
import type { Preset } from "../types.ts";
import { huggingFacePreset, parseModelInfo, type ModelInfo } from "./config.ts";
import { errorForResponse, HuggingFaceError, isHuggingFaceError } from "./errors.ts";

export const DEFAULT_HF_ENDPOINT = "https://huggingface.co";

export interface HuggingFaceHubOptions {
  /** The Hub's base URL, as HF_ENDPOINT; default https://huggingface.co. */
  endpoint?: string;
  clock: Clock;
  /** The fetch to use (tests count requests); default the global one. */
  fetch?: typeof fetch;
  successTtlMs?: number;
  refusalTtlMs?: number;
  maxEntries?: number;
  /** Each request gives up after this long. */
  timeoutMs?: number;
}

export interface ModelRequest {
  /** Branch, tag or commit; default "main". */
  revision?: string;
  /** A Hugging Face access token, for gated and private models. */
  token?: string;
  signal?: AbortSignal;
}

type Outcome = { preset: Preset } | { error: HuggingFaceError };

/** Where presets for Hugging Face model ids come from; the controller and the CLI take one. */
export interface HuggingFaceSource {
  readonly endpoint: string;
  preset(model: string, request?: ModelRequest): Promise<Preset>;
}

export class HuggingFaceHub implements HuggingFaceSource {
  readonly endpoint: string;
  private readonly clock: Clock;
  private readonly fetch: typeof fetch;
  private readonly successTtlMs: number;
  private readonly refusalTtlMs: number;
  private readonly timeoutMs: number;
  private readonly cache: TtlCache<string, Outcome>;

  constructor(o: HuggingFaceHubOptions) {
    const endpoint = o.endpoint ?? DEFAULT_HF_ENDPOINT;
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new Error(`the Hugging Face endpoint "${endpoint}" is not a URL`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
      throw new Error(`the Hugging Face endpoint "${endpoint}" must be an http(s) URL`);
    this.endpoint = endpoint.replace(/\/+$/, "");
    this.clock = o.clock;
    this.fetch = o.fetch ?? fetch;
    this.successTtlMs = o.successTtlMs ?? 60 * 60_000;
    this.refusalTtlMs = o.refusalTtlMs ?? 60_000;
    this.timeoutMs = o.timeoutMs ?? 15_000;
    this.cache = new TtlCache({ clock: o.clock, maxEntries: o.maxEntries ?? 256 });
  }

  async preset(model: string, request: ModelRequest = {}): Promise<Preset> {
    const revision = request.revision ?? "main";
    const tokenTag = request.token
      ? createHash("sha256").update(request.token).digest("hex").slice(0, 16)
      : "-";
    const outcome = await this.cache.get(
      `${model}@${revision}#${tokenTag}`,
      () => this.load(model, revision, request.token, request.signal),
      (o) => ("preset" in o ? this.successTtlMs : this.refusalTtlMs),
    );
    if ("error" in outcome) throw outcome.error;
    return outcome.preset;
  }

  /** One look at the Hub; refusals come back as outcomes (cached), outages throw (not cached). */
  private async load(
    model: string,
    revision: string,
    token: string | undefined,
    signal?: AbortSignal,
  ): Promise<Outcome> {
    try {
      const rev = encodeURIComponent(revision);
      const info = parseModelInfo(
        await this.getJson(
          model,
          revision,
          `/api/models/${model}${revision === "main" ? "" : `/revision/${rev}`}`,
          token,
          signal,
        ),
      );
      const config = await this.getJson(
        model,
        revision,
        `/${model}/resolve/${rev}/config.json`,
        token,
        signal,
      );
      return { preset: huggingFacePreset(model, config, info satisfies ModelInfo, { revision }) };
    } catch (e) {
      if (isHuggingFaceError(e) && !e.retryable) return { error: e };
      throw e;
    }
  }

  private async getJson(
    model: string,
    revision: string,
    path: string,
    token: string | undefined,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const timeout = new AbortController();
    const cancel = this.clock.schedule(this.timeoutMs, () =>
      timeout.abort(new Error(`no answer within ${this.timeoutMs / 1000} s`)),
    );
    let res: Response;
    try {
      res = await this.fetch(`${this.endpoint}${path}`, {
        headers: {
          accept: "application/json",
          "user-agent": "kaito-ts",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        signal: signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal,
      });
    } catch (e) {
      if (signal?.aborted) throw e;
      const cause = timeout.signal.aborted ? errorMessage(timeout.signal.reason) : errorMessage(e);
      throw new HuggingFaceError(
        "HubUnavailable",
        model,
        `could not reach Hugging Face at ${this.endpoint} for "${model}" (${cause}); retrying later.`,
      );
    } finally {
      cancel();
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw errorForResponse(model, revision, res.status, res.headers, token !== undefined);
    }
    try {
      return await res.json();
    } catch {
      throw new HuggingFaceError(
        "HubUnavailable",
        model,
        `Hugging Face sent something other than JSON for ${path.split("/").pop()} of "${model}"; retrying later.`,
        res.status,
      );
    }
  }
}
