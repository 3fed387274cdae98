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
      subresources?: { status?: Record<string, never> };
      additionalPrinterColumns?: PrinterColumn[];
    }[];
  };
}

export interface CrdOptions {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  scope: "Namespaced" | "Cluster";
  shortNames?: string[];
  categories?: string[];
  columns: PrinterColumn[];
  /** The root schema without apiVersion, kind and metadata, which every object carries. */
  schema: JSONSchemaProps;
}

/** One served and stored version with a status subresource: the only shape our CRDs take. */
export function customResourceDefinition(o: CrdOptions): CustomResourceDefinition {
  const { properties = {}, description, ...rules } = o.schema;
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
      versions: [
        {
          name: o.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: o.columns,
          schema: {
            openAPIV3Schema: {
              type: "object",
              ...(description ? { description } : {}),
              properties: {
                apiVersion: { type: "string", description: "The versioned schema of this object." },
                kind: { type: "string", description: "The REST resource this object represents." },
                metadata: { type: "object" },
                ...properties,
              },
              ...rules,
            },
          },
        },
      ],
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
