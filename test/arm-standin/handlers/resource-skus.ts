import { armError, json, type Handler } from "../http.ts";
import { page } from "../paging.ts";
import type { ArmState, WireResourceSku } from "../state.ts";

export const RESOURCE_SKUS_API_VERSIONS = ["2017-09-01", "2019-04-01", "2021-07-01"] as const;

/**
 * GET .../providers/Microsoft.Compute/skus. ARM supports only a location filter; with it, each
 * SKU's locations, locationInfo and restrictions are narrowed to that location.
 */
export function listResourceSkus(state: ArmState, pageSize: number): Handler {
  return (request) => {
    const filter = request.query.get("$filter");
    let skus: WireResourceSku[] = state.skus;
    if (filter !== null) {
      const m = /^\s*location\s+eq\s+'([^']+)'\s*$/i.exec(filter);
      if (!m)
        return armError(
          400,
          "InvalidFilter",
          `Unsupported $filter '${filter}'. Only "location eq '<location>'" is supported.`,
        );
      const location = m[1].toLowerCase();
      skus = state.skus
        .filter((s) => s.locations.some((l) => l.toLowerCase() === location))
        .map((s) => narrow(s, location));
    }
    return json(200, page(request, skus, pageSize));
  };
}

function narrow(sku: WireResourceSku, location: string): WireResourceSku {
  const here = (values: string[] | undefined) => (values ?? []).some((v) => v.toLowerCase() === location);
  return {
    ...sku,
    locations: sku.locations.filter((l) => l.toLowerCase() === location),
    locationInfo: sku.locationInfo.filter((i) => i.location.toLowerCase() === location),
    restrictions: sku.restrictions.filter((r) => here(r.values) || here(r.restrictionInfo.locations)),
  };
}
