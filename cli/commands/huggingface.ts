import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { CommandIO } from "../command.ts";
import { errorMessage, UserError } from "../../lib/errors.ts";
import { systemClock } from "../../lib/clock.ts";
import { HuggingFaceHub, isHuggingFaceError, type Preset } from "../../presets/index.ts";
import { hubEndpoint } from "./controller.ts";

/** The flags every command that reads Hugging Face models takes. */
export const huggingFaceOptions = {
  "hf-endpoint": { type: "string" },
  "hf-token-file": { type: "string" },
} as const;

export const huggingFaceUsage = `  --hf-endpoint URL    the Hugging Face Hub to read models from (or $HF_ENDPOINT;
                       default https://huggingface.co)
  --hf-token-file FILE a file holding a Hugging Face token, for gated models (or $HF_TOKEN)`;

/**
 * Reads Hugging Face models as the operator does (same client, same sizing), with the token of
 * --hf-token-file or $HF_TOKEN. A refusal becomes the one-sentence UserError the CLI prints.
 */
export class CliModels {
  private readonly hub: HuggingFaceHub;
  private readonly token: Promise<string | undefined>;

  constructor(values: { "hf-endpoint"?: string; "hf-token-file"?: string }, io: CommandIO) {
    this.hub = new HuggingFaceHub({
      endpoint: hubEndpoint(values["hf-endpoint"] ?? io.env.HF_ENDPOINT),
      clock: systemClock,
    });
    const file = values["hf-token-file"];
    this.token = file
      ? readFile(resolve(io.cwd, file), "utf8").then(
          (t) => t.trim() || undefined,
          (e: unknown) => {
            throw new UserError(`cannot read --hf-token-file ${file}: ${errorMessage(e)}.`);
          },
        )
      : Promise.resolve(io.env.HF_TOKEN?.trim() || undefined);
  }

  async preset(id: string, signal?: AbortSignal): Promise<Preset> {
    try {
      return await this.hub.preset(id, { token: await this.token, signal });
    } catch (e) {
      if (isHuggingFaceError(e)) {
        // The operator's messages point at modelAccessSecret; here the token comes from the CLI.
        const cli: Partial<Record<string, string>> = {
          ModelAccessRequired: `"${id}" is gated on Hugging Face: accept its terms there, then give your access token with --hf-token-file or $HF_TOKEN.`,
          ModelAccessDenied: `the Hugging Face token given has no access to gated model "${id}": request access on its page with the token's account.`,
          InvalidToken: `Hugging Face refused the token given with --hf-token-file or $HF_TOKEN: use a valid access token.`,
        };
        throw new UserError(cli[e.code] ?? e.message);
      }
      throw e;
    }
  }
}
