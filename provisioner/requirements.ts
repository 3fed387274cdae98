import type { Machine } from "../crds/index.ts";
import { instanceTypeLabel, zoneLabel } from "../crds/index.ts";

/**
 * Labels a Machine's node must carry: the Machine's own labels plus every requirement that
 * pins a key to one value (`In` with a single value). A requirement that allows several values
 * is the cloud's choice, and the choice shows on the instance's labels instead.
 */
export function requiredLabels(machine: Machine): Record<string, string> {
  const labels: Record<string, string> = { ...(machine.metadata?.labels ?? {}) };
  for (const r of machine.spec?.requirements ?? []) {
    if (r.operator === "In" && r.values?.length === 1) labels[r.key] = r.values[0]!;
  }
  return labels;
}

/** The values a requirement `key In [...]` allows, in order; undefined when the key is unconstrained. */
export function allowedValues(machine: Machine, key: string): string[] | undefined {
  let allowed: string[] | undefined;
  for (const r of machine.spec?.requirements ?? []) {
    if (r.key !== key || r.operator !== "In") continue;
    const values = r.values ?? [];
    allowed = allowed ? allowed.filter((v) => values.includes(v)) : [...values];
  }
  const label = machine.metadata?.labels?.[key];
  if (label !== undefined) allowed = allowed ? allowed.filter((v) => v === label) : [label];
  return allowed;
}

export const allowedInstanceTypes = (m: Machine) => allowedValues(m, instanceTypeLabel);
export const allowedZones = (m: Machine) => allowedValues(m, zoneLabel);
