/**
 * What one planning request may ask of the planner. A fleet of 10,000 workspaces plans in a
 * couple of seconds; these leave room for five times that and refuse what would only tie up a
 * worker (or the memory of the process) for nothing.
 */

/**
 * Largest Plan request the server reads (32 MiB: a 50,000-demand problem fits with room); a
 * larger one fails with RESOURCE_EXHAUSTED before it is decoded.
 */
export const MAX_REQUEST_BYTES = 32 * 1024 * 1024;

/** A plan's time limit when the call sets no deadline, and the most any call gets. */
export const MAX_PLAN_TIME_LIMIT_MS = 10_000;

/**
 * Time kept back from the call's deadline for copying the plan out and answering: the solver
 * stops this much before the caller would give up.
 */
export const ANSWER_MARGIN_MS = 1_000;

/** Most demands, existing nodes and catalogue entries in one problem. */
export const MAX_DEMANDS = 50_000;
export const MAX_NODES = 50_000;
export const MAX_CATALOG = 2_000;
