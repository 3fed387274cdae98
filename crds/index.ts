// The public API of crds/: API coordinates, TypeScript types, and the CRD objects themselves
// (which `kaito up` and the test harness can apply without reading the YAML).
export type * from "./core/types.ts";
export type { CustomResourceDefinition, PrinterColumn } from "./crd.ts";
export type { JSONSchemaProps, ValidationRule } from "./openapi.ts";

export * from "./workspace/constants.ts";
export type * from "./workspace/types.ts";
export { workspaceCrd, workspaceSchema } from "./workspace/schema.ts";

export * from "./machine/constants.ts";
export type * from "./machine/types.ts";
export { machineCrd, machineSchema } from "./machine/schema.ts";

// NodeClaim's CRD is Karpenter's (from its Go module): only its types and coordinates live here.
export * from "./nodeclaim/constants.ts";
export type * from "./nodeclaim/types.ts";
