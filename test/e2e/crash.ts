// The crash drill shared by test/e2e/crash.test.ts (2 rounds inside `npm test`) and
// test/e2e/crash-run.ts (`npm run test:crash`, 10 rounds on a cluster of its own).
//
// Each round applies N Workspaces (named SKU and planner-chosen, some with two nodes), SIGKILLs
// the manager process at a seeded random moment while they provision, starts a new one, waits
// until every Workspace is ready and counts what a crash could leave wrong: Machines per
// Workspace against status.placement.newNodes, nodes per Machine, local-cloud instances without
// a Machine, duplicate Machines. Then it deletes the round's Workspaces, kills the manager again
// while the finalizers run, and checks that the next one leaves nothing of them behind.
//
// The cloud is pluggable (CrashCloud): the local cloud's instances are kwok Nodes; the Azure
// cloud's are VMs in the ARM stand-in (./crash-azure.ts), which lives in this process and so
// keeps every VM a killed manager created. With `karpenter` the manager writes NodeClaims for the
// real Karpenter (started by the caller), whose instances are the Nodes it made: the "Machines"
// of the counts are then NodeClaims, and a node no NodeClaim accounts for is an orphan.
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { resources, type Resource } from "../../kube/resources.ts";
import { seededRandom } from "../../lib/random.ts";
import { ManagedProcess } from "../../localcluster/processes.ts";
import { freePort } from "../../localcluster/ports.ts";
import { localInstanceLabel, machineNameLabel } from "../../provisioner/cloud/local/node.ts";
import { workspaceLabel, type Machine, type Workspace } from "../../crds/index.ts";

const repo = path.resolve(import.meta.dirname, "../..");

/** An instance as the drill counts it: a local-cloud kwok Node, or a VM. */
export interface CrashInstance {
  name: string;
  /** The Machine (or NodeClaim) it was made for; "" when it names none. */
  machineName: string;
  /** The workspace its labels name, where the instance carries labels (Nodes do, VMs do not). */
  workspace?: string;
  /** Still being created or deleted (a VM whose operation runs). */
  pending?: boolean;
}

/** What the drill needs from the cloud backend the manager runs with. */
export interface CrashCloud {
  readonly name: "local" | "azure" | "karpenter";
  /** What the manager writes for a node (default: Machines), and its name in the printed counts. */
  readonly claims?: { resource: Resource; noun: string };
  /** The `kaito controller` flags that select and configure this cloud. */
  managerArgs(): string[];
  /** The manager's environment; this process's when absent. */
  managerEnv?(): NodeJS.ProcessEnv;
  /** The Nodes this cloud's instances registered as. */
  nodes(client: KubeClient): Promise<NodeObj[]>;
  /** Every instance the cloud holds, whoever made it. */
  instances(client: KubeClient): Promise<CrashInstance[]>;
  /** Strings that must never reach a manager's log (tokens, secrets). */
  secrets?(): string[];
  /**
   * Called once at the end of each round: the cloud's own view of it (requests served, faults
   * injected) for the printed line, and what it saw go wrong (a VM whose node could not register).
   */
  endRound?(): { note: string; problems: string[] };
}

/** The local cloud: its instances are the kwok Nodes it labels as its own. */
export function localCrashCloud(bootDelaySeconds = 1): CrashCloud {
  const nodes = async (client: KubeClient) =>
    (await client.list<NodeObj>(resources.nodes, { labelSelector: `${localInstanceLabel}=true` })).items;
  return {
    name: "local",
    managerArgs: () => ["--cloud", "local", `--boot-delay=${bootDelaySeconds}`],
    nodes,
    instances: async (client) =>
      (await nodes(client)).map((n) => ({
        name: n.metadata!.name!,
        machineName: n.metadata?.labels?.[machineNameLabel] ?? n.metadata!.name!,
        workspace: n.metadata?.labels?.[workspaceLabel],
      })),
  };
}

/**
 * The real Karpenter (its kwok provider, which the caller runs): the manager writes NodeClaims for
 * the KWOKNodeClass, and the instances are the Nodes Karpenter made, each labelled with its claim's
 * name (kubernetes.io/hostname, as the kwok provider sets it) and its claim's labels.
 */
