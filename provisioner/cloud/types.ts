import type { Machine, ResourceList } from "../../crds/index.ts";

export {
  CreateError,
  InsufficientCapacityError,
  MachineNotFoundError,
  isCreateError,
  isInsufficientCapacity,
  isMachineNotFound,
  type CapacityReason,
  type CloudErrorCode,
} from "./errors.ts";

/** One machine as the cloud sees it. */
export interface Instance {
  /** The cloud's id, which the instance's Node carries as spec.providerID. */
  providerID: string;
  /** The Machine it was created for: garbage collection compares it with the Machines that exist. */
  machineName: string;
  instanceType: string;
  zone: string;
  /** What the instance has, including nvidia.com/gpu. */
  capacity: ResourceList;
  /** Labels its Node carries (instance type, zone, GPU product...). */
  labels: Record<string, string>;
  /** When the cloud created it (ms since the epoch): garbage collection spares young instances. */
  createdAt: number;
}

/** A size the cloud offers. */
export interface InstanceType {
  name: string;
  /** The quota family, e.g. standardNCADSA100v4Family. */
  family: string;
  capacity: ResourceList;
  zones: string[];
  /** USD per hour, when known. */
  pricePerHour?: number;
}

/**
 * What the cloud can launch now: one reading, so the planner never mixes sizes from one moment
 * with quota from another.
 */
export interface Offering {
  /** The region the reading is for (for messages). */
  region?: string;
  /**
   * The sizes this subscription can create in the region. A retired size appears when the cloud
   * still takes it (a Workspace may name one); the planner itself never picks a retired size.
   */
  instanceTypes: InstanceType[];
  /**
   * vCPUs left per quota family (InstanceType.family; compare with normalizeFamily). A family
   * that is absent has no known limit. The figure is an instant reading: instances launched after
   * it are not in it.
   */
  quota: Record<string, number>;
}

/** What a cloud call may carry. */
export interface CloudCallOptions {
  /** Aborts the call: the reconcile's signal, aborted when leadership is lost or on shutdown. */
  signal?: AbortSignal;
}

/**
 * The seam between the Machine controller and a cloud. Implementations: cloud/fake (tests),
 * cloud/local (kwok Nodes on the local cluster), cloud/azure (VMs through ARM).
 *
 * Errors: every method reports a missing instance as MachineNotFoundError. create() reports a SKU
 * it cannot provide as InsufficientCapacityError (never retried for that Machine) and a failure
 * worth retrying as CreateError or any other error (retried with backoff).
 */
export interface CloudProvider {
  /** "fake", "local", "azure": for logs and metrics. */
  readonly name: string;

  /**
   * Creates the instance for `machine`, or returns the one that already exists for it. The
   * instance's name is derived from the Machine's name alone, so calling create() again after a
   * crash between create() and the Machine's status write finds the first instance instead of
   * making a second. The instance type and zone come from the Machine's requirements
   * (node.kubernetes.io/instance-type, topology.kubernetes.io/zone); when several values are
   * allowed the backend picks one.
   *
   * `signal` aborts the calls in flight (for Azure the PUT and the polling of its long-running
   * operation): the Machine controller passes its reconcile's signal, which aborts when the
   * manager loses its leadership, so a deposed leader stops talking to the cloud at once. An
   * aborted create rejects; calling it again resumes, by name, whatever the cloud had started.
   */
  create(machine: Machine, options?: CloudCallOptions): Promise<Instance>;

  /**
   * Starts deleting the instance of a Machine (found by the Machine's name, so an instance whose
   * providerID was never recorded is found too) or of a providerID. Deletion may take time: the
   * caller calls delete() again until it throws MachineNotFoundError, which is the only proof
   * that the instance is gone. Returning normally means "still there or going". `signal` as for
   * create().
   */
  delete(target: Machine | string, options?: CloudCallOptions): Promise<void>;

  /** The instance with this providerID; MachineNotFoundError when there is none. */
  get(providerID: string): Promise<Instance>;

  /** Every instance this provider created (and no other), for garbage collection. */
  list(): Promise<Instance[]>;

  /** The sizes this provider offers: offering().instanceTypes. */
  instanceTypes(): Promise<InstanceType[]>;

  /**
   * The sizes offered and the quota left, read together (for Azure one ResourceSkus and one Usages
   * listing). Callers cache it (see OfferingCache): it may cost several API calls. Rejects when the
   * cloud cannot be read; the caller then plans with what it knew before.
   */
  offering(signal?: AbortSignal): Promise<Offering>;

  /**
   * Background work the backend needs while the manager runs (boot timers, caches). Resolves
   * once it has stopped after the signal aborted. Runs on the elected leader only.
   */
  start?(signal: AbortSignal): Promise<void>;
}
