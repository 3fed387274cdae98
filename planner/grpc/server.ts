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
import { ANSWER_MARGIN_MS, MAX_PLAN_TIME_LIMIT_MS, MAX_REQUEST_BYTES } from "./limits.ts";
import { toStatus } from "./status.ts";
import type { PlannerClient } from "./types.ts";

/** The manager's planner port (DESIGN.md, "Ports and metrics"). */
export const DEFAULT_PLANNER_PORT = 9090;

export interface PlannerServerOptions {
  /** What answers the calls; usually an InProcessPlannerClient over a SolvePool. */
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

/**
 * The solve's time limit for a call: what its deadline leaves after the answer margin, at most
 * MAX_PLAN_TIME_LIMIT_MS, and at least a tenth of a second (the solver then returns its first
 * plan, or the call's deadline ends it).
 */
export function timeLimitFor(deadline: Date | number, clock: Clock): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return MAX_PLAN_TIME_LIMIT_MS;
  return Math.max(100, Math.min(MAX_PLAN_TIME_LIMIT_MS, at - clock.now() - ANSWER_MARGIN_MS));
}

/** Serves the Planner service of planner.proto until shutdown(). */
export async function startPlannerServer(options: PlannerServerOptions): Promise<PlannerServer> {
  const host = options.host ?? "0.0.0.0";
  const clock = options.clock ?? systemClock;
  const { planner } = options;
  const server = new Server({
    interceptors: options.authenticate ? [authInterceptor(options.authenticate)] : [],
    "grpc.max_receive_message_length": MAX_REQUEST_BYTES,
    "grpc.max_send_message_length": MAX_REQUEST_BYTES,
  });

  /**
   * Every call goes through here: a client that goes away (or whose deadline passes) aborts
   * the signal, which stops the solve, and any failure becomes the matching gRPC status. A
   * check every call must pass (authentication) belongs here too.
   */
  const unary =
    <Req, Res>(work: (call: ServerUnaryCall<Req, Res>, signal: AbortSignal) => Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const aborter = new AbortController();
      call.on("cancelled", () => aborter.abort());
      work(call, aborter.signal)
        .then((answer) => callback(null, answer))
        .catch((e: unknown) => callback(toStatus(e)));
    };

  server.addService(plannerService(), {
    Plan: unary<{ problem?: WireProblem }, { plan: WirePlan }>(async (call, signal) => {
      const plan = await planner.plan(problemFromWire(call.request.problem), {
        signal,
        timeLimitMs: timeLimitFor(call.getDeadline(), clock),
      });
      return { plan: planToWire(plan) };
    }),
    Catalog: unary<unknown, { skus: WireSku[] }>(async (_, signal) => ({
      skus: (await planner.catalog({ signal })).map(skuToWire),
    })),
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
