import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from "@grpc/grpc-js";
import { systemClock, type Clock } from "../../lib/clock.ts";
import { listenError } from "../../lib/errors.ts";
import {
  planToWire,
  problemFromWire,
  skuToWire,
  type WirePlan,
  type WireProblem,
  type WireSku,
} from "./codec.ts";
import { authInterceptor, type CallerCheck } from "./auth.ts";
import { plannerService } from "./proto.ts";
import { toStatus } from "./status.ts";
import type { PlannerClient } from "./types.ts";

/** The manager's planner port (DESIGN.md, "Ports and metrics"). */
export const DEFAULT_PLANNER_PORT = 9090;

export interface PlannerServerOptions {
  /** What answers the calls; usually an InProcessPlannerClient. */
  planner: PlannerClient;
  /** Default 0.0.0.0, as the manager serves other pods; tests use 127.0.0.1. */
  host?: string;
  /** Default 9090; 0 picks a free port. */
  port?: number;
  /** Times the shutdown grace period. */
  clock?: Clock;
  /**
   * Checks every call's caller (planner/grpc/auth.ts); without it every call is served, which
   * suits loopback (`kaito up`, tests) and nothing else.
   */
  authenticate?: CallerCheck;
  /**
   * Serve TLS with this certificate (PEM), so the callers' bearer tokens are not sent in clear;
   * without it, plaintext.
   */
  tls?: { cert: string; key: string };
}

export interface PlannerServer {
  /** host:port actually bound. */
  readonly address: string;
  readonly port: number;
  /**
   * Stops accepting calls and waits up to `graceMs` (default 5 s) for calls in flight, then
   * cancels what is left.
   */
  shutdown(graceMs?: number): Promise<void>;
}

/** Serves the Planner service of planner.proto until shutdown(). */
export async function startPlannerServer(options: PlannerServerOptions): Promise<PlannerServer> {
  const host = options.host ?? "0.0.0.0";
  const clock = options.clock ?? systemClock;
  const { planner } = options;
  const server = new Server({
    interceptors: options.authenticate ? [authInterceptor(options.authenticate)] : [],
  });

  server.addService(plannerService(), {
    Plan(
      call: ServerUnaryCall<{ problem?: WireProblem }, { plan: WirePlan }>,
      callback: sendUnaryData<{ plan: WirePlan }>,
    ) {
      const aborter = new AbortController();
      call.on("cancelled", () => aborter.abort());
      planner
        .plan(problemFromWire(call.request.problem), { signal: aborter.signal })
        .then((plan) => callback(null, { plan: planToWire(plan) }))
        .catch((e: unknown) => callback(toStatus(e)));
    },
    Catalog(
      call: ServerUnaryCall<unknown, { skus: WireSku[] }>,
      callback: sendUnaryData<{ skus: WireSku[] }>,
    ) {
      const aborter = new AbortController();
      call.on("cancelled", () => aborter.abort());
      planner
        .catalog({ signal: aborter.signal })
        .then((skus) => callback(null, { skus: skus.map(skuToWire) }))
        .catch((e: unknown) => callback(toStatus(e)));
    },
  });

  const address = `${host}:${options.port ?? DEFAULT_PLANNER_PORT}`;
  const port = await new Promise<number>((resolve, reject) => {
    const credentials = options.tls
      ? ServerCredentials.createSsl(
          null,
          [{ cert_chain: Buffer.from(options.tls.cert), private_key: Buffer.from(options.tls.key) }],
          false,
        )
      : ServerCredentials.createInsecure();
    server.bindAsync(address, credentials, (e, bound) =>
      e ? reject(listenError(e, "planner gRPC service", address)) : resolve(bound),
    );
  });

  let stopped: Promise<void> | undefined;
  return {
    address: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    shutdown(graceMs = 5_000) {
      stopped ??= new Promise<void>((resolve) => {
        const cancel = clock.schedule(graceMs, () => server.forceShutdown());
        server.tryShutdown(() => {
          cancel();
          resolve();
        });
      });
      return stopped;
    },
  };
}
