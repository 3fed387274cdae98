import { systemClock, type Clock } from "../../../lib/clock.ts";
import { instanceTypeLabel, zoneLabel, type Machine } from "../../../crds/index.ts";
import { allowedInstanceTypes, allowedZones } from "../../requirements.ts";
import {
  InsufficientCapacityError,
  MachineNotFoundError,
  type CloudCallOptions,
  type CloudProvider,
  type Instance,
  type InstanceType,
  type Offering,
} from "../types.ts";
import { fakeInstanceType } from "./instancetype.ts";

export const fakeProviderPrefix = "fake://";

/**
 * An in-memory cloud for controller tests: it records every call, fails the next call of a kind
 * once when told to, and can cap the number of creates. Build a new one per test.
 */
export class FakeCloudProvider implements CloudProvider {
  readonly name = "fake";
  /** Instances that exist, by providerID. */
  readonly instances = new Map<string, Instance>();
  readonly createCalls: Machine[] = [];
  /** The signal each create() was given, in call order. */
  readonly createSignals: (AbortSignal | undefined)[] = [];
  readonly deleteCalls: string[] = [];
  /** The signal each delete() was given, in call order. */
  readonly deleteSignals: (AbortSignal | undefined)[] = [];
  readonly getCalls: string[] = [];
  /** Thrown by the next create() only. */
  nextCreateError: Error | undefined;
  /** Thrown by the next delete() only. */
  nextDeleteError: Error | undefined;
  /** Thrown by the next get() only. */
  nextGetError: Error | undefined;
  /** Launches beyond this count fail with InsufficientCapacityError("allocation"). */
  allowedCreateCalls = Number.POSITIVE_INFINITY;
  /** Instances made so far (a create() that found its instance does not count). */
  launched = 0;
  types: InstanceType[];
  /** What offering() reports as quota left; absent families are unlimited. */
  quota: Record<string, number>;
  /** Region offering() names. */
  region = "fake";
  /** Thrown by the next offering() only. */
  nextOfferingError: Error | undefined;
  /** While set, offering() waits for it first: tests hold a reading in flight. */
  offeringGate: Promise<void> | undefined;
  /** offering() calls so far, including failed ones. */
  offeringCalls = 0;
  private readonly clock: Clock;

  constructor(o: { clock?: Clock; instanceTypes?: InstanceType[]; quota?: Record<string, number> } = {}) {
    this.clock = o.clock ?? systemClock;
    this.types = o.instanceTypes ?? [fakeInstanceType()];
    this.quota = o.quota ?? {};
  }

  async create(machine: Machine, options: CloudCallOptions = {}): Promise<Instance> {
    this.createCalls.push(structuredClone(machine));
    this.createSignals.push(options.signal);
    // As a real backend's first call would: an aborted signal fails before anything is made.
    options.signal?.throwIfAborted();
    const error = this.nextCreateError;
    this.nextCreateError = undefined;
    if (error) throw error;
    const machineName = machine.metadata!.name!;
    const providerID = `${fakeProviderPrefix}${machineName}`;
    const existing = this.instances.get(providerID);
    if (existing) return structuredClone(existing);
    if (this.launched >= this.allowedCreateCalls) {
      throw new InsufficientCapacityError(
        "allocation",
        allowedInstanceTypes(machine)?.[0] ?? "",
        `the fake cloud allows only ${this.allowedCreateCalls} instances.`,
      );
    }
    const wanted = allowedInstanceTypes(machine);
    const type = this.types.find((t) => !wanted || wanted.includes(t.name));
    if (!type) {
      const sku = wanted?.join(", ") ?? "";
      throw new InsufficientCapacityError("sku", sku, `the fake cloud offers no instance type ${sku}.`);
    }
    const zones = allowedZones(machine);
    const zone = type.zones.find((z) => !zones || zones.includes(z)) ?? zones?.[0] ?? type.zones[0] ?? "";
    const instance: Instance = {
      providerID,
      machineName,
      instanceType: type.name,
      zone,
      capacity: { ...type.capacity },
      labels: { [instanceTypeLabel]: type.name, [zoneLabel]: zone },
      createdAt: this.clock.now(),
    };
    this.instances.set(providerID, instance);
    this.launched++;
    return structuredClone(instance);
  }

  async delete(target: Machine | string, options: CloudCallOptions = {}): Promise<void> {
    const providerID =
      typeof target === "string" ? target : `${fakeProviderPrefix}${target.metadata?.name ?? ""}`;
    this.deleteCalls.push(providerID);
    this.deleteSignals.push(options.signal);
    options.signal?.throwIfAborted();
    const error = this.nextDeleteError;
    this.nextDeleteError = undefined;
    if (error) throw error;
    if (!this.instances.delete(providerID)) throw new MachineNotFoundError(providerID);
  }

  async get(providerID: string): Promise<Instance> {
    this.getCalls.push(providerID);
    const error = this.nextGetError;
    this.nextGetError = undefined;
    if (error) throw error;
    const instance = this.instances.get(providerID);
    if (!instance) throw new MachineNotFoundError(providerID);
    return structuredClone(instance);
  }

  async list(): Promise<Instance[]> {
    return [...this.instances.values()].map((i) => structuredClone(i));
  }

  async instanceTypes(): Promise<InstanceType[]> {
    return structuredClone(this.types);
  }

  async offering(signal?: AbortSignal): Promise<Offering> {
    this.offeringCalls++;
    if (this.offeringGate) await untilAborted(this.offeringGate, signal);
    signal?.throwIfAborted();
    const error = this.nextOfferingError;
    this.nextOfferingError = undefined;
    if (error) throw error;
    return structuredClone({ region: this.region, instanceTypes: this.types, quota: this.quota });
  }
}

function untilAborted(work: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return work;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
