import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { CatalogError, validateCatalog, type Catalog } from "./validate.ts";

const CATALOG_URL = new URL("./models.yaml", import.meta.url);

/** Parses catalogue YAML text and validates it; `source` names it in error messages. */
export function parseCatalog(yamlText: string, source: string): Catalog {
  let doc: unknown;
  try {
    doc = parse(yamlText, { uniqueKeys: true });
  } catch (e) {
    throw new CatalogError(source, [`not valid YAML: ${e instanceof Error ? e.message : String(e)}`]);
  }
  return validateCatalog(doc, source);
}

let embedded: Catalog | undefined;

/**
 * The catalogue shipped in presets/catalog/models.yaml, read and validated on first use and kept
 * for the life of the process. Nothing happens at import time, so importing presets/ stays free.
 */
export function embeddedCatalog(): Catalog {
  embedded ??= parseCatalog(readFileSync(CATALOG_URL, "utf8"), "presets/catalog/models.yaml");
  return embedded;
}
