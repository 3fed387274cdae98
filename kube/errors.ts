/** The `reason` of a Kubernetes Status, for the cases callers branch on. */
export type KubeErrorReason =
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Invalid"
  | "Forbidden"
  | "Unauthorized"
  | "Expired"
  | "Gone"
  | "TooManyRequests"
  | "Timeout"
  | "ServerTimeout"
  | "InternalError"
  | "BadRequest"
  | "MethodNotAllowed"
  | "Unknown";

/** A failed call to kube-apiserver, carrying the Status it answered with. */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  readonly statusCode: number;
  readonly reason: KubeErrorReason;
  readonly method: string;
  readonly path: string;

  constructor(init: {
    statusCode: number;
    reason: KubeErrorReason;
    message: string;
    method: string;
    path: string;
  }) {
    super(init.message);
    this.statusCode = init.statusCode;
    this.reason = init.reason;
    this.method = init.method;
    this.path = init.path;
  }
}

export function isKubeApiError(e: unknown): e is KubeApiError {
  return e instanceof KubeApiError || (e instanceof Error && e.name === "KubeApiError");
}

export const isNotFound = (e: unknown) => isKubeApiError(e) && e.statusCode === 404;
export const isAlreadyExists = (e: unknown) => isKubeApiError(e) && e.reason === "AlreadyExists";
export const isConflict = (e: unknown) =>
  isKubeApiError(e) && e.statusCode === 409 && e.reason !== "AlreadyExists";
export const isGone = (e: unknown) =>
  isKubeApiError(e) && (e.statusCode === 410 || e.reason === "Expired" || e.reason === "Gone");
export const isInvalid = (e: unknown) => isKubeApiError(e) && e.statusCode === 422;

/** NotFound is the answer a delete or cleanup wants; anything else is rethrown. */
export function ignoreNotFound(e: unknown): void {
  if (!isNotFound(e)) throw e;
}

const reasonByStatus: Record<number, KubeErrorReason> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  410: "Gone",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  504: "Timeout",
};

/** Builds the error from an HTTP status and a body that is usually a metav1.Status. */
export function errorFromResponse(
  method: string,
  path: string,
  statusCode: number,
  body: string,
): KubeApiError {
  let reason: KubeErrorReason = reasonByStatus[statusCode] ?? "Unknown";
  let message = `${method} ${path}: HTTP ${statusCode}`;
  try {
    const status = JSON.parse(body) as { reason?: string; message?: string };
    if (status.reason) reason = status.reason as KubeErrorReason;
    if (status.message) message = status.message;
  } catch {
    if (body.trim()) message = `${message}: ${body.trim().slice(0, 300)}`;
  }
  return new KubeApiError({ statusCode, reason, message, method, path });
}

/**
 * Why the client gave up on a call without an answer from the API server: it did not answer
 * within the call's timeout, or this process may no longer write (it lost, or never renewed in
 * time, the Lease that made it the leader).
 */
export type KubeRequestErrorCode = "Timeout" | "NotLeader";

export class KubeRequestError extends Error {
  override readonly name = "KubeRequestError";
  readonly code: KubeRequestErrorCode;
  readonly method: string;
  readonly path: string;

  constructor(init: { code: KubeRequestErrorCode; message: string; method: string; path: string }) {
    super(init.message);
    this.code = init.code;
    this.method = init.method;
    this.path = init.path;
  }
}

export function isKubeRequestError(e: unknown): e is KubeRequestError {
  return e instanceof KubeRequestError || (e instanceof Error && e.name === "KubeRequestError");
}

export const isRequestTimeout = (e: unknown) => isKubeRequestError(e) && e.code === "Timeout";
export const isNotLeader = (e: unknown) => isKubeRequestError(e) && e.code === "NotLeader";
