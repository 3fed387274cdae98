// The Azure cloud for the crash drill (./crash.ts): the ARM stand-in runs in this process, so it
// outlives every manager the drill kills and keeps the VMs they created, while each manager is a
// separate `kaito controller --cloud azure` process that finds ARM through --azure-endpoint,
// trusts the stand-in's CA through NODE_EXTRA_CA_CERTS and gets its token the way a workload on
// Azure does: DefaultAzureCredential -> ManagedIdentityCredential -> the stand-in's App Service
// identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER). The code under test has no test switch.
// Its VMs join as a real cluster's would: each manager gets cloud-init join data with a bootstrap
// token (--azure-node-join-data-file) whose kube-system Secret exists, the stand-in's kubelets
// register a VM only when that token authenticates, and GPUs show once deploy/device-plugin's
// DaemonSet runs on the node.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { KubeClient } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { resources } from "../../kube/resources.ts";
import { seededRandom } from "../../lib/random.ts";
import { loadCatalog } from "../../planner/catalog/index.ts";
import { machineTag, parseProviderId, providerIdFor } from "../../provisioner/cloud/azure/index.ts";
import { providerIdKey } from "../../provisioner/cloud/providerid.ts";
import { machineNameLabel } from "../../provisioner/cloud/local/node.ts";
import {
  bootstrapTokenSecret,
  kubeadmJoinUserData,
  MANAGED_IDENTITY_TOKEN,
  newBootstrapToken,
  seedSubscription,
  standinProcessEnv,
  startArmStandin,
  startVmKubelets,
  throttle,
  type ArmStandin,
} from "../arm-standin/index.ts";
import type { CrashCloud, CrashInstance, NodeObj } from "./crash.ts";
import { installDevicePlugin } from "./device-plugin.ts";

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
  const kubelets = await startVmKubelets({ client });
  standin.hooks.use(kubelets);
  const removeDevicePlugin = await installDevicePlugin(client);
  // The join data every manager hands its VMs: kubeadm join with a token the cluster knows.
  const token = newBootstrapToken();
  const tokenSecret = bootstrapTokenSecret(token);
  await client.create(resources.secrets, tokenSecret);
  const joinData = kubeadmJoinUserData(token.token);
  const joinFile = path.join(o.dir, "node-join.yaml");
  writeFileSync(joinFile, joinData, { mode: 0o600 });
  // Occasional throttling on every ARM operation, which the SDK's pipeline must ride out by
  // honouring Retry-After (and the provisioner by retrying when it does not).
  standin.faults.add({
    ...throttle({ times: Number.MAX_SAFE_INTEGER, retryAfterSeconds: 1 }),
    matches: () => random() < throttleRate,
  });
  const subnetId = `/subscriptions/${standin.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/nodes`;
  const env = standinProcessEnv(standin, o.dir);
  const providerPrefix = providerIdKey(providerIdFor(standin.subscriptionId, resourceGroup, ""));

  let seenRequests = 0;
  let seenHookFailures = 0;
  let seenJoins = 0;

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
      `--azure-node-join-data-file=${joinFile}`,
    ],
    managerEnv: () => env,
    async nodes(kube) {
      // A VM's Node knows nothing of Machines; the drill finds a node's Machine through its VM's
      // tag, as the local cloud's nodes carry it in a label.
      const nodes = (await kube.list<NodeObj>(resources.nodes)).items.filter((n) =>
        providerIdKey(n.spec?.providerID ?? "").startsWith(providerPrefix),
      );
      return nodes.map((n) => {
        const vmName = parseProviderId(n.spec!.providerID!)?.vmName ?? "";
        const vm = standin.state.vmsIn(resourceGroup).find((v) => v.name === vmName);
        const machine = vm?.tags?.[machineTag];
        return machine
          ? {
              ...n,
              metadata: { ...n.metadata, labels: { ...n.metadata?.labels, [machineNameLabel]: machine } },
            }
          : n;
      });
    },
    async instances(): Promise<CrashInstance[]> {
      return standin.state.vmsIn(resourceGroup).map((vm) => ({
        name: vm.name,
        machineName: vm.tags?.[machineTag] ?? "",
        pending: vm.properties.provisioningState !== "Succeeded",
      }));
    },
    secrets: () => [
      standin.managedIdentity!.token,
      standin.managedIdentity!.header,
      token.token,
      token.secret,
      Buffer.from(joinData).toString("base64").slice(0, 60),
    ],
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
      // Every VM carried the managers' join data: one that did not join is a VM given the wrong data.
      const joins = kubelets.joins.slice(seenJoins);
      seenJoins = kubelets.joins.length;
      const refused = joins.filter((j) => !j.joined);
      if (refused.length) problems.push(`${refused.length} VMs did not join: ${refused[0]!.reason}`);
      return { note: `${note}, VMs joined ${joins.length - refused.length}`, problems };
    },
    async close() {
      await standin.hooks.settled();
      await removeDevicePlugin();
      await client
        .delete(resources.secrets, tokenSecret.metadata!.name!, "kube-system")
        .catch(() => undefined);
      await kubelets.close();
      client.close();
      await standin.close();
    },
  };
}