export function karpenterCrashCloud(): CrashCloud {
  const nodes = async (client: KubeClient) =>
    (await client.list<NodeObj>(resources.nodes, { labelSelector: "karpenter.kwok.sh/kwoknodeclass" })).items;
  return {
    name: "karpenter",
    claims: { resource: resources.nodeClaims, noun: "NodeClaim" },
    managerArgs: () => [
      "--node-provisioner",
      "karpenter",
      "--node-class",
      "karpenter.kwok.sh/KWOKNodeClass/default",
    ],
    nodes,
    instances: async (client) =>
      (await nodes(client)).map((n) => ({
        name: n.metadata!.name!,
        machineName: n.metadata?.labels?.["kubernetes.io/hostname"] ?? "",
        workspace: n.metadata?.labels?.[workspaceLabel],
      })),
  };
}

const nouns = {
  local: ["instance", "instances"],
  azure: ["VM", "VMs"],
  karpenter: ["node", "nodes"],
} as const;
const claimsOf = (cloud: CrashCloud) => cloud.claims ?? { resource: resources.machines, noun: "Machine" };

export interface CrashOptions {
  kubeconfigPath: string;
  namespace: string;
  rounds: number;
  workspaces: number;
  seed: number;
  /** Where each manager process writes its log. */
  logDir: string;
  /** Where Machines become instances (default: the local cloud with bootDelaySeconds). */
  cloud?: CrashCloud;
  /** Kill moments are drawn from [minKillMs, maxKillMs) after the round's Workspaces are applied. */
  minKillMs?: number;
  maxKillMs?: number;
  /** The second kill of a round falls in [0, maxDeleteKillMs) after the Workspaces' deletion. */
  maxDeleteKillMs?: number;
  /** Boot delay of the default local cloud. */
  bootDelaySeconds?: number;
  /** Run the manager with --leader-elect (the Lease in `namespace`), as deploy/ does. */
  leaderElect?: boolean;
  /** Per round: how long every Workspace may take to be ready after the restart. */
  readyTimeoutMs?: number;
  /**
   * How long to wait for garbage collection when instances without a Machine are found (the
   * collector sweeps every 2 min and spares instances younger than 1 min).
   */
  garbageCollectionWaitMs?: number;
  print?: (line: string) => void;
}

export interface RoundCounts {
  round: number;
  cloud: CrashCloud["name"];
  killedAfterMs: number;
  /** Seen just before the kill: how far provisioning had come. */
  atKill: { machines: number; nodes: number; instances: number; pendingInstances: number; ready: number };
  ready: number;
  workspaces: number;
  machines: number;
  /** Sum over the round's Workspaces of status.placement.newNodes. */
  expectedMachines: number;
  /** Workspaces whose Machine count differs from status.placement.newNodes. */
  workspacesWithWrongMachineCount: number;
  /** Machines beyond placement.newNodes, plus Machines sharing a providerID. */
  duplicateMachines: number;
  /** Machines that do not have exactly one Node with their providerID. */
  machinesWithoutExactlyOneNode: number;
  /** The cloud's instances made for the round's Machines. */
  instances: number;
  /** Instances beyond one per Machine of the round. */
  duplicateInstances: number;
  /** Machines that do not have exactly one instance made for them. */
  machinesWithoutExactlyOneInstance: number;
  /** Cloud instances (any round's) whose Machine does not exist, after garbage collection. */
  instancesWithoutMachine: number;
  /** The same, before waiting for garbage collection. */
  instancesWithoutMachineBeforeGc: number;
  /** Machines whose Workspace does not exist. */
  machinesWithoutWorkspace: number;
  /** Seconds from the restart until every Workspace was ready. */
  readySeconds: number;
  /** The second kill, while the round's Workspaces were being deleted, and what was left then. */
  deleteKill: { killedAfterMs: number; workspaces: number; machines: number };
  /** After the deletion finished under the restarted manager: Workspaces, Machines, nodes left. */
  leftAfterDelete: number;
  /** The round's instances still in the cloud once the deletion finished. */
  instancesLeftAfterDelete: number;
  /** Cloud instances without a Machine once the deletion finished. */
  instancesWithoutMachineAfterDelete: number;
  /** Manager logs so far that contain one of the cloud's secrets; absent for a cloud without any. */
  logsWithSecrets?: number;
  /** What the cloud saw go wrong during the round. */
  cloudProblems: string[];
  /** The cloud's own view of the round. */
  note?: string;
}

type Ws = Workspace & KubeObject;
type M = Machine & KubeObject;
export type NodeObj = KubeObject & { spec?: { providerID?: string } };

