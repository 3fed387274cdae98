// The Azure cloud for the crash drill (./crash.ts): the ARM stand-in runs in this process, so it
// outlives every manager the drill kills and keeps the VMs they created, while each manager is a
// separate `kaito controller --cloud azure` process that finds ARM through --azure-endpoint,
// trusts the stand-in's CA through NODE_EXTRA_CA_CERTS and gets its token the way a workload on
// Azure does: DefaultAzureCredential -> ManagedIdentityCredential -> the stand-in's App Service
// identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER). The code under test has no test switch.
import { KubeClient } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { resources } from "../../kube/resources.ts";
import { seededRandom } from "../../lib/random.ts";
import { loadCatalog } from "../../planner/catalog/index.ts";
import { machineTag, providerIdFor } from "../../provisioner/cloud/azure/index.ts";
import {
  kwokNodeHooks,
  MANAGED_IDENTITY_TOKEN,
  seedSubscription,
  standinProcessEnv,
  startArmStandin,
  throttle,
  type ArmStandin,
} from "../arm-standin/index.ts";
import type { CrashCloud, CrashInstance, NodeObj } from "./crash.ts";

export interface AzureCrashCloudOptions {
  kubeconfigPath: string;
  /** Seeds the faults and operation lengths, so a failing run can be repeated. */
  seed: number;
  /** Where the stand-in's CA file goes (the manager logs' directory will do). */
  dir: string;
  /** Share of ARM requests answered 429 with Retry-After (default 0.05). */
  throttleRate?: number;
  resourceGroup?: string;
  location?: string;
}

export interface AzureCrashCloud extends CrashCloud {
  readonly standin: ArmStandin;
  close(): Promise<void>;
}

export async function startAzureCrashCloud(o: AzureCrashCloudOptions): Promise<AzureCrashCloud> {
  const resourceGroup = o.resourceGroup ?? "kaito-crash";
  const location = o.location ?? "eastus";
  const random = seededRandom(o.seed ^ 0x41524d);
  const throttleRate = o.throttleRate ?? 0.05;
  // Operations poll InProgress once or twice, with ARM's Retry-After of 1 s between polls: long
  // enough that most kills land while VMs are still Creating or Deleting.
  const standin = await startArmStandin({
    managedIdentity: true,
    lroPolls: () => 1 + Math.floor(random() * 2),
    lroRetryAfterSeconds: 1,
  });
  // Every catalogue size offered, with quota to spare: each restarted manager reads ResourceSkus
  // and Usages and plans with them, while Machines of the killed one are still launching.
  seedSubscription(standin.state, { skus: loadCatalog().skus, location });
  const client = new KubeClient(loadKubeConfig({ kubeconfig: o.kubeconfigPath }));
  standin.hooks.use(kwokNodeHooks(client, standin.subscriptionId, resourceGroup));
  // Occasional throttling on every ARM operation, which the SDK's pipeline must ride out by
  // honouring Retry-After (and the provisioner by retrying when it does not).
  standin.faults.add({
    ...throttle({ times: Number.MAX_SAFE_INTEGER, retryAfterSeconds: 1 }),
    matches: () => random() < throttleRate,
  });
  const subnetId = `/subscriptions/${standin.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/nodes`;
  const env = standinProcessEnv(standin, o.dir);
  const providerPrefix = providerIdFor(standin.subscriptionId, resourceGroup, "");

  let seenRequests = 0;
  let seenHookFailures = 0;

  return {
    name: "azure",
    standin,
    managerArgs: () => [
      "--cloud",
      "azure",
      `--azure-subscription-id=${standin.subscriptionId}`,
      `--azure-resource-group=${resourceGroup}`,
      `--azure-location=${location}`,
      `--azure-subnet-id=${subnetId}`,
      `--azure-endpoint=${standin.endpoint}`,
    ],
    managerEnv: () => env,
    async nodes(kube) {
      const nodes = (await kube.list<NodeObj>(resources.nodes, { labelSelector: machineTag })).items;
      return nodes.filter((n) => (n.spec?.providerID ?? "").startsWith(providerPrefix));
    },
    async instances(): Promise<CrashInstance[]> {
      return standin.state.vmsIn(resourceGroup).map((vm) => ({
        name: vm.name,
        machineName: vm.tags?.[machineTag] ?? "",
        pending: vm.properties.provisioningState !== "Succeeded",
      }));
    },
    secrets: () => [standin.managedIdentity!.token, standin.managedIdentity!.header],
    endRound() {
      const r = standin.requests.slice(seenRequests);
      seenRequests = standin.requests.length;
      const n = (p: (x: (typeof r)[number]) => boolean) => r.filter(p).length;
      const note =
        `ARM stand-in: ${r.length} requests (VM PUTs ${n((x) => x.operation === "virtualMachines.createOrUpdate")}, ` +
        `VM DELETEs ${n((x) => x.operation === "virtualMachines.delete")}, ` +
        `operation polls ${n((x) => x.operation === "operations.get")}), ` +
        `answered 429 ${n((x) => x.status === 429)}, ` +
        `managed-identity tokens issued ${n((x) => x.operation === MANAGED_IDENTITY_TOKEN && x.status === 200)}`;
      const problems: string[] = [];
      const unauthenticated = n((x) => x.status === 401);
      if (unauthenticated) problems.push(`ARM answered 401 to ${unauthenticated} requests`);
      const refusedTokens = n((x) => x.operation === MANAGED_IDENTITY_TOKEN && x.status !== 200);
      if (refusedTokens) problems.push(`the identity endpoint refused ${refusedTokens} token requests`);
      const failures = standin.hooks.failures.slice(seenHookFailures);
      seenHookFailures = standin.hooks.failures.length;
      if (failures.length)
        problems.push(`${failures.length} VMs could not register their node: ${String(failures[0])}`);
      return { note, problems };
    },
    async close() {
      await standin.hooks.settled();
      client.close();
      await standin.close();
    },
  };
}
