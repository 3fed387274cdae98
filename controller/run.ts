import type { Clock } from "../lib/clock.ts";
import { systemClock } from "../lib/clock.ts";
import { UserError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { KubeClient } from "../kube/client.ts";
import { LocalCloudProvider } from "../provisioner/cloud/local/index.ts";
import {
  createAzureCloud,
  type AzureCloudProvider,
  type AzureSettings,
} from "../provisioner/cloud/azure/index.ts";
import type { CloudProvider } from "../provisioner/cloud/types.ts";
import {
  buildOperator,
  type OperatorAddresses,
  type OperatorComponent,
  type OperatorOptions,
} from "./operator.ts";
import type { LeaderTiming } from "../kube/runtime/leader.ts";
import type { Manager } from "../kube/runtime/manager.ts";
import type { WebhookComponent, WebhookRegistration } from "../webhook/index.ts";
import { isNotFound } from "../kube/errors.ts";
import type { NodeProvisionerConfig } from "./nodeprovision/index.ts";

export interface RunOptions {
  client: KubeClient;
  cloud: "local" | "azure";
  /** How workspaces get nodes (default builtin: Machines served by the cloud above). */
  nodeProvisioner?: NodeProvisionerConfig;
  components: ReadonlySet<OperatorComponent>;
  addresses: OperatorAddresses;
  log: Logger;
  clock?: Clock;
  leaderElection?: { namespace: string } & Partial<LeaderTiming>;
  /** spec.schedulerName of the workspace pods (default: the cluster's default scheduler). */
  schedulerName?: string;
  /** Boot delay of local-cloud nodes. */
  localBootDelayMs?: number;
  /** Called once the manager is built, before it starts (tests read its ports and registry). */
  onManager?: (manager: Manager) => void;
  /** Called with the local cloud before the manager starts (tests inject faults through it). */
  onLocalCloud?: (cloud: LocalCloudProvider) => void;
  /** Required with cloud "azure": subscription, resource group, location, subnet, image, credential. */
  azure?: AzureSettings;
  /** Called with the Azure cloud before the manager starts. */
  onAzureCloud?: (cloud: AzureCloudProvider) => void;
  /** Required with the webhook component: where it listens and how it is registered. */
  webhook?: { address: string; registration: WebhookRegistration };
  /** Called with the webhook component once built. */
  onWebhook?: (webhook: WebhookComponent) => void;
  /** The Machine deadlines (registration 15 min, launch 10 min); tests shorten them. */
  machineLiveness?: OperatorOptions["machineLiveness"];
}

/** Builds the operator for the chosen cloud and runs it until the signal aborts. */
export async function runOperator(o: RunOptions, signal: AbortSignal): Promise<void> {
  const clock = o.clock ?? systemClock;
  const mode = o.nodeProvisioner?.mode ?? "builtin";
  let cloud: CloudProvider | ((manager: Manager) => CloudProvider) | undefined;
  if (mode !== "builtin") {
    // Nodes are Karpenter's, gpu-provisioner's or the user's: no cloud backend runs here.
  } else if (o.cloud === "azure") {
    if (!o.azure) throw new UserError("--cloud azure needs its subscription, resource group and location.");
    const azure = await createAzureCloud(o.azure, { clock, log: o.log });
    o.onAzureCloud?.(azure);
    cloud = azure;
  } else {
    // Its kwok nodes are writes: they go through the manager's fenced client.
    cloud = (manager) => {
      const local = new LocalCloudProvider({
        client: manager.client,
        clock,
        log: o.log,
        bootDelayMs: o.localBootDelayMs,
      });
      o.onLocalCloud?.(local);
      return local;
    };
  }
  const manager = buildOperator({ ...o, clock, cloud });
  o.onManager?.(manager);
  if (mode === "karpenter" || mode === "azure-gpu-provisioner") await requireNodeClaims(o.client, mode);
  o.log.info("starting kaito-ts manager", {
    nodeProvisioner: mode,
    ...(cloud ? { cloud: o.cloud } : {}),
    components: [...o.components],
  });
  await manager.start(signal);
}

/**
 * NodeClaims are Karpenter's API, not ours: without its CRD every write would fail and the
 * informer would retry forever, so a cluster without it is refused at start with what to install.
 */
async function requireNodeClaims(client: KubeClient, mode: string): Promise<void> {
  const group = await client
    .request<{ resources?: { name: string }[] }>("GET", "/apis/karpenter.sh/v1")
    .catch((e: unknown) => {
      if (isNotFound(e)) return { resources: [] };
      throw e;
    });
  if (!group.resources?.some((r) => r.name === "nodeclaims"))
    throw new UserError(
      `--node-provisioner ${mode} writes karpenter.sh/v1 NodeClaims, but this cluster does not serve them; install ${mode === "karpenter" ? "Karpenter (on AKS: enable Node Auto Provisioning)" : "gpu-provisioner >= v0.3"} first, or pick another --node-provisioner.`,
    );
}
