import { writeFileSync } from "node:fs";
import path from "node:path";
import type { ArmStandin } from "./server.ts";

/**
 * Variables that would steer @azure/identity or TLS trust away from the stand-in: a developer's
 * service principal, workload identity, other managed-identity sources (Service Fabric wins over
 * App Service when its thumbprint is set), Azure CLI selection, and any CA already configured.
 */
function steersAuthentication(name: string): boolean {
  return (
    name.startsWith("AZURE_") ||
    name.startsWith("IDENTITY_") ||
    name.startsWith("MSI_") ||
    name.startsWith("IMDS_") ||
    name === "NODE_EXTRA_CA_CERTS"
  );
}

/**
 * The environment for a separate process (a manager under test) that reaches the stand-in as a
 * workload on Azure reaches ARM: the stand-in's CA trusted through NODE_EXTRA_CA_CERTS (read only
 * at process start, hence the file in `dir`), and the managed identity's IDENTITY_ENDPOINT and
 * IDENTITY_HEADER, so DefaultAzureCredential gets its token from the stand-in. The header is a
 * secret: hand the result to a child process, never to a log.
 */
export function standinProcessEnv(
  standin: ArmStandin,
  dir: string,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const identity = standin.managedIdentity;
  if (!identity) throw new Error("start the stand-in with managedIdentity: true to authenticate a process");
  const caFile = path.join(dir, "arm-standin-ca.pem");
  writeFileSync(caFile, standin.ca);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) if (!steersAuthentication(name)) env[name] = value;
  return {
    ...env,
    NODE_EXTRA_CA_CERTS: caFile,
    IDENTITY_ENDPOINT: identity.endpoint,
    IDENTITY_HEADER: identity.header,
  };
}
