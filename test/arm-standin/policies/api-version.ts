import { armError, type Policy } from "../http.ts";

const WELL_FORMED = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

/** Every ARM call names an api-version; a route may limit which ones it serves. */
export const requireApiVersion: Policy = (request, route) => {
  const version = request.query.get("api-version");
  if (version === null || version === "") {
    return armError(
      400,
      "MissingApiVersionParameter",
      "The api-version query parameter (?api-version=) is required for all requests.",
    );
  }
  const supported = route.apiVersions ? route.apiVersions.includes(version) : WELL_FORMED.test(version);
  if (!supported) {
    return armError(
      400,
      "NoRegisteredProviderFound",
      `No registered resource provider found for API version '${version}'.` +
        (route.apiVersions ? ` The supported api-versions are '${route.apiVersions.join(", ")}'.` : ""),
    );
  }
  return undefined;
};
