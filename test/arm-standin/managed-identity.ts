import { randomBytes } from "node:crypto";
import type { StandinRequest, StandinResponse } from "./http.ts";

// The App Service flavour of Azure's managed-identity endpoint, which @azure/identity's
// ManagedIdentityCredential (inside DefaultAzureCredential, through MSAL) calls when a process has
// IDENTITY_ENDPOINT and IDENTITY_HEADER in its environment: GET <IDENTITY_ENDPOINT>
// ?api-version=2019-08-01&resource=<audience> with the header's value in X-IDENTITY-HEADER. A
// process under test then authenticates to the stand-in exactly as it would on Azure, with no
// credential of its own and no test-only switch in the code under test.

/** Where the stand-in serves the token endpoint, beside (not under) the ARM routes. */
export const managedIdentityPath = "/msi/token";
/** The only api-version the App Service endpoint speaks. */
export const appServiceMsiApiVersion = "2019-08-01";
/** What ComputeManagementClient asks a token for (its default scope without "/.default"). */
export const armAudience = "https://management.azure.com";
/** Operation name of the token endpoint in the stand-in's request log. */
export const MANAGED_IDENTITY_TOKEN = "managedIdentity.token";

export interface ManagedIdentity {
  /** The value for IDENTITY_ENDPOINT. */
  readonly endpoint: string;
  /** The value for IDENTITY_HEADER: a secret the caller must send back in X-IDENTITY-HEADER. */
  readonly header: string;
  /** The bearer token the endpoint issues, which the ARM routes then require. */
  readonly token: string;
}

/** A fresh identity: random header secret and token, so neither can be guessed or reused. */
export function newManagedIdentity(origin: string, token?: string): ManagedIdentity {
  return {
    endpoint: `${origin}${managedIdentityPath}`,
    header: randomBytes(16).toString("hex"),
    token: token ?? `standin-mi.${randomBytes(24).toString("base64url")}`,
  };
}

export function isManagedIdentityRequest(request: StandinRequest): boolean {
  return request.path.replace(/\/+$/, "") === managedIdentityPath;
}

/**
 * Answers a token request as App Service does: the token, its expiry in epoch seconds (a string),
 * the resource and the type. Wrong method, api-version, audience or header secret get the error a
 * client can act on; the header secret is compared, never echoed.
 */
export function issueManagedIdentityToken(
  identity: ManagedIdentity,
  request: StandinRequest,
  now: () => Date,
): StandinResponse {
  const fail = (status: number, error: string, description: string): StandinResponse => ({
    status,
    body: { error, error_description: description },
  });
  if (request.method !== "GET")
    return fail(405, "invalid_request", `The managed identity endpoint accepts GET, not ${request.method}.`);
  const apiVersion = request.query.get("api-version");
  if (apiVersion !== appServiceMsiApiVersion)
    return fail(
      400,
      "invalid_request",
      `api-version must be ${appServiceMsiApiVersion}, got '${apiVersion ?? ""}'.`,
    );
  const resource = (request.query.get("resource") ?? "").replace(/\/+$/, "");
  if (resource !== armAudience)
    return fail(
      400,
      "invalid_resource",
      `The stand-in issues tokens for ${armAudience} only, not '${resource}'.`,
    );
  if (request.headers["x-identity-header"] !== identity.header)
    return fail(
      401,
      "unauthorized_client",
      "X-IDENTITY-HEADER is missing or does not match IDENTITY_HEADER.",
    );
  // Managed-identity tokens live about a day; a caller refreshes long before.
  const expiresOn = Math.floor(now().getTime() / 1000) + 24 * 3600;
  return {
    status: 200,
    body: {
      access_token: identity.token,
      expires_on: String(expiresOn),
      resource: armAudience,
      token_type: "Bearer",
    },
  };
}