const isReady = (w: Ws) =>
  w.status?.conditions?.some((c) => c.type === "WorkspaceReady" && c.status === "True") ?? false;

async function until(what: () => string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check().catch(() => false)) return (performance.now() - started) / 1000;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** One manager process, as the Deployment runs it: `node cli/main.ts controller`. */
async function startManager(o: CrashOptions, cloud: CrashCloud, index: number): Promise<ManagedProcess> {
  const [metrics, health] = [await freePort(), await freePort()];
  const args = [
    path.join(repo, "cli/main.ts"),
    "controller",
    "--kubeconfig",
    o.kubeconfigPath,
    ...cloud.managerArgs(),
    `--metrics-bind-address=127.0.0.1:${metrics}`,
    `--health-probe-bind-address=127.0.0.1:${health}`,
    "--planner-bind-address=127.0.0.1:0",
    "--extender-bind-address=127.0.0.1:0",
    "--log-level=info",
  ];
  if (o.leaderElect ?? true) args.push("--leader-elect", `--leader-election-namespace=${o.namespace}`);
  mkdirSync(o.logDir, { recursive: true });
  return new ManagedProcess({
    name: `kaito-manager-${index}`,
    command: path.join(repo, "node_modules/.bin/node"),
    args,
    logFile: path.join(o.logDir, `manager-${index}.log`),
    ...(cloud.managerEnv ? { env: cloud.managerEnv() } : {}),
  });
}

function workspace(namespace: string, round: number, i: number): Ws {
  const named = i % 2 === 0;
  const name = `r${round}-ws-${i}`;
  return {
    apiVersion: "kaito.sh/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace },
    resource: {
      ...(named ? { instanceType: "Standard_NC6s_v3" } : {}),
      // Every fifth one wants two nodes, so a Machine too many or too few is visible per workspace.
      ...(i % 5 === 0 ? { count: 2 } : {}),
      labelSelector: { matchLabels: { apps: name } },
    },
    inference: { preset: { name: "phi-3-mini-4k-instruct" } },
  };
}

interface Snapshot {
  workspaces: Ws[];
  machines: M[];
  nodes: NodeObj[];
  /** Instances made for the round's Machines (by name prefix). */
  instances: CrashInstance[];
}

async function snapshot(
  client: KubeClient,
  cloud: CrashCloud,
  namespace: string,
  round: number,
): Promise<Snapshot> {
  const prefix = `r${round}-`;
  const workspaces = (await client.list<Ws>(resources.workspaces, { namespace })).items.filter((w) =>
    w.metadata!.name!.startsWith(prefix),
  );
  const machines = (await client.list<M>(claimsOf(cloud).resource)).items.filter(
    (m) =>
      m.metadata?.labels?.["kaito.sh/workspacenamespace"] === namespace &&
      m.metadata.labels["kaito.sh/workspace"]?.startsWith(prefix),
  );
  const nodes = await cloud.nodes(client);
  // An instance is the round's when its labels name one of the round's workspaces or, for a VM
  // (no labels), when it was made for one of the round's Machines.
  const names = new Set(machines.map((m) => m.metadata!.name!));
  const instances = (await cloud.instances(client)).filter((i) =>
    i.workspace !== undefined ? i.workspace.startsWith(prefix) : names.has(i.machineName),
  );
  return { workspaces, machines, nodes, instances };
}

/** Where each unready Workspace of the snapshot is stuck: its conditions, Machines, nodes and instances. */
function describeUnready(s: Snapshot): string {
  const conditions = (cs: { type: string; status: string; reason?: string }[] | undefined) =>
    (cs ?? []).map((c) => `${c.type}=${c.status}${c.reason ? `(${c.reason})` : ""}`).join(" ");
  return s.workspaces
    .filter((w) => !isReady(w))
    .map((w) => {
      const name = w.metadata!.name!;
      const machines = s.machines.filter((m) => m.metadata?.labels?.["kaito.sh/workspace"] === name);
      const lines = machines.map((m) => {
        const id = m.status?.providerID ?? "";
        const nodes = s.nodes.filter((n) => id && n.spec?.providerID === id).length;
        const instances = s.instances.filter((i) => i.machineName === m.metadata!.name).length;
        const deleting = m.metadata?.deletionTimestamp ? " deleting" : "";
        return `    Machine ${m.metadata!.name}${deleting}: ${conditions(m.status?.conditions)}; nodes ${nodes}, instances ${instances}`;
      });
      return [
        `  ${name}: ${conditions(w.status?.conditions)}; placement ${JSON.stringify(w.status?.placement ?? null)}`,
        ...lines,
      ].join("\n");
    })
    .join("\n");
}

