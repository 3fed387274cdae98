import { armError, json, type Handler } from "../http.ts";
import { page } from "../paging.ts";
import type { ArmState } from "../state.ts";

/** GET .../providers/Microsoft.Compute/locations/{location}/usages. */
export function listUsages(state: ArmState, pageSize: number): Handler {
  return (request, params) => {
    const location = (params.location ?? "").toLowerCase();
    const usages = state.usages.get(location);
    if (!usages) {
      return armError(
        400,
        "LocationNotAvailableForResourceType",
        `The provided location '${params.location}' is not available for resource type 'Microsoft.Compute/locations/usages'.`,
      );
    }
    return json(200, page(request, usages, pageSize));
  };
}
