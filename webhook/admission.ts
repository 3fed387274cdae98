/**
 * admission.k8s.io/v1 AdmissionReview, the parts we read and write
 * (k8s.io/api/admission/v1/types.go). The API server sends a review with `request` and expects
 * the same review back with `response`, whose `uid` echoes the request's.
 */

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface AdmissionRequest {
  uid: string;
  /** The kind of the object as sent to this webhook (after conversion to a version it asked for). */
  kind: GroupVersionKind;
  /**
   * The kind the user's request named. With matchPolicy Equivalent a request through another
   * version is converted before it reaches us, and this still says what the user sent.
   */
  requestKind?: GroupVersionKind;
  resource?: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
  patchType?: "JSONPatch";
  /** base64 of a JSON Patch (RFC 6902). */
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReview {
  apiVersion: "admission.k8s.io/v1";
  kind: "AdmissionReview";
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

export type JsonPatchOperation = { op: "add" | "replace" | "remove"; path: string; value?: unknown };

/** What a handler decides about one request. */
export type AdmissionDecision =
  { allowed: true; patch?: JsonPatchOperation[]; warnings?: string[] } | { allowed: false; message: string };

/** A malformed review: the server answers 400 with the message. */
export class AdmissionReviewError extends Error {
  override readonly name = "AdmissionReviewError";
}

export function isAdmissionReviewError(e: unknown): e is AdmissionReviewError {
  return e instanceof AdmissionReviewError || (e instanceof Error && e.name === "AdmissionReviewError");
}

/** Checks the envelope of a review and returns its request. */
export function parseReview(body: unknown): AdmissionRequest {
  const review = body as Partial<AdmissionReview> | null;
  if (typeof review !== "object" || review === null || Array.isArray(review))
    throw new AdmissionReviewError("the body must be an AdmissionReview object");
  if (review.apiVersion !== "admission.k8s.io/v1" || review.kind !== "AdmissionReview")
    throw new AdmissionReviewError("only admission.k8s.io/v1 AdmissionReview is served");
  const r = review.request;
  if (typeof r !== "object" || r === null || typeof r.uid !== "string" || r.uid === "")
    throw new AdmissionReviewError("the AdmissionReview has no request with a uid");
  if (typeof r.kind !== "object" || r.kind === null || typeof r.operation !== "string")
    throw new AdmissionReviewError("the AdmissionReview request has no kind or operation");
  return r;
}

/** The review to send back for a decision. */
export function reviewResponse(uid: string, decision: AdmissionDecision): AdmissionReview {
  const response: AdmissionResponse = { uid, allowed: decision.allowed };
  if (!decision.allowed) {
    // 422 as the API server's own validation answers; kubectl prints the message.
    response.status = { code: 422, reason: "Invalid", message: decision.message };
  } else {
    if (decision.patch?.length) {
      response.patchType = "JSONPatch";
      response.patch = Buffer.from(JSON.stringify(decision.patch)).toString("base64");
    }
    if (decision.warnings?.length) response.warnings = decision.warnings;
  }
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response };
}

/** RFC 6901: "/" and "~" in a key. */
export function jsonPointerToken(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}
