export type ConditionStatus = "True" | "False" | "Unknown";

export interface Condition<T extends string = string> {
  type: T;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** Second precision, as metav1.Time serialises. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Returns the list with `next` set: lastTransitionTime moves only when the status changes, so it
 * keeps telling how long a condition has held (deadlines are computed from it).
 */
export function setCondition<C extends Condition>(
  conditions: readonly C[] | undefined,
  next: Omit<C, "lastTransitionTime">,
  nowMs: number,
): C[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const previous = i >= 0 ? list[i] : undefined;
  const lastTransitionTime =
    previous && previous.status === next.status && previous.lastTransitionTime
      ? previous.lastTransitionTime
      : timestamp(nowMs);
  const updated = { ...next, lastTransitionTime } as C;
  if (i >= 0) list[i] = updated;
  else list.push(updated);
  return list;
}

export function findCondition<C extends Condition>(
  conditions: readonly C[] | undefined,
  type: C["type"],
): C | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue<C extends Condition>(conditions: readonly C[] | undefined, type: C["type"]): boolean {
  return findCondition(conditions, type)?.status === "True";
}

/**
 * JSON with every object's keys sorted: the API server returns keys in its own order (a stored
 * condition reads lastTransitionTime, message, ...), so a comparison that minded the order would
 * see a change in every object we built ourselves, and patch it again on every pass.
 */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * A JSON merge patch that turns `before` into `after` at the top level: changed keys carry their
 * new value (objects and arrays whole), removed keys carry null. Empty when nothing changed.
 */
export function topLevelMergePatch(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (!(key in after) || after[key] === undefined) {
      if (key in before && before[key] !== undefined) patch[key] = null;
    } else if (canonicalJson(before[key]) !== canonicalJson(after[key])) {
      patch[key] = after[key];
    }
  }
  return patch;
}
