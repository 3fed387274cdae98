import type { JSONSchemaProps } from "./openapi.ts";

/** A column of `kubectl get`; priority 0 shows by default, higher ones with `-o wide`. */
export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** An apiextensions.k8s.io/v1 CustomResourceDefinition, as written to a manifest. */
export interface CustomResourceDefinition {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames?: string[];
      categories?: string[];
    };
    scope: "Namespaced" | "Cluster";
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources?: { status?: Record<string, never>; scale?: ScaleSubresource };
      additionalPrinterColumns?: PrinterColumn[];
    }[];
    conversion?: { strategy: "None" };
  };
}

/** Where `kubectl scale`, an HPA or KEDA read and write the replica count (autoscaling/v1 Scale). */
export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface CrdOptions {
  group: string;
  /** The version objects are stored in; always served. */
  version: string;
  /**
   * Further versions served with the same schema and columns. One schema for every version, and
   * no conversion webhook: an object reads back whole in any version (README.md, "KAITO v0.12's API", says why).
   */
  alsoServed?: string[];
  kind: string;
  plural: string;
  singular: string;
  scope: "Namespaced" | "Cluster";
  shortNames?: string[];
  categories?: string[];
  columns: PrinterColumn[];
  /** The root schema without apiVersion, kind and metadata, which every object carries. */
  schema: JSONSchemaProps;
  scale?: ScaleSubresource;
}

/**
 * A CRD with a status subresource (and a scale subresource when asked), served in `version` and
 * `alsoServed`, all with one schema, stored in `version`. Versions are listed oldest first, as
 * the API server orders them for discovery by their names anyway.
 */
export function customResourceDefinition(o: CrdOptions): CustomResourceDefinition {
  const { properties = {}, description, ...rules } = o.schema;
  const openAPIV3Schema: JSONSchemaProps = {
    type: "object",
    ...(description ? { description } : {}),
    properties: {
      apiVersion: { type: "string", description: "The versioned schema of this object." },
      kind: { type: "string", description: "The REST resource this object represents." },
      metadata: { type: "object" },
      ...properties,
    },
    ...rules,
  };
  const names = [...(o.alsoServed ?? []), o.version];
  if (new Set(names).size !== names.length) throw new Error(`${o.kind}: a version is listed twice`);
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${o.plural}.${o.group}` },
    spec: {
      group: o.group,
      names: {
        kind: o.kind,
        listKind: `${o.kind}List`,
        plural: o.plural,
        singular: o.singular,
        ...(o.shortNames ? { shortNames: o.shortNames } : {}),
        ...(o.categories ? { categories: o.categories } : {}),
      },
      scope: o.scope,
      versions: names.map((name) => ({
        name,
        served: true,
        storage: name === o.version,
        subresources: { status: {}, ...(o.scale ? { scale: o.scale } : {}) },
        additionalPrinterColumns: o.columns,
        schema: { openAPIV3Schema },
      })),
      ...(names.length > 1 ? { conversion: { strategy: "None" as const } } : {}),
    },
  };
}

/** The status of a condition type, as a printer column path. */
export function conditionColumn(name: string, conditionType: string, priority = 0): PrinterColumn {
  return {
    name,
    type: "string",
    jsonPath: `.status.conditions[?(@.type=="${conditionType}")].status`,
    ...(priority ? { priority } : {}),
  };
}

export const ageColumn: PrinterColumn = {
  name: "Age",
  type: "date",
  jsonPath: ".metadata.creationTimestamp",
};
