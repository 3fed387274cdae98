import { ComputeManagementClient, type ImageReference } from "@azure/arm-compute";
import type { Clock } from "../../../lib/clock.ts";
import { UserError } from "../../../lib/errors.ts";
import type { Logger } from "../../../lib/log.ts";
import { AzureCloudProvider } from "./cloudprovider.ts";
import { joinDataFile, joinDataValue, loadJoinData, type JoinDataSource } from "./joindata.ts";

// Settings of the Azure backend as the operator's flags and environment give them, and the one
// place that turns them into an SDK client.

type TokenCredential = ConstructorParameters<typeof ComputeManagementClient>[0];

export interface AzureSettings {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  /** ARM id of the node subnet the VMs' NICs join. */
  subnetId: string;
  image: ImageReference;
  /**
   * The cloud-init that joins each VM to the cluster (kubeadm join and a bootstrap token). Required:
   * without it the VMs boot and never become nodes.
   */
  joinData: JoinDataSource;
  /** Default: DefaultAzureCredential (environment, workload identity, managed identity, az login). */
  credential?: TokenCredential;
  /** ARM endpoint; default the public cloud's. Tests point it at the stand-in. */
  endpoint?: string;
  /** Extra PEM CA to trust (the stand-in's certificate). */
  ca?: string;
  pollIntervalMs?: number;
  /** SDK retry tuning; the pipeline's own 429/5xx policies do the retrying. */
  retryOptions?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
}

/** Ubuntu 24.04 from Canonical: a plain default; production clusters pass their AKS node image. */
export const defaultImage = "Canonical:ubuntu-24_04-lts:server:latest";

/** The flags of `kaito controller --cloud azure`, and the environment variables that stand in for them. */
export const azureFlags = {
  subscriptionId: { flag: "azure-subscription-id", env: "AZURE_SUBSCRIPTION_ID" },
  resourceGroup: { flag: "azure-resource-group", env: "AZURE_RESOURCE_GROUP" },
  location: { flag: "azure-location", env: "AZURE_LOCATION" },
  subnetId: { flag: "azure-subnet-id", env: "AZURE_SUBNET_ID" },
  image: { flag: "azure-image", env: "AZURE_NODE_IMAGE" },
  /** A file holding the VMs' cloud-init join data; re-read for every VM, so a rotated token is picked up. */
  joinDataFile: { flag: "azure-node-join-data-file", env: "AZURE_NODE_JOIN_DATA_FILE" },
  /**
   * The Resource Manager endpoint, default the public cloud's. For an ARM-compatible endpoint
   * (a test's stand-in, a private ARM proxy); tokens are still requested for the SDK's default
   * audience, https://management.azure.com.
   */
  endpoint: { flag: "azure-endpoint", env: "AZURE_RESOURCE_MANAGER_ENDPOINT" },
} as const;

/**
 * The join data itself, for a Secret passed as an environment variable. There is no flag for it:
 * a flag's value shows in the process list, and the data carries a bootstrap token.
 */
export const joinDataEnv = "AZURE_NODE_JOIN_DATA";

/** What `--cloud azure` says when no join data is given: one sentence, with the way out for AKS. */
export const missingJoinDataMessage =
  `--cloud azure creates plain VMs that join the cluster only through their cloud-init, so it needs join data ` +
  `(kubeadm join with a bootstrap token) in --${azureFlags.joinDataFile.flag} (or ${azureFlags.joinDataFile.env}, ` +
  `or the data itself in ${joinDataEnv}); on AKS use --node-provisioner karpenter or azure-gpu-provisioner instead.`;

/**
 * Reads the settings from flag values (by flag name) with the environment as fallback. Throws a
 * one-sentence UserError naming the flag and variable of the first missing or malformed value.
 */
