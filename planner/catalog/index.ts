export type { Catalog, CatalogEntry, Sku } from "./types.ts";
export { CatalogError, isCatalogError, type CatalogErrorCode } from "./errors.ts";
export { parseCatalog, validateCatalog } from "./validate.ts";
export {
  findSku,
  loadCatalog,
  loadCatalogFile,
  mustFindSku,
  toCatalogEntries,
  toCatalogEntry,
  type EntryOptions,
} from "./catalog.ts";
export { normalizeFamily } from "./family.ts";
export {
  fetchRegionInventory,
  mergeRegionInventory,
  refreshCatalog,
  type ArmResourceSku,
  type ArmUsage,
  type ComputeInventoryClient,
  type RefreshedCatalog,
  type RegionalSku,
  type RegionInventory,
  type SkuDrift,
  type UnavailableSku,
} from "./refresh.ts";
export { RefreshError, isRefreshError, type RefreshErrorCode } from "./refresh-errors.ts";
