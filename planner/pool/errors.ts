export type SolvePoolErrorCode = "Cancelled" | "DeadlineExceeded" | "Closed" | "Failed";

/**
 * A solve in the pool did not return a plan: its caller cancelled it, it overran its time
 * limit by more than the grace (its worker is then ended), the pool closed, or the worker
 * failed. Internal failures carry the worker's message.
 */
export class SolvePoolError extends Error {
  override readonly name = "SolvePoolError";
  readonly code: SolvePoolErrorCode;

  constructor(code: SolvePoolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isSolvePoolError(e: unknown): e is SolvePoolError {
  return e instanceof SolvePoolError || (e instanceof Error && e.name === "SolvePoolError");
}