/** The cloud's instances (all of them, not only this round's) whose Machine does not exist. */
async function instancesWithoutMachine(client: KubeClient, cloud: CrashCloud): Promise<string[]> {
  const machines = new Set(
    (await client.list<M>(claimsOf(cloud).resource)).items.map((m) => m.metadata!.name!),
  );
  return (await cloud.instances(client)).filter((i) => !machines.has(i.machineName)).map((i) => i.name);
}

/** Manager logs in logDir that contain any of the secrets. */
function logsWithSecrets(logDir: string, secrets: string[]): number {
  return readdirSync(logDir)
    .filter((f) => f.startsWith("manager-") && f.endsWith(".log"))
    .filter((f) => {
      const text = readFileSync(path.join(logDir, f), "utf8");
      return secrets.some((s) => s.length > 0 && text.includes(s));
    }).length;
}

function count(
  round: number,
  cloud: CrashCloud["name"],
  killedAfterMs: number,
  atKill: RoundCounts["atKill"],
  s: Snapshot,
) {
  const byWorkspace = new Map<string, M[]>();
  for (const m of s.machines) {
    const ws = m.metadata!.labels!["kaito.sh/workspace"]!;
    byWorkspace.set(ws, [...(byWorkspace.get(ws) ?? []), m]);
  }
  let expectedMachines = 0;
  let wrong = 0;
  let duplicates = 0;
  for (const w of s.workspaces) {
    const want = w.status?.placement?.newNodes ?? 0;
    const have = byWorkspace.get(w.metadata!.name!)?.length ?? 0;
    expectedMachines += want;
    if (have !== want) wrong++;
    duplicates += Math.max(0, have - want);
  }
  const providerIDs = new Map<string, number>();
  for (const m of s.machines) {
    const id = m.status?.providerID;
    if (id) providerIDs.set(id, (providerIDs.get(id) ?? 0) + 1);
  }
  for (const n of providerIDs.values()) duplicates += n - 1;
  const nodesByProviderID = new Map<string, number>();
  for (const n of s.nodes) {
    const id = n.spec?.providerID;
    if (id) nodesByProviderID.set(id, (nodesByProviderID.get(id) ?? 0) + 1);
  }
  const machinesWithoutExactlyOneNode = s.machines.filter(
    (m) => nodesByProviderID.get(m.status?.providerID ?? "") !== 1,
  ).length;
  const names = new Set(s.workspaces.map((w) => w.metadata!.name!));
  const machinesWithoutWorkspace = s.machines.filter(
    (m) => !names.has(m.metadata!.labels!["kaito.sh/workspace"]!),
  ).length;
  const instancesPerMachine = new Map<string, number>();
  for (const i of s.instances)
    instancesPerMachine.set(i.machineName, (instancesPerMachine.get(i.machineName) ?? 0) + 1);
  let duplicateInstances = 0;
  for (const n of instancesPerMachine.values()) duplicateInstances += Math.max(0, n - 1);
  const machinesWithoutExactlyOneInstance = s.machines.filter(
    (m) => instancesPerMachine.get(m.metadata!.name!) !== 1,
  ).length;
  return {
    round,
    cloud,
    killedAfterMs,
    atKill,
    ready: s.workspaces.filter(isReady).length,
    workspaces: s.workspaces.length,
    machines: s.machines.length,
    expectedMachines,
    workspacesWithWrongMachineCount: wrong,
    duplicateMachines: duplicates,
    machinesWithoutExactlyOneNode,
    machinesWithoutWorkspace,
    instances: s.instances.length,
    duplicateInstances,
    machinesWithoutExactlyOneInstance,
  };
}

