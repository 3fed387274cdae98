export type PlannerErrorCode =
  "InvalidArgument" | "Unavailable" | "DeadlineExceeded" | "Cancelled" | "Internal";

/**
 * A planner call failed. Both PlannerClient implementations throw this, so callers handle a
 * remote and an in-process planner alike; InvalidArgument carries a one-sentence message that
 * says what to fix in the problem.
 */
export class PlannerError extends Error {
  override readonly name = "PlannerError";
  readonly code: PlannerErrorCode;

  constructor(code: PlannerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isPlannerError(e: unknown): e is PlannerError {
  return e instanceof PlannerError || (e instanceof Error && e.name === "PlannerError");
}
