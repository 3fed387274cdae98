import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";
import type { WirePlan, WireProblem, WireSku } from "./codec.ts";

export const PLANNER_PROTO = fileURLToPath(new URL("./planner.proto", import.meta.url));
export const PLANNER_SERVICE = "kaito.planner.v1.Planner";

export interface PlannerServiceDefinition extends ServiceDefinition {
  Plan: MethodDefinition<{ problem?: WireProblem }, { plan?: WirePlan }>;
  Catalog: MethodDefinition<Record<string, never>, { skus: WireSku[] }>;
}

let service: PlannerServiceDefinition | undefined;

/**
 * planner.proto, parsed on first use. keepCase keeps the proto's snake_case (codec.ts maps it);
 * defaults fills absent scalars and lists, but leaves `optional` fields undefined when unset.
 */
export function plannerService(): PlannerServiceDefinition {
  service ??= loadSync(PLANNER_PROTO, {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    arrays: true,
    objects: true,
    oneofs: false,
  })[PLANNER_SERVICE] as unknown as PlannerServiceDefinition;
  return service;
}
