import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CatalogError } from "./errors.ts";
import type { Catalog, CatalogEntry, Sku } from "./types.ts";
import { parseCatalog } from "./validate.ts";

const EMBEDDED = fileURLToPath(new URL("./azure-gpu-skus.yaml", import.meta.url));

let embedded: Catalog | undefined;

/**
 * The embedded snapshot, validated on first use. The result is frozen, so every caller can
 * share the one copy.
 */
export function loadCatalog(): Catalog {
  embedded ??= loadCatalogFile(EMBEDDED);
  return embedded;
}

/** A catalogue in the embedded file's format, read from `path` and validated. */
export function loadCatalogFile(path: string): Catalog {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CatalogError("InvalidYaml", `cannot read the SKU catalogue ${path}: ${(e as Error).message}.`);
  }
  return parseCatalog(text, path);
}

/** The SKU named `name` (case-insensitive, as ARM and node labels vary the case), if any. */
export function findSku(name: string, catalog: Catalog = loadCatalog()): Sku | undefined {
  const key = name.toLowerCase();
  return catalog.skus.find((s) => s.name.toLowerCase() === key);
}

/** Like findSku, but an unknown name is an error that lists what exists. */
export function mustFindSku(name: string, catalog: Catalog = loadCatalog()): Sku {
  const sku = findSku(name, catalog);
  if (!sku) {
    throw new CatalogError(
      "UnknownSku",
      `unknown SKU "${name}"; the catalogue has ${catalog.skus.map((s) => s.name).join(", ")}.`,
    );
  }
  return sku;
}

/** The planning problem's view of one SKU. */
export function toCatalogEntry(sku: Sku): CatalogEntry {
  return {
    name: sku.name,
    gpus: sku.gpus,
    gpuMemoryGiB: sku.gpuMemoryGiB,
    vcpus: sku.vcpus,
    family: sku.family,
    pricePerHour: sku.pricePerHour,
  };
}

export interface EntryOptions {
  /** Keep sizes Azure has retired (default false: nobody can create them). */
  includeRetired?: boolean;
  /** Keep vGPU slices (default true); images without the GRID driver cannot use them. */
  includeFractional?: boolean;
}

/** The catalogue as the planning problem's `catalog` list, cheapest first. */
export function toCatalogEntries(
  catalog: Catalog = loadCatalog(),
  options: EntryOptions = {},
): CatalogEntry[] {
  const { includeRetired = false, includeFractional = true } = options;
  return catalog.skus
    .filter((s) => includeRetired || s.retired === undefined)
    .filter((s) => includeFractional || s.gpuFraction === 1)
    .map(toCatalogEntry)
    .sort((a, b) => a.pricePerHour - b.pricePerHour || a.name.localeCompare(b.name));
}
