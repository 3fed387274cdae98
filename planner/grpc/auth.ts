import {
  Metadata,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status,
  type ServerInterceptor,
} from "@grpc/grpc-js";

/**
 * The decision on one call: whether the holder of the `authorization` metadata (as sent, e.g.
 * "Bearer <token>") may call `method`, the call's path (/kaito.planner.v1.Planner/Plan). The
 * manager answers with the API server's TokenReview and SubjectAccessReview (kube/auth).
 */
export type CallerCheck = (authorization: string | undefined, method: string) => Promise<CallerVerdict>;

export type CallerVerdict =
  | { allowed: true; user: string }
  | { allowed: false; code: "Unauthenticated" | "Forbidden" | "Unavailable"; message: string };

/**
 * The RBAC verb a planner call is checked for: gRPC calls are HTTP/2 POSTs to the method's path,
 * so a caller needs a ClusterRole rule `nonResourceURLs: [/kaito.planner.v1.Planner/Plan,
 * /kaito.planner.v1.Planner/Catalog]`, `verbs: [post]` (deploy/'s kaito-ts-planner-client).
 */
export const plannerCallVerb = "post";

const codes = {
  Unauthenticated: status.UNAUTHENTICATED,
  Forbidden: status.PERMISSION_DENIED,
  Unavailable: status.UNAVAILABLE,
} as const;

/**
 * A server interceptor that checks every call's metadata before the handler runs (and before its
 * message is decoded): no token or an invalid one is UNAUTHENTICATED, a caller without the RBAC
 * rule PERMISSION_DENIED, a check that could not be made UNAVAILABLE (which clients retry).
 */
export function authInterceptor(check: CallerCheck): ServerInterceptor {
  return (method, call) =>
    new ServerInterceptingCall(call, {
      start(next) {
        next(
          new ServerListenerBuilder()
            .withOnReceiveMetadata((metadata, pass) => {
              const [authorization] = metadata.get("authorization");
              check(typeof authorization === "string" ? authorization : undefined, method.path).then(
                (verdict) => {
                  if (verdict.allowed) pass(metadata);
                  else
                    call.sendStatus({
                      code: codes[verdict.code],
                      details: verdict.message,
                      metadata: new Metadata(),
                    });
                },
                (e: unknown) =>
                  call.sendStatus({ code: status.UNAVAILABLE, details: String(e), metadata: new Metadata() }),
              );
            })
            .build(),
        );
      },
    });
}
