import type { Logger } from "../../lib/log.ts";

/** What a reconcile asks for next. Throwing means "retry with backoff"; there is no boolean requeue. */
export interface Result {
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  log: Logger;
  /** Aborted when the manager shuts down: long waits should give up. */
  signal: AbortSignal;
}

export interface Reconciler<T> {
  reconcile(object: T, ctx: ReconcileContext): Promise<Result | void>;
}

/** An error that retrying cannot fix (bad spec, unknown preset): logged and counted, never requeued. */
export class TerminalError extends Error {
  override readonly name = "TerminalError";
}

export function isTerminalError(e: unknown): e is TerminalError {
  return e instanceof TerminalError || (e instanceof Error && e.name === "TerminalError");
}

/** Merges phase results: the soonest requeue wins. */
export function minResult(...results: (Result | void | undefined)[]): Result {
  let soonest: number | undefined;
  for (const r of results) {
    const after = r?.requeueAfterMs;
    if (after !== undefined && (soonest === undefined || after < soonest)) soonest = after;
  }
  return soonest === undefined ? {} : { requeueAfterMs: soonest };
}
