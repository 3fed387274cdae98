export type RefreshErrorCode =
  "InvalidRegion" | "Throttled" | "Unauthorized" | "ArmRequestFailed" | "InvalidResponse" | "Aborted";

/** Reading ResourceSkus or Usages from ARM failed; `code` says how, for retry decisions. */
export class RefreshError extends Error {
  override readonly name = "RefreshError";
  readonly code: RefreshErrorCode;
  /** HTTP status of the failed ARM call, when there was one. */
  readonly statusCode?: number;
  /** ARM's own error code (`error.code` in the body), when it sent one. */
  readonly armCode?: string;

  constructor(
    code: RefreshErrorCode,
    message: string,
    details: { statusCode?: number; armCode?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.statusCode !== undefined) this.statusCode = details.statusCode;
    if (details.armCode !== undefined) this.armCode = details.armCode;
  }
}

export function isRefreshError(e: unknown): e is RefreshError {
  return e instanceof RefreshError || (e instanceof Error && e.name === "RefreshError");
}
