import { describe, expect, it } from "vitest";
import type { JSONSchemaProps } from "./openapi.ts";
import { inferenceSetSchema } from "./inferenceset/schema.ts";
import {
  invalidInferenceSets,
  invalidWorkspaces,
  invalidWorkspaceUpdates,
  validInferenceWorkspace,
  validTuningWorkspace,
} from "./validation-cases.ts";
import { workspaceSchema } from "./workspace/schema.ts";

/** Every message of every CEL rule in the schema. */
function ruleMessages(schema: JSONSchemaProps): string[] {
  return [
    ...(schema["x-kubernetes-validations"] ?? []).map((r) => r.message ?? ""),
    ...Object.values(schema.properties ?? {}).flatMap(ruleMessages),
    ...(schema.items ? ruleMessages(schema.items) : []),
    ...(schema.additionalProperties ? ruleMessages(schema.additionalProperties) : []),
  ];
}

// Messages the API server writes itself, for schema errors rather than our CEL rules.
const serverPhrases = [
  "must be of type",
  "supported values",
  "must have at most",
  "unknown field",
  "should be greater than or equal to",
  "Required value",
];

describe("the invalid Workspace table", () => {
  it("has at least 24 cases with distinct names", () => {
    expect(invalidWorkspaces.length).toBeGreaterThanOrEqual(24);
    const names = invalidWorkspaces.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it("changes each base, and expects a field and a hint", () => {
    const bases = [JSON.stringify(validInferenceWorkspace()), JSON.stringify(validTuningWorkspace())];
    for (const c of invalidWorkspaces) {
      expect(bases, c.name).not.toContain(JSON.stringify(c.workspace));
      expect(c.field, c.name).not.toBe("");
      expect(c.hint, c.name).not.toBe("");
    }
  });

  it("expects hints that a rule of the schema or the API server actually writes", () => {
    const messages = ruleMessages(workspaceSchema);
    for (const c of [...invalidWorkspaces, ...invalidWorkspaceUpdates]) {
      const known = messages.some((m) => m.includes(c.hint)) || serverPhrases.some((p) => c.hint.includes(p));
      expect(known, `${c.name}: "${c.hint}"`).toBe(true);
    }
  });

  it("expects 400 exactly for unknown fields, which strict field validation refuses before validation", () => {
    for (const c of invalidWorkspaces)
      expect(c.status === 400, c.name).toBe(c.hint.startsWith("unknown field"));
  });

  it("covers the mistakes users make most", () => {
    const fields = new Set(invalidWorkspaces.map((c) => c.field));
    for (const f of [
      "inference",
      "tuning",
      "tuning.method",
      "inference.adapters[0].strength",
      "resource.labelSelector",
      "resource.count",
      "inference.adapters[0].source.image",
      "spec",
      "tuning.input",
      "tuning.output.imagePushSecret",
      "inference.preset.name",
    ]) {
      expect(fields, f).toContain(f);
    }
  });
});

describe("the invalid InferenceSet table", () => {
  it("has distinct names, a field and a hint the schema or the API server writes", () => {
    const names = invalidInferenceSets.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    const messages = ruleMessages(inferenceSetSchema);
    for (const c of invalidInferenceSets) {
      expect(c.field, c.name).not.toBe("");
      const known = messages.some((m) => m.includes(c.hint)) || serverPhrases.some((p) => c.hint.includes(p));
      expect(known, `${c.name}: "${c.hint}"`).toBe(true);
      expect(c.status === 400, c.name).toBe(c.hint.startsWith("unknown field"));
    }
  });
});