export function formatRound(c: RoundCounts): string {
  const [one, many] = nouns[c.cloud];
  const Machine = c.cloud === "karpenter" ? "NodeClaim" : "Machine";
  const pending = c.atKill.pendingInstances ? ` (${c.atKill.pendingInstances} mid-operation)` : "";
  return (
    `round ${c.round} (${c.cloud}): killed ${c.killedAfterMs} ms after apply ` +
    `(then ${c.atKill.machines} ${Machine}s, ${c.atKill.instances} ${many}${pending}, ${c.atKill.nodes} nodes, ${c.atKill.ready} ready); ` +
    `after restart ${c.ready}/${c.workspaces} ready in ${c.readySeconds.toFixed(1)} s, ` +
    `${Machine}s ${c.machines} (placement says ${c.expectedMachines}), ` +
    `workspaces with a wrong ${Machine} count ${c.workspacesWithWrongMachineCount}, ` +
    `duplicate ${Machine}s ${c.duplicateMachines}, ${Machine}s without exactly one node ${c.machinesWithoutExactlyOneNode}, ` +
    `${Machine}s without a Workspace ${c.machinesWithoutWorkspace}, ` +
    `${many} ${c.instances}, duplicate ${many} per ${Machine} ${c.duplicateInstances}, ` +
    `${Machine}s without exactly one ${one} ${c.machinesWithoutExactlyOneInstance}, ` +
    `${many} without a ${Machine} ${c.instancesWithoutMachineBeforeGc} before GC / ${c.instancesWithoutMachine} after, ` +
    `killed again ${c.deleteKill.killedAfterMs} ms into their deletion ` +
    `(then ${c.deleteKill.workspaces} Workspaces, ${c.deleteKill.machines} ${Machine}s left); ` +
    `after restart left ${c.leftAfterDelete} (${many} ${c.instancesLeftAfterDelete}), ` +
    `${many} without a ${Machine} ${c.instancesWithoutMachineAfterDelete}` +
    (c.logsWithSecrets !== undefined ? `; manager logs holding a credential ${c.logsWithSecrets}` : "") +
    (c.note ? `; ${c.note}` : "")
  );
}

/** The counts that must all be zero (and every workspace ready) for a round to pass. */
export function roundProblems(c: RoundCounts): string[] {
  const problems: string[] = [];
  if (c.ready !== c.workspaces) problems.push(`${c.workspaces - c.ready} workspaces not ready`);
  for (const k of [
    "workspacesWithWrongMachineCount",
    "duplicateMachines",
    "machinesWithoutExactlyOneNode",
    "machinesWithoutWorkspace",
    "duplicateInstances",
    "machinesWithoutExactlyOneInstance",
    "instancesWithoutMachine",
    "leftAfterDelete",
    "instancesLeftAfterDelete",
    "instancesWithoutMachineAfterDelete",
    "logsWithSecrets",
  ] as const)
    if ((c[k] ?? 0) !== 0) problems.push(`${k} = ${c[k]}`);
  problems.push(...c.cloudProblems);
  return problems;
}

