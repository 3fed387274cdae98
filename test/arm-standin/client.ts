import { ComputeManagementClient, type ComputeManagementClientOptionalParams } from "@azure/arm-compute";
import type { ArmStandin } from "./server.ts";

// The SDK's credential type, without importing @azure/core-auth (not a direct dependency).
type TokenCredential = ConstructorParameters<typeof ComputeManagementClient>[0];

/** A credential that hands out one fixed token: the stand-in checks presence, not signatures. */
export function staticTokenCredential(token = "standin-token"): TokenCredential {
  return {
    getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
}

/**
 * The real SDK client pointed at the stand-in, trusting its certificate through the
 * pipeline's tlsOptions (NODE_EXTRA_CA_CERTS is read only at process start).
 */
export function standinComputeClient(
  standin: ArmStandin,
  options: ComputeManagementClientOptionalParams = {},
): ComputeManagementClient {
  return new ComputeManagementClient(staticTokenCredential(), standin.subscriptionId, {
    endpoint: standin.endpoint,
    tlsOptions: { ca: standin.ca },
    ...options,
  });
}
