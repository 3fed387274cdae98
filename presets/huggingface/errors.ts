/**
 * What can go wrong when reading a model from Hugging Face, each with a sentence that says what
 * to fix. The token is never part of a message: errors carry the model id and the HTTP status.
 */
export type HuggingFaceErrorCode =
  /** No such repository (or a private one the token cannot see). */
  | "ModelNotFound"
  | "RevisionNotFound"
  /** The repository has no config.json at that revision: not a transformers model. */
  | "ConfigNotFound"
  /** Gated, and the request carried no token. */
  | "ModelAccessRequired"
  /** Gated, and the token's account has not been granted access. */
  | "ModelAccessDenied"
  /** The token itself was refused. */
  | "InvalidToken"
  /** config.json lacks a figure the memory model needs. */
  | "ModelUnsupported"
  /** Network failure, 429 or 5xx: worth retrying. */
  | "HubUnavailable";

export class HuggingFaceError extends Error {
  override readonly name = "HuggingFaceError";
  readonly code: HuggingFaceErrorCode;
  readonly model: string;
  readonly status: number | undefined;

  constructor(code: HuggingFaceErrorCode, model: string, message: string, status?: number) {
    super(message);
    this.code = code;
    this.model = model;
    this.status = status;
  }

  /** Whether the same request may succeed later without anyone changing anything. */
  get retryable(): boolean {
    return this.code === "HubUnavailable";
  }
}

export function isHuggingFaceError(e: unknown): e is HuggingFaceError {
  return e instanceof HuggingFaceError || (e instanceof Error && e.name === "HuggingFaceError");
}

const secretHint =
  "set inference.preset.presetOptions.modelAccessSecret to a Secret whose HF_TOKEN key holds";

/**
 * The error for a refused response, read as huggingface_hub's hf_raise_for_status reads it
 * (utils/_http.py): X-Error-Code RepoNotFound, RevisionNotFound, EntryNotFound or GatedRepo
 * decides; a 401 with "Invalid credentials in Authorization header" is a bad token; the Hub
 * answers 401 rather than 404 for a missing repo when the request is anonymous.
 */
export function errorForResponse(
  model: string,
  revision: string,
  status: number,
  headers: { get(name: string): string | null },
  withToken: boolean,
): HuggingFaceError {
  const code = headers.get("x-error-code");
  const message = headers.get("x-error-message") ?? "";
  if (status === 429 || status >= 500) {
    return new HuggingFaceError(
      "HubUnavailable",
      model,
      `Hugging Face answered HTTP ${status} for "${model}"; retrying later.`,
      status,
    );
  }
  if (code === "GatedRepo") {
    return status === 403
      ? new HuggingFaceError(
          "ModelAccessDenied",
          model,
          `the Hugging Face token in modelAccessSecret has no access to gated model "${model}": request access on its page with the token's account, or use another token.`,
          status,
        )
      : new HuggingFaceError(
          "ModelAccessRequired",
          model,
          `"${model}" is gated on Hugging Face: accept its terms there, then ${secretHint} an access token.`,
          status,
        );
  }
  if (status === 401 && /invalid credentials/i.test(message)) {
    return new HuggingFaceError(
      "InvalidToken",
      model,
      `Hugging Face refused the token in modelAccessSecret for "${model}": put a valid access token in its HF_TOKEN key.`,
      status,
    );
  }
  if (code === "RevisionNotFound") {
    return new HuggingFaceError(
      "RevisionNotFound",
      model,
      `"${model}" has no revision "${revision}" on Hugging Face: use a branch, tag or commit it has.`,
      status,
    );
  }
  if (code === "EntryNotFound") {
    return new HuggingFaceError(
      "ConfigNotFound",
      model,
      `"${model}" has no config.json on Hugging Face, so it is not a model kaito can size and serve with vLLM; name a preset or another model.`,
      status,
    );
  }
  if (code === "RepoNotFound" || status === 404 || status === 401) {
    const privateHint = withToken ? "" : `, or, if it is private, ${secretHint} a token that can read it`;
    return new HuggingFaceError(
      "ModelNotFound",
      model,
      `Hugging Face has no model "${model}": check the id (organisation/name, case-sensitive)${privateHint}.`,
      status,
    );
  }
  return new HuggingFaceError(
    "HubUnavailable",
    model,
    `Hugging Face answered HTTP ${status} for "${model}"; retrying later.`,
    status,
  );
}