export async function runCrashRounds(o: CrashOptions): Promise<RoundCounts[]> {
  const print = o.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  const cloud = o.cloud ?? localCrashCloud(o.bootDelaySeconds ?? 1);
  const random = seededRandom(o.seed);
  const minKill = o.minKillMs ?? 50;
  const maxKill = o.maxKillMs ?? 5_000;
  const client = new KubeClient(loadKubeConfig({ kubeconfig: o.kubeconfigPath }));
  const results: RoundCounts[] = [];
  let started = 0;
  const leaderElect = o.leaderElect ?? true;
  /** The holder of the Lease at the last kill: the next manager must take over from it. */
  let deposed: string | undefined;
  const holder = async () =>
    (
      await client
        .get<KubeObject & { spec?: { holderIdentity?: string } }>(
          resources.leases,
          "kaito-ts-manager",
          o.namespace,
        )
        .catch(() => undefined)
    )?.spec?.holderIdentity;
  const awaitNewLeader = () =>
    until(
      () => `a new manager to take the Lease over from ${deposed}`,
      async () => {
        const h = await holder();
        return h !== undefined && h !== "" && h !== deposed;
      },
      60_000,
    );
  const killManager = async () => {
    if (leaderElect) deposed = await holder();
    // SIGKILL to the manager's own process group (ManagedProcess started it), nothing else.
    manager.kill("SIGKILL");
    await manager.stop(1_000);
  };
  /** Orphans are the garbage collector's job: give it its interval plus grace period to act. */
  const collected = async (found: string[]): Promise<string[]> => {
    let orphans = found;
    if (orphans.length === 0) return orphans;
    print(`${nouns[cloud.name][1]} without a Machine: ${orphans.join(", ")}; waiting for garbage collection`);
    await until(
      () => `garbage collection of ${orphans.join(", ")}`,
      async () => (orphans = await instancesWithoutMachine(client, cloud)).length === 0,
      o.garbageCollectionWaitMs ?? 4 * 60_000,
    ).catch(() => undefined);
    return orphans;
  };
  let manager = await startManager(o, cloud, started++);
  try {
    for (let round = 1; round <= o.rounds; round++) {
      // A restarted manager waits out the dead one's Lease (15 s) before it leads: kill it only
      // once it leads, or the kill would find it idle.
      if (leaderElect) await awaitNewLeader();
      const all = Array.from({ length: o.workspaces }, (_, i) => workspace(o.namespace, round, i));
      await Promise.all(all.map((w) => client.create(resources.workspaces, w)));
      const killedAfterMs = Math.round(minKill + random() * (maxKill - minKill));
      await new Promise((r) => setTimeout(r, killedAfterMs));
      const before = await snapshot(client, cloud, o.namespace, round);
      await killManager();
      const atKill = {
        machines: before.machines.length,
        nodes: before.nodes.length,
        instances: before.instances.length,
        pendingInstances: before.instances.filter((i) => i.pending).length,
        ready: before.workspaces.filter(isReady).length,
      };
      manager = await startManager(o, cloud, started++);
      let last: Snapshot | undefined;
      const readySeconds = await until(
        () =>
          `round ${round}: every workspace to be ready after the restart (${last?.workspaces.filter(isReady).length ?? 0}/${o.workspaces}; ` +
          `not ready:\n${last ? describeUnready(last) : "?"}\nmanager log ${manager.logFile}:\n${manager.logTail()})`,
        async () => {
          if (!manager.running) throw new Error(`the manager exited:\n${manager.logTail()}`);
          last = await snapshot(client, cloud, o.namespace, round);
          return last.workspaces.filter(isReady).length === o.workspaces;
        },
        o.readyTimeoutMs ?? 5 * 60_000,
      );
      const counted = count(
        round,
        cloud.name,
        killedAfterMs,
        atKill,
        await snapshot(client, cloud, o.namespace, round),
      );
      const orphansBefore = await instancesWithoutMachine(client, cloud);
      const orphans = await collected(orphansBefore);

      // Delete the round's Workspaces and kill the manager again while the finalizers run
      // (Machines terminating, nodes being deleted), then check that a new one finishes the job.
      await Promise.all(all.map((w) => client.delete(resources.workspaces, w.metadata!.name!, o.namespace)));
      const killedInDeleteAfterMs = Math.round(random() * (o.maxDeleteKillMs ?? 1_500));
      await new Promise((r) => setTimeout(r, killedInDeleteAfterMs));
      const deleting = await snapshot(client, cloud, o.namespace, round);
      await killManager();
      manager = await startManager(o, cloud, started++);
      let left = 0;
      let instancesLeft = 0;
      await until(
        () =>
          `round ${round}: the workspaces, their Machines, nodes and ${nouns[cloud.name][1]} to be gone (${left} objects, ${instancesLeft} ${nouns[cloud.name][1]} left)`,
        async () => {
          if (!manager.running) throw new Error(`the manager exited:\n${manager.logTail()}`);
          const s = await snapshot(client, cloud, o.namespace, round);
          const mine = s.nodes.filter((n) =>
            (n.metadata?.labels?.[workspaceLabel] ?? "").startsWith(`r${round}-`),
          );
          left = s.workspaces.length + s.machines.length + mine.length;
          instancesLeft = s.instances.length;
          return left === 0 && instancesLeft === 0;
        },
        2 * 60_000,
      ).catch(() => undefined);
      const orphansAfterDelete = await collected(await instancesWithoutMachine(client, cloud));

      const ended = cloud.endRound?.();
      const result: RoundCounts = {
        ...counted,
        readySeconds,
        instancesWithoutMachineBeforeGc: orphansBefore.length,
        instancesWithoutMachine: orphans.length,
        leftAfterDelete: left,
        deleteKill: {
          killedAfterMs: killedInDeleteAfterMs,
          workspaces: deleting.workspaces.length,
          machines: deleting.machines.length,
        },
        instancesLeftAfterDelete: instancesLeft,
        instancesWithoutMachineAfterDelete: orphansAfterDelete.length,
        ...(cloud.secrets ? { logsWithSecrets: logsWithSecrets(o.logDir, cloud.secrets()) } : {}),
        cloudProblems: ended?.problems ?? [],
        ...(ended ? { note: ended.note } : {}),
      };
      results.push(result);
      print(formatRound(result));
    }
  } finally {
    await manager.stop(10_000);
    client.close();
  }
  return results;
}
