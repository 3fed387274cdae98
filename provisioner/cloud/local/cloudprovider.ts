import { systemClock, type Clock } from "../../../lib/clock.ts";
import { errorMessage } from "../../../lib/errors.ts";
import { silentLogger, type Logger } from "../../../lib/log.ts";
import type { Machine } from "../../../crds/index.ts";
import type { KubeClient } from "../../../kube/client.ts";
import { isAlreadyExists, isConflict, isNotFound } from "../../../kube/errors.ts";
import { resources } from "../../../kube/resources.ts";
import {
  findSku,
  loadCatalog,
  normalizeFamily,
  type Catalog,
  type Sku,
} from "../../../planner/catalog/index.ts";
import type { Node } from "../../kube-types.ts";
import { quantity } from "../../../kube/quantity.ts";
import { allowedInstanceTypes, allowedZones } from "../../requirements.ts";
import { CreateError, InsufficientCapacityError, MachineNotFoundError } from "../errors.ts";
import type { CloudProvider, Instance, InstanceType, Offering } from "../types.ts";
import { LaunchFaults } from "./faults.ts";
import {
  bootDueAt,
  bootedNode,
  buildNode,
  gpuResource,
  instanceFromNode,
  localInstanceLabel,
  nameOfProviderId,
  providerIdOf,
  skuCapacity,
} from "./node.ts";

export interface LocalCloudOptions {
  client: KubeClient;
  clock?: Clock;
  log?: Logger;
  /** How long a new node stays NotReady before kwok takes it over (default 3 s). */
  bootDelayMs?: number;
  /** The region label of every node (default "local"); zones default to `<region>-1`. */
  region?: string;
  catalog?: Catalog;
  /** vCPU quota per family, counted over the instances that exist; an absent family is unlimited. */
  quotas?: Record<string, number>;
}

const localSelector = `${localInstanceLabel}=true`;
const bootRetryMs = 5_000;

/**
 * A cloud whose instances are kwok-managed Nodes of the local cluster. create() makes the Node
 * at once, labelled, with its capacity and marked as booting, so kwok leaves it NotReady; when
 * the boot delay has passed on the injected clock the backend removes the mark (and the startup
 * taints, as the node's daemons would), and kwok makes it Ready with allocatable = capacity. The
 * mark holds the boot's end, so start() finishes the boots that a restart interrupted.
 */
export class LocalCloudProvider implements CloudProvider {
  readonly name = "local";
  /** Fault injection: see LaunchFaults. */
  readonly faults = new LaunchFaults();
  private readonly client: KubeClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly bootDelayMs: number;
  private readonly region: string;
  private readonly catalog: Catalog;
  private readonly quotas: Map<string, number>;
  /** Instances whose Node never appears (fault injection); they live only in this process. */
  private readonly phantoms = new Map<string, Instance>();
  private readonly bootTimers = new Map<string, () => void>();
  private readonly booting = new Set<Promise<void>>();
  private stopped = false;

  constructor(o: LocalCloudOptions) {
    this.client = o.client;
    this.clock = o.clock ?? systemClock;
    this.log = (o.log ?? silentLogger).with({ cloud: "local" });
    this.bootDelayMs = o.bootDelayMs ?? 3_000;
    this.region = o.region ?? "local";
    this.catalog = o.catalog ?? loadCatalog();
    this.quotas = new Map(Object.entries(o.quotas ?? {}).map(([f, v]) => [normalizeFamily(f), v]));
  }

  async create(machine: Machine): Promise<Instance> {
    const name = machine.metadata!.name!;
    const phantom = this.phantoms.get(name);
    if (phantom) return structuredClone(phantom);
    const existing = await this.readNode(name);
    if (existing) return this.adopt(existing);

    const wanted = allowedInstanceTypes(machine);
    const injected = this.faults.takeFailure(wanted?.[0] ?? "the requested SKU");
    if (injected) throw injected;
    const { sku, instanceType } = await this.chooseSku(machine, wanted);
    const zone = allowedZones(machine)?.[0] ?? `${this.region}-1`;
    const now = this.clock.now();

    if (this.faults.takeNeverRegister()) {
      const node = buildNode({ machine, sku, instanceType, zone, region: this.region, bootAt: now });
      const instance = { ...instanceFromNode(node), createdAt: now };
      this.phantoms.set(name, instance);
      this.log.info("launched an instance that will never register", { machine: name, sku: sku.name });
      return structuredClone(instance);
    }

    const neverBoots = this.faults.takeNeverBoot();
    const bootAt = now + this.bootDelayMs;
    const node = buildNode({ machine, sku, instanceType, zone, region: this.region, bootAt, neverBoots });
    let created: Node;
    try {
      created = await this.client.create<Node>(resources.nodes, node);
    } catch (e) {
      // A create that raced with another (or whose answer was lost) finds the first one.
      if (!isAlreadyExists(e)) throw e;
      const raced = await this.readNode(name);
      if (!raced) throw new CreateError("LaunchFailed", `node ${name} vanished while it was being created.`);
      return this.adopt(raced);
    }
    if (!neverBoots) this.scheduleBoot(name, bootAt);
    this.log.info("launched", { machine: name, sku: sku.name, zone, bootAt: new Date(bootAt).toISOString() });
    return instanceFromNode(created);
  }

