import { armError } from "../http.ts";
import type { Fault } from "./injector.ts";

const CODES: Record<number, string> = {
  500: "InternalServerError",
  502: "BadGateway",
  503: "ServiceUnavailable",
  504: "GatewayTimeout",
};

/** A transient ARM failure without Retry-After, which clients retry with their own backoff. */
export function serverError(options: {
  times: number;
  status?: 500 | 502 | 503 | 504;
  operation?: string;
}): Fault {
  const status = options.status ?? 500;
  return {
    ...(options.operation ? { operation: options.operation } : {}),
    times: options.times,
    respond: () =>
      armError(status, CODES[status] ?? "InternalServerError", "The server encountered a transient error."),
  };
}