export function azureSettingsFrom(
  values: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
): AzureSettings {
  const read = (key: keyof typeof azureFlags, required: boolean): string | undefined => {
    const { flag, env: name } = azureFlags[key];
    const given = values[flag];
    const value = (typeof given === "string" ? given : (env[name] ?? "")).trim();
    if (!value && required)
      throw new UserError(`--cloud azure needs --${flag} (or the ${name} environment variable).`);
    return value || undefined;
  };
  const subscriptionId = read("subscriptionId", true)!;
  const resourceGroup = read("resourceGroup", true)!;
  const location = read("location", true)!.toLowerCase();
  const subnetId = read("subnetId", true)!;
  if (!/^[a-z0-9]+$/.test(location))
    throw new UserError(`--azure-location must be an Azure region name such as eastus, got "${location}".`);
  if (
    !/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i.test(
      subnetId,
    )
  )
    throw new UserError(
      `--azure-subnet-id must be a subnet's ARM id (/subscriptions/.../subnets/NAME), got "${subnetId}".`,
    );
  const endpoint = read("endpoint", false);
  return {
    subscriptionId,
    resourceGroup,
    location,
    subnetId,
    image: parseImage(read("image", false) ?? defaultImage),
    joinData: joinDataSourceFrom(read("joinDataFile", false), env[joinDataEnv]),
    ...(endpoint ? { endpoint: parseEndpoint(endpoint) } : {}),
  };
}

/** The join data's source: a file, or the data in AZURE_NODE_JOIN_DATA; refuses none or both. */
function joinDataSourceFrom(file: string | undefined, value: string | undefined): JoinDataSource {
  const inline = value?.trim() ? value : undefined;
  if (file && inline)
    throw new UserError(
      `give the node join data once: --${azureFlags.joinDataFile.flag} (or ${azureFlags.joinDataFile.env}) or ${joinDataEnv}, not both.`,
    );
  if (file) return joinDataFile(file);
  if (inline) return joinDataValue(inline, `the ${joinDataEnv} environment variable`);
  throw new UserError(missingJoinDataMessage);
}

/**
 * An ARM endpoint as the SDK wants it: an https origin (plus an optional path prefix) without a
 * trailing slash. http is refused here because the SDK would refuse to send the bearer token.
 */
export function parseEndpoint(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UserError(
      `--azure-endpoint must be a URL such as https://management.azure.com, got "${text}".`,
    );
  }
  // Shown without any user:password part, which must not reach a terminal or a log.
  const shown = `${url.protocol}//${url.host}${url.pathname}`;
  if (url.protocol !== "https:")
    throw new UserError(
      `--azure-endpoint must use https (the Azure SDK sends its bearer token only over TLS), got "${shown}".`,
    );
  if (url.search || url.hash || url.username || url.password)
    throw new UserError(
      `--azure-endpoint must be a plain https URL without credentials, query or fragment, got "${shown}".`,
    );
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** An image as publisher:offer:sku:version (a marketplace URN) or an ARM id (gallery or managed image). */
export function parseImage(text: string): ImageReference {
  if (text.startsWith("/")) return { id: text };
  const parts = text.split(":");
  if (parts.length !== 4 || parts.some((p) => !p))
    throw new UserError(
      `--azure-image must be publisher:offer:sku:version or an image's ARM id, got "${text}".`,
    );
  const [publisher, offer, sku, version] = parts as [string, string, string, string];
  return { publisher, offer, sku, version };
}

/** The backend for these settings, with its own SDK client. */
export async function createAzureCloud(
  s: AzureSettings,
  o: { clock: Clock; log: Logger },
): Promise<AzureCloudProvider> {
  // Refuse bad join data at start (a UserError naming the problem), not at the first VM.
  await loadJoinData(s.joinData);
  // Loaded only for --cloud azure: the identity chain is large and the local cloud never needs it.
  const credential = s.credential ?? new (await import("@azure/identity")).DefaultAzureCredential();
  const client = new ComputeManagementClient(credential, s.subscriptionId, {
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    ...(s.ca ? { tlsOptions: { ca: s.ca } } : {}),
    ...(s.retryOptions ? { retryOptions: s.retryOptions } : {}),
  });
  return new AzureCloudProvider({
    client,
    subscriptionId: s.subscriptionId,
    resourceGroup: s.resourceGroup,
    location: s.location,
    image: s.image,
    subnetId: s.subnetId,
    joinData: s.joinData,
    ...(s.pollIntervalMs !== undefined ? { pollIntervalMs: s.pollIntervalMs } : {}),
    clock: o.clock,
    log: o.log,
  });
}
