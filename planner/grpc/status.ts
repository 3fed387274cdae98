import { Metadata, status, type ServiceError, type StatusObject } from "@grpc/grpc-js";
import { isUserError } from "../../lib/errors.ts";
import { isPlannerError, PlannerError, type PlannerErrorCode } from "./errors.ts";

const TO_GRPC: Record<PlannerErrorCode, status> = {
  InvalidArgument: status.INVALID_ARGUMENT,
  Unavailable: status.UNAVAILABLE,
  DeadlineExceeded: status.DEADLINE_EXCEEDED,
  Cancelled: status.CANCELLED,
  Internal: status.INTERNAL,
};

/** The gRPC status a server answers with when planning throws `e`. */
export function toStatus(e: unknown): Partial<StatusObject> {
  if (isPlannerError(e)) return { code: TO_GRPC[e.code], details: e.message, metadata: new Metadata() };
  if (isUserError(e)) return { code: status.INVALID_ARGUMENT, details: e.message, metadata: new Metadata() };
  const message = e instanceof Error ? e.message : String(e);
  return { code: status.INTERNAL, details: `the planner failed: ${message}`, metadata: new Metadata() };
}

/** The PlannerError a client throws for a failed call. */
export function fromServiceError(e: ServiceError): PlannerError {
  const code: PlannerErrorCode =
    e.code === status.INVALID_ARGUMENT
      ? "InvalidArgument"
      : e.code === status.DEADLINE_EXCEEDED
        ? "DeadlineExceeded"
        : e.code === status.CANCELLED
          ? "Cancelled"
          : e.code === status.UNAVAILABLE
            ? "Unavailable"
            : "Internal";
  // details is the server's own sentence; the client adds nothing, so a user sees one sentence.
  return new PlannerError(code, e.details || e.message, { cause: e });
}
