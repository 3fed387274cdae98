/**
 * The subset of the apiextensions.k8s.io/v1 OpenAPI v3 schema that our CRDs use, in its wire
 * form (the keys are the ones a CRD manifest carries), plus small builders so the schema files
 * read like the API they describe.
 */

/** A CEL rule (`x-kubernetes-validations` entry). */
export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  /** Where the API server reports the error, relative to the node that holds the rule. */
  fieldPath?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

export type SchemaType = "object" | "array" | "string" | "integer" | "number" | "boolean";

export interface JSONSchemaProps {
  type?: SchemaType;
  description?: string;
  format?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: (string | number)[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  pattern?: string;
  anyOf?: JSONSchemaProps[];
  "x-kubernetes-int-or-string"?: true;
  "x-kubernetes-preserve-unknown-fields"?: true;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: "atomic" | "granular";
  "x-kubernetes-validations"?: ValidationRule[];
}

type Extra = Omit<JSONSchemaProps, "type" | "properties" | "items" | "additionalProperties">;

/** Leaves out an empty description, so list items and map values stay terse in the manifest. */
function described(description: string): { description?: string } {
  return description ? { description } : {};
}

export function str(description = "", extra: Extra = {}): JSONSchemaProps {
  return { type: "string", ...described(description), ...extra };
}

export function int(description: string, extra: Extra = {}): JSONSchemaProps {
  return { type: "integer", ...described(description), ...extra };
}

export function bool(description: string, extra: Extra = {}): JSONSchemaProps {
  return { type: "boolean", ...described(description), ...extra };
}

export function obj(
  description: string,
  properties: Record<string, JSONSchemaProps>,
  extra: Extra = {},
): JSONSchemaProps {
  return { type: "object", ...described(description), properties, ...extra };
}

export function arr(description: string, items: JSONSchemaProps, extra: Extra = {}): JSONSchemaProps {
  return { type: "array", ...described(description), items, ...extra };
}

/** A string-keyed map whose values all follow `values`. */
export function map(description: string, values: JSONSchemaProps, extra: Extra = {}): JSONSchemaProps {
  return { type: "object", ...described(description), additionalProperties: values, ...extra };
}

/** An object kept as sent: the API server neither prunes nor checks what is inside. */
export function opaque(description: string): JSONSchemaProps {
  return { type: "object", ...described(description), "x-kubernetes-preserve-unknown-fields": true };
}

/** A resource.Quantity ("8Gi", "2", 4), as core/v1 ResourceList values are declared. */
export function quantity(description: string): JSONSchemaProps {
  return {
    ...described(description),
    anyOf: [{ type: "integer" }, { type: "string" }],
    pattern: String.raw`^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$`,
    "x-kubernetes-int-or-string": true,
  };
}

export function rule(
  rule: string,
  message: string,
  extra: Omit<ValidationRule, "rule" | "message"> = {},
): ValidationRule {
  return { rule, message, ...extra };
}
