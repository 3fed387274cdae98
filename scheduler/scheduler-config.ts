import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { isObject } from "./fields.ts";

/** deploy/scheduler/kube-scheduler-config.yaml: the one source of the extender's wiring. */
export const kubeSchedulerConfigFile = path.resolve(
  import.meta.dirname,
  "../deploy/scheduler/kube-scheduler-config.yaml",
);

export interface SchedulerConfigOverrides {
  /** Where kube-scheduler reaches the extender, e.g. http://127.0.0.1:8888. */
  url: string;
  /** Send full Node objects instead of names (nodeCacheCapable: false). */
  nodeCacheCapable?: boolean;
  /** Drop the bind verb, so kube-scheduler binds GPU pods itself. */
  bind?: boolean;
}

/**
 * The deploy configuration with the extender's URL (and optionally its mode) replaced. It keeps
 * the kaito-scheduler's profile and leader election, which a scheduler beside another in the same
 * cluster replaces with its own (a profile name of its own, no Lease).
 */
export function kubeSchedulerConfig(overrides: SchedulerConfigOverrides): Record<string, unknown> {
  const config: unknown = parse(readFileSync(kubeSchedulerConfigFile, "utf8"));
  const extenders = isObject(config) ? config.extenders : undefined;
  if (!isObject(config) || !Array.isArray(extenders) || !isObject(extenders[0]))
    throw new Error(`${kubeSchedulerConfigFile} has no extenders[0]`);
  const extender: Record<string, unknown> = { ...extenders[0], urlPrefix: overrides.url };
  if (overrides.nodeCacheCapable !== undefined) extender.nodeCacheCapable = overrides.nodeCacheCapable;
  if (overrides.bind === false) delete extender.bindVerb;
  return { ...config, extenders: [extender, ...extenders.slice(1)] };
}
