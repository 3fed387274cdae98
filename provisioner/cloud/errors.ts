/**
 * The failure kinds a cloud backend reports. The Machine controller switches on these, never on
 * a backend's own errors: only a backend knows how its API spells "out of quota".
 */
export type CloudErrorCode = "MachineNotFound" | "InsufficientCapacity" | "CreateError";

/** The instance does not exist (any more). delete() reports it when there is nothing left to do. */
export class MachineNotFoundError extends Error {
  override readonly name = "MachineNotFoundError";
  readonly code = "MachineNotFound" satisfies CloudErrorCode;
  /** The providerID or instance name that was looked up. */
  readonly id: string;

  constructor(id: string, message = `instance ${id} does not exist.`) {
    super(message);
    this.id = id;
  }
}

export function isMachineNotFound(e: unknown): e is MachineNotFoundError {
  return e instanceof MachineNotFoundError || (e instanceof Error && e.name === "MachineNotFoundError");
}

/**
 * Why a SKU cannot be had. quota: the subscription's vCPU quota for the family is used up;
 * sku: the size is unknown or not offered in the region or zone; allocation: the region is
 * out of that hardware right now.
 */
export type CapacityReason = "quota" | "sku" | "allocation";

/**
 * The cloud cannot provide the SKU. Retrying the same Machine will not help: the Workspace
 * controller replans without the SKU. The message is one sentence naming the SKU.
 */
export class InsufficientCapacityError extends Error {
  override readonly name = "InsufficientCapacityError";
  readonly code = "InsufficientCapacity" satisfies CloudErrorCode;
  readonly reason: CapacityReason;
  readonly sku: string;

  constructor(reason: CapacityReason, sku: string, message: string) {
    super(message);
    this.reason = reason;
    this.sku = sku;
  }
}

export function isInsufficientCapacity(e: unknown): e is InsufficientCapacityError {
  return (
    e instanceof InsufficientCapacityError || (e instanceof Error && e.name === "InsufficientCapacityError")
  );
}

/**
 * A launch failed in a way worth retrying, with what the MachineLaunched condition should say
 * meanwhile (a CamelCase reason and a message), e.g. a throttled API or a half-created VM.
 */
export class CreateError extends Error {
  override readonly name = "CreateError";
  readonly code = "CreateError" satisfies CloudErrorCode;
  readonly conditionReason: string;
  readonly conditionMessage: string;

  constructor(conditionReason: string, conditionMessage: string, options?: { cause?: unknown }) {
    super(conditionMessage, options);
    this.conditionReason = conditionReason;
    this.conditionMessage = conditionMessage;
  }
}

export function isCreateError(e: unknown): e is CreateError {
  return e instanceof CreateError || (e instanceof Error && e.name === "CreateError");
}
