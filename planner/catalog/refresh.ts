import { loadCatalog } from "./catalog.ts";
import {
  mergeRegionInventory,
  type ArmResourceSku,
  type ArmUsage,
  type RefreshedCatalog,
  type RegionInventory,
} from "./merge.ts";
import { RefreshError } from "./refresh-errors.ts";
import type { Catalog } from "./types.ts";

export type {
  ArmResourceSku,
  ArmUsage,
  RefreshedCatalog,
  RegionalSku,
  RegionInventory,
  SkuDrift,
  UnavailableSku,
} from "./merge.ts";
export { mergeRegionInventory } from "./merge.ts";

/**
 * The two operations of @azure/arm-compute's ComputeManagementClient the refresher uses; a
 * real client satisfies it as is.
 */
export interface ComputeInventoryClient {
  readonly resourceSkus: {
    list(options?: { filter?: string; abortSignal?: AbortSignal }): AsyncIterable<ArmResourceSku>;
  };
  readonly usage: {
    list(location: string, options?: { abortSignal?: AbortSignal }): AsyncIterable<ArmUsage>;
  };
}

export interface RefreshOptions {
  client: ComputeInventoryClient;
  /** ARM location name, e.g. eastus. */
  region: string;
  /** Defaults to the embedded snapshot. */
  catalog?: Catalog;
  signal?: AbortSignal;
}

/** Reads ResourceSkus and Usages for the region and joins them with the catalogue. */
export async function refreshCatalog(options: RefreshOptions): Promise<RefreshedCatalog> {
  const inventory = await fetchRegionInventory(options.client, options.region, options.signal);
  return mergeRegionInventory(options.catalog ?? loadCatalog(), inventory);
}

/** The I/O half: every page of both lists (the SDK follows nextLink and retries 429/5xx). */
export async function fetchRegionInventory(
  client: ComputeInventoryClient,
  region: string,
  signal?: AbortSignal,
): Promise<RegionInventory> {
  const location = region.toLowerCase();
  // The region goes into an OData filter; only ARM's own location spelling may get there.
  if (!/^[a-z0-9]+$/.test(location)) {
    throw new RefreshError("InvalidRegion", `"${region}" is not an Azure region name such as eastus.`);
  }
  const [skus, usages] = await Promise.all([
    collect(
      "ResourceSkus",
      client.resourceSkus.list({ filter: `location eq '${location}'`, abortSignal: signal }),
    ),
    collect("Usages", client.usage.list(location, { abortSignal: signal })),
  ]);
  return { region: location, skus: skus.filter(isVirtualMachineSku), usages };
}

function isVirtualMachineSku(s: ArmResourceSku): boolean {
  return (s.resourceType ?? "").toLowerCase() === "virtualmachines";
}

async function collect<T>(what: string, items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  try {
    for await (const item of items) out.push(item);
  } catch (e) {
    throw toRefreshError(what, e);
  }
  return out;
}

function toRefreshError(what: string, e: unknown): RefreshError {
  if (e instanceof Error && e.name === "AbortError") {
    return new RefreshError("Aborted", `listing ${what} was cancelled.`, { cause: e });
  }
  const rest = restFields(e);
  if (rest) {
    const { statusCode, armCode, message } = rest;
    const details = { statusCode, armCode, cause: e };
    const said = `${armCode ?? `HTTP ${statusCode ?? "error"}`}: ${message}`;
    if (statusCode === 429) {
      return new RefreshError(
        "Throttled",
        `ARM kept throttling the ${what} list after retries (${said}).`,
        details,
      );
    }
    if (statusCode === 401 || statusCode === 403) {
      return new RefreshError("Unauthorized", `ARM refused the ${what} list (${said}).`, details);
    }
    return new RefreshError("ArmRequestFailed", `listing ${what} failed (${said}).`, details);
  }
  const message = e instanceof Error ? e.message : String(e);
  return new RefreshError("InvalidResponse", `ARM's ${what} answer could not be read: ${message}.`, {
    cause: e,
  });
}

/**
 * The fields of a RestError. Checked by shape, not instanceof: the SDK and the pipeline can
 * load different copies of the class.
 */
function restFields(e: unknown): { statusCode?: number; armCode?: string; message: string } | undefined {
  if (!(e instanceof Error) || e.name !== "RestError") return undefined;
  const { statusCode, code } = e as Error & { statusCode?: unknown; code?: unknown };
  return {
    ...(typeof statusCode === "number" ? { statusCode } : {}),
    ...(typeof code === "string" ? { armCode: code } : {}),
    message: e.message,
  };
}
