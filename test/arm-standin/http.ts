import type { IncomingHttpHeaders } from "node:http";

/** One request as handlers and policies see it, body already read. */
export interface StandinRequest {
  readonly method: string;
  /** Decoded path, without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Scheme, host and port the client used: the base of every nextLink and polling URL. */
  readonly origin: string;
}

export interface StandinResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Serialised as JSON; absent for an empty body. */
  readonly body?: unknown;
}

/** Sees a request before its handler; returning a response ends the request there. */
export type Policy = (request: StandinRequest, route: MatchedRoute) => StandinResponse | undefined;

export type Handler = (request: StandinRequest, params: Readonly<Record<string, string>>) => StandinResponse;

export interface MatchedRoute {
  /** Operation name, e.g. "resourceSkus.list": what faults and the request log key on. */
  readonly operation: string;
  readonly params: Readonly<Record<string, string>>;
  /** api-versions the operation accepts; undefined accepts any well-formed one. */
  readonly apiVersions?: readonly string[];
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): StandinResponse {
  return { status, body, headers };
}

/** ARM's error envelope: {"error": {"code", "message"}}. */
export function armError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): StandinResponse {
  return { status, body: { error: { code, message } }, headers };
}
