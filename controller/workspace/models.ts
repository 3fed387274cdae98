/**
 * Where a Workspace's model comes from when its preset name is a Hugging Face model id: the Hub
 * (or its stand-in, --hf-endpoint), read with the token in presetOptions.modelAccessSecret.
 * Catalogue presets never reach here. The token is read from the Secret on each pass (never
 * cached or logged here; the Hub client keys its cache by a hash of it).
 */
import type { V1Secret } from "@kubernetes/client-node";
import type { Workspace } from "../../crds/index.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import { isNotFound } from "../../kube/errors.ts";
import { resources as api } from "../../kube/resources.ts";
import { getPreset, isHuggingFaceModelId, type HuggingFaceSource, type Preset } from "../../presets/index.ts";

/** The Secret key that holds the token, as in KAITO. */
export const tokenKey = "HF_TOKEN";

/** The model access Secret is missing or lacks its key: the user's to fix, then it is read again. */
export class ModelAccessSecretError extends Error {
  override readonly name = "ModelAccessSecretError";
  readonly reason = "ModelAccessSecretInvalid";
}

export function isModelAccessSecretError(e: unknown): e is ModelAccessSecretError {
  return e instanceof ModelAccessSecretError || (e instanceof Error && e.name === "ModelAccessSecretError");
}

export interface ModelSource {
  /** The preset for the workspace's Hugging Face model id, or undefined for a catalogue preset. */
  presetFor(ws: Workspace, signal?: AbortSignal): Promise<Preset | undefined>;
}

export class HuggingFaceModels implements ModelSource {
  private readonly client: KubeClient;
  private readonly hub: HuggingFaceSource;

  constructor(o: { client: KubeClient; hub: HuggingFaceSource }) {
    this.client = o.client;
    this.hub = o.hub;
  }

  async presetFor(ws: Workspace, signal?: AbortSignal): Promise<Preset | undefined> {
    const spec = ws.inference?.preset ?? ws.tuning?.preset;
    const name = spec?.name?.trim();
    if (!name || getPreset(name) || !isHuggingFaceModelId(name)) return undefined;
    const secret = spec?.presetOptions?.modelAccessSecret;
    const token = secret ? await this.token(secret, ws.metadata!.namespace!) : undefined;
    return this.hub.preset(name, { token, signal });
  }

  private async token(name: string, namespace: string): Promise<string> {
    let secret: V1Secret & KubeObject;
    try {
      secret = await this.client.get<V1Secret & KubeObject>(api.secrets, name, namespace);
    } catch (e) {
      if (isNotFound(e))
        throw new ModelAccessSecretError(
          `presetOptions.modelAccessSecret names Secret "${name}", which namespace ${namespace} does not have: create it with your Hugging Face token under the key ${tokenKey}.`,
        );
      throw e;
    }
    const encoded = secret.data?.[tokenKey];
    const token = encoded ? Buffer.from(encoded, "base64").toString("utf8").trim() : "";
    if (!token)
      throw new ModelAccessSecretError(
        `Secret "${name}" has no ${tokenKey} key: put your Hugging Face access token under ${tokenKey}.`,
      );
    return token;
  }
}
