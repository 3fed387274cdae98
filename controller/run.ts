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
import { buildOperator, type OperatorAddresses, type OperatorComponent } from "./operator.ts";
import type { Manager } from "../kube/runtime/manager.ts";

export interface RunOptions {
  client: KubeClient;
  cloud: "local" | "azure";
  components: ReadonlySet<OperatorComponent>;
  addresses: OperatorAddresses;
  log: Logger;
  clock?: Clock;
  leaderElection?: { namespace: string };
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
  /** The Hugging Face Hub endpoint (default https://huggingface.co). */
  hfEndpoint?: string;
}

/** Builds the operator for the chosen cloud and runs it until the signal aborts. */
export async function runOperator(o: RunOptions, signal: AbortSignal): Promise<void> {
  const clock = o.clock ?? systemClock;
  let cloud: CloudProvider;
  if (o.cloud === "azure") {
    if (!o.azure) throw new UserError("--cloud azure needs its subscription, resource group and location.");
    const azure = await createAzureCloud(o.azure, { clock, log: o.log });
    o.onAzureCloud?.(azure);
    cloud = azure;
  } else {
    const local = new LocalCloudProvider({
      client: o.client,
      clock,
      log: o.log,
      bootDelayMs: o.localBootDelayMs,
    });
    o.onLocalCloud?.(local);
    cloud = local;
  }
  const manager = buildOperator({ ...o, clock, cloud });
  o.onManager?.(manager);
  o.log.info("starting kaito-ts manager", { cloud: o.cloud, components: [...o.components] });
  await manager.start(signal);
}
