/**
 * Checks a sample object against an OpenAPI schema field by field, in both directions: a field
 * of the sample that the schema lacks, and a schema field that the sample lacks, are both
 * reported. With a sample typed `Complete<T>` (every optional field present), this proves that a
 * hand-written interface and its schema declare the same fields.
 */
import type { JSONSchemaProps } from "./openapi.ts";

/** T with every optional field made required, down to maps and opaque objects. */
export type Complete<T> = T extends (infer U)[]
  ? Complete<U>[]
  : T extends object
    ? string extends keyof T
      ? T // a map or an opaque object: its keys are data, not fields
      : { [K in keyof T]-?: Complete<T[K]> }
    : T;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isOpaque(schema: JSONSchemaProps): boolean {
  return schema.type === "object" && !schema.properties && !schema.additionalProperties;
}

/** Every difference between `sample` and `schema`, as "path: what"; empty when they agree. */
export function compareToSchema(schema: JSONSchemaProps, sample: unknown, path = ""): string[] {
  const at = path || "<root>";
  if (schema["x-kubernetes-int-or-string"]) {
    return typeof sample === "string" || typeof sample === "number"
      ? []
      : [`${at}: expected an int-or-string`];
  }
  switch (schema.type) {
    case "object": {
      if (!isPlainObject(sample)) return [`${at}: expected an object`];
      if (isOpaque(schema)) return [];
      if (schema.additionalProperties) {
        const entries = Object.entries(sample);
        if (entries.length === 0) return [`${at}: the sample map is empty, so its values go unchecked`];
        return entries.flatMap(([k, v]) => compareToSchema(schema.additionalProperties!, v, `${path}.${k}`));
      }
      const properties = schema.properties ?? {};
      const problems: string[] = [];
      for (const key of Object.keys(sample)) {
        if (!(key in properties)) problems.push(`${path}.${key}: in the sample but not in the schema`);
      }
      for (const [key, child] of Object.entries(properties)) {
        if (key in sample)
          problems.push(...compareToSchema(child, sample[key], path ? `${path}.${key}` : key));
        else problems.push(`${path ? `${path}.` : ""}${key}: in the schema but not in the sample`);
      }
      return problems;
    }
    case "array": {
      if (!Array.isArray(sample)) return [`${at}: expected an array`];
      if (sample.length === 0) return [`${at}: the sample list is empty, so its items go unchecked`];
      return sample.flatMap((item) => compareToSchema(schema.items!, item, `${path}[]`));
    }
    case "string":
      if (typeof sample !== "string") return [`${at}: expected a string`];
      return schema.enum && !schema.enum.includes(sample)
        ? [`${at}: "${sample}" is not one of ${schema.enum.join(", ")}`]
        : [];
    case "integer":
      return Number.isInteger(sample) ? [] : [`${at}: expected an integer`];
    case "number":
      return typeof sample === "number" ? [] : [`${at}: expected a number`];
    case "boolean":
      return typeof sample === "boolean" ? [] : [`${at}: expected a boolean`];
    default:
      return [`${at}: the schema has no type`];
  }
}

/** Nodes of a schema that are not structural (a node without a type), as paths. */
export function untypedNodes(schema: JSONSchemaProps, path = "<root>"): string[] {
  const here =
    schema.type || schema["x-kubernetes-int-or-string"] || schema["x-kubernetes-preserve-unknown-fields"]
      ? []
      : [path];
  const children = [
    ...Object.entries(schema.properties ?? {}).map(([k, v]) => untypedNodes(v, `${path}.${k}`)),
    schema.items ? untypedNodes(schema.items, `${path}[]`) : [],
    schema.additionalProperties ? untypedNodes(schema.additionalProperties, `${path}.*`) : [],
  ];
  return [...here, ...children.flat()];
}
