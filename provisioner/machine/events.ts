// One constructor per event reason the Machine controller records, so the wording lives in one
// place and tests can compare whole events.
import type { EventType } from "../../kube/events.ts";
import type { InsufficientCapacityError } from "../cloud/errors.ts";
import type { Instance } from "../cloud/types.ts";

export interface MachineEvent {
  type: EventType;
  reason: string;
  message: string;
}

export const launchedEvent = (i: Instance): MachineEvent => ({
  type: "Normal",
  reason: "Launched",
  message: `Launched ${i.instanceType} in ${i.zone} as ${i.providerID}`,
});

export const launchFailedEvent = (message: string): MachineEvent => ({
  type: "Warning",
  reason: "LaunchFailed",
  message: `Launch failed, retrying: ${message}`,
});

export const insufficientCapacityEvent = (reason: string, e: InsufficientCapacityError): MachineEvent => ({
  type: "Warning",
  reason,
  message: `Cannot launch ${e.sku || "the instance"}: ${e.message}`,
});

export const launchTimeoutEvent = (message: string): MachineEvent => ({
  type: "Warning",
  reason: "LaunchTimeout",
  message,
});

export const registeredEvent = (nodeName: string): MachineEvent => ({
  type: "Normal",
  reason: "Registered",
  message: `Node ${nodeName} registered`,
});

export const initializedEvent = (nodeName: string): MachineEvent => ({
  type: "Normal",
  reason: "Initialized",
  message: `Node ${nodeName} is ready with every requested resource allocatable`,
});

export const registrationTimeoutEvent = (minutes: number): MachineEvent => ({
  type: "Warning",
  reason: "RegistrationTimeout",
  message: `No node registered within ${minutes} minutes of launch; deleting the Machine so it is replaced`,
});

export const nodeDeletedEvent = (nodeName: string): MachineEvent => ({
  type: "Warning",
  reason: "NodeDeleted",
  message: `Node ${nodeName} was deleted; deleting the Machine so it is replaced`,
});

export const instanceTerminatedEvent = (): MachineEvent => ({
  type: "Normal",
  reason: "InstanceTerminated",
  message: "The node and the instance are gone",
});