  async delete(target: Machine | string): Promise<void> {
    const name = typeof target === "string" ? nameOfProviderId(target) : target.metadata?.name;
    const id = typeof target === "string" ? target : providerIdOf(name ?? "");
    if (!name) throw new MachineNotFoundError(id);
    this.cancelBoot(name);
    if (this.phantoms.delete(name)) return;
    const node = await this.readNode(name);
    if (!node) throw new MachineNotFoundError(id);
    try {
      await this.client.delete(resources.nodes, name, undefined, { uid: node.metadata?.uid });
    } catch (e) {
      // Gone already, or replaced by a node of the same name that the next call will find.
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }

  async get(providerID: string): Promise<Instance> {
    const name = nameOfProviderId(providerID);
    const phantom = name === undefined ? undefined : this.phantoms.get(name);
    if (phantom) return structuredClone(phantom);
    const node = name === undefined ? undefined : await this.readNode(name);
    if (!node) throw new MachineNotFoundError(providerID);
    return instanceFromNode(node);
  }

  async list(): Promise<Instance[]> {
    const nodes = await this.client.list<Node>(resources.nodes, { labelSelector: localSelector });
    return [
      ...nodes.items.map(instanceFromNode),
      ...[...this.phantoms.values()].map((p) => structuredClone(p)),
    ];
  }

  async instanceTypes(): Promise<InstanceType[]> {
    return (await this.offering()).instanceTypes;
  }

  /**
   * Every catalogue size (retired ones too: create() takes a size named by hand), and the quota
   * left in the families that have one: the configured limit less the vCPUs of the instances that
   * exist, or 0 for a family whose quota a test exhausted. A size whose quota a test exhausted
   * stays offered: no real cloud reports quota per size, so that fault shows only at launch.
   */
  async offering(): Promise<Offering> {
    const instanceTypes = this.catalog.skus.map((s) => ({
      name: s.name,
      family: s.family,
      capacity: skuCapacity(s),
      zones: [`${this.region}-1`, `${this.region}-2`, `${this.region}-3`],
      pricePerHour: s.pricePerHour,
    }));
    const quota: Record<string, number> = {};
    const usage = this.quotas.size > 0 ? await this.vcpusByFamily() : new Map<string, number>();
    for (const sku of this.catalog.skus) {
      const family = normalizeFamily(sku.family);
      const limit = this.quotas.get(family);
      if (limit !== undefined) quota[sku.family] = Math.max(0, limit - (usage.get(family) ?? 0));
      if (this.faults.familyExhausted(sku.family)) quota[sku.family] = 0;
    }
    return { region: this.region, instanceTypes, quota };
  }

  /** Finishes the boots a restart interrupted, then keeps boot timers running until the signal aborts. */
  async start(signal: AbortSignal): Promise<void> {
    this.stopped = false;
    while (!signal.aborted) {
      try {
        const nodes = await this.client.list<Node>(resources.nodes, { labelSelector: localSelector });
        for (const node of nodes.items) {
          const due = bootDueAt(node);
          if (due !== undefined) this.scheduleBoot(node.metadata!.name!, due);
        }
        break;
      } catch (e) {
        this.log.warn("could not list local instances, retrying", { error: errorMessage(e) });
        await this.clock.sleep(bootRetryMs, signal).catch(() => undefined);
      }
    }
    if (!signal.aborted)
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    this.stopped = true;
    for (const cancel of this.bootTimers.values()) cancel();
    this.bootTimers.clear();
    await this.settled();
  }

  /** Resolves once every boot that has fallen due is written: tests step a FakeClock, then await this. */
  async settled(): Promise<void> {
    while (this.booting.size > 0) await Promise.allSettled([...this.booting]);
  }

  private async readNode(name: string): Promise<Node | undefined> {
    try {
      return await this.client.get<Node>(resources.nodes, name);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** An existing node of the Machine's name is its instance only if this backend made it. */
  private adopt(node: Node): Instance {
    if (node.metadata?.labels?.[localInstanceLabel] !== "true") {
      throw new CreateError(
        "NodeNameTaken",
        `a node named ${node.metadata?.name} exists that the local cloud did not create; delete it or rename the Machine.`,
      );
    }
    return instanceFromNode(node);
  }

  private async chooseSku(
    machine: Machine,
    wanted: string[] | undefined,
  ): Promise<{ sku: Sku; instanceType: string }> {
    const candidates = wanted ?? this.cheapestFitting(machine);
    let firstError: Error | undefined;
    let usage: Map<string, number> | undefined;
    for (const name of candidates) {
      const sku = findSku(name, this.catalog);
      // A size asked for by name is offered even when Azure has retired it: the KAITO doc
      // examples still name Standard_NC6s_v3. Only the cheapest-fitting choice skips retired sizes.
      if (!sku || (wanted === undefined && sku.retired !== undefined)) {
        firstError ??= new InsufficientCapacityError(
          "sku",
          name,
          `${name} is not a SKU the local cloud offers.`,
        );
        continue;
      }
      if (this.faults.quotaExhausted(sku)) {
        firstError ??= new InsufficientCapacityError(
          "quota",
          name,
          `the vCPU quota for family ${sku.family} is used up, so ${name} cannot be created.`,
        );
        continue;
      }
      const limit = this.quotas.get(normalizeFamily(sku.family));
      if (limit !== undefined) {
        usage ??= await this.vcpusByFamily();
        const used = usage.get(normalizeFamily(sku.family)) ?? 0;
        if (used + sku.vcpus > limit) {
          firstError ??= new InsufficientCapacityError(
            "quota",
            name,
            `${name} needs ${sku.vcpus} vCPUs but family ${sku.family} has ${Math.max(0, limit - used)} of its ${limit} left.`,
          );
          continue;
        }
      }
      return { sku, instanceType: name };
    }
    throw (
      firstError ??
      new InsufficientCapacityError("sku", "", "no SKU in the local catalogue meets the Machine's requests.")
    );
  }

  /** Without an instance-type requirement: the catalogue's SKUs with enough GPUs, cheapest first. */
  private cheapestFitting(machine: Machine): string[] {
    const gpus = quantity(machine.spec?.resources?.requests?.[gpuResource]);
    return this.catalog.skus
      .filter((s) => s.retired === undefined && s.gpus >= gpus)
      .sort((a, b) => a.pricePerHour - b.pricePerHour)
      .map((s) => s.name);
  }

  private async vcpusByFamily(): Promise<Map<string, number>> {
    const usage = new Map<string, number>();
    for (const instance of await this.list()) {
      const sku = findSku(instance.instanceType, this.catalog);
      if (!sku) continue;
      const family = normalizeFamily(sku.family);
      usage.set(family, (usage.get(family) ?? 0) + sku.vcpus);
    }
    return usage;
  }

  private scheduleBoot(name: string, dueAt: number): void {
    this.cancelBoot(name);
    if (this.stopped) return;
    const delay = dueAt - this.clock.now();
    if (delay <= 0) {
      this.boot(name);
      return;
    }
    this.bootTimers.set(
      name,
      this.clock.schedule(delay, () => {
        this.bootTimers.delete(name);
        this.boot(name);
      }),
    );
  }

  private boot(name: string): void {
    const done: Promise<void> = this.completeBoot(name)
      .catch((e: unknown) => {
        this.log.warn("could not finish a node's boot, retrying", { node: name, error: errorMessage(e) });
        this.scheduleBoot(name, this.clock.now() + bootRetryMs);
      })
      .finally(() => this.booting.delete(done));
    this.booting.add(done);
  }

  private cancelBoot(name: string): void {
    this.bootTimers.get(name)?.();
    this.bootTimers.delete(name);
  }

  /** Ends the node's boot: kwok then marks it Ready with its capacity as allocatable. */
  private async completeBoot(name: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const node = await this.readNode(name);
      if (!node || node.metadata?.labels?.[localInstanceLabel] !== "true") return;
      if (bootDueAt(node) === undefined) return;
      try {
        await this.client.update(resources.nodes, bootedNode(node));
        this.log.info("booted", { node: name });
        return;
      } catch (e) {
        if (!isConflict(e) || attempt >= 4) throw e;
      }
    }
  }
}
