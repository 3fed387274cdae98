import {
  Client,
  credentials as grpcCredentials,
  Metadata,
  type ChannelCredentials,
  type ServiceError,
} from "@grpc/grpc-js";
import { systemClock, type Clock } from "../../lib/clock.ts";
import { planFromWire, problemToWire, skuFromWire } from "./codec.ts";
import { PlannerError } from "./errors.ts";
import { plannerService } from "./proto.ts";
import { ANSWER_MARGIN_MS } from "./limits.ts";
import { fromServiceError } from "./status.ts";
import type { CallOptions, Plan, PlannerClient, ProblemInput, Sku } from "./types.ts";

export interface GrpcPlannerClientOptions {
  /** Per-call deadline (default 60 s: a plan may use the solver's whole 10 s budget, twice). */
  deadlineMs?: number;
  /** Default: plaintext, as the manager serves on the pod network. */
  credentials?: ChannelCredentials;
  /** Source of the wall-clock deadline gRPC wants. */
  clock?: Clock;
  /**
   * The bearer token sent with each call, for a manager that checks its callers (in a cluster:
   * read the pod's projected ServiceAccount token file here, on every call, as it rotates).
   */
  token?: () => string | undefined;
}

/** PlannerClient over gRPC, for a planner in another process (e.g. the manager's :9090). */
export class GrpcPlannerClient implements PlannerClient {
  private readonly client: Client;
  private readonly deadlineMs: number;
  private readonly clock: Clock;
  private readonly token: (() => string | undefined) | undefined;

  /** `address` as host:port, e.g. "127.0.0.1:9090". */
  constructor(address: string, options: GrpcPlannerClientOptions = {}) {
    this.client = new Client(address, options.credentials ?? grpcCredentials.createInsecure());
    this.deadlineMs = options.deadlineMs ?? 60_000;
    this.clock = options.clock ?? systemClock;
    this.token = options.token;
  }

  async plan(problem: ProblemInput, options: CallOptions = {}): Promise<Plan> {
    const method = plannerService().Plan;
    // A time limit travels as the call's deadline: the server solves until the deadline less
    // its answer margin (server.ts).
    const deadlineMs =
      options.timeLimitMs !== undefined ? options.timeLimitMs + ANSWER_MARGIN_MS : this.deadlineMs;
    const response = await this.unary(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      { problem: problemToWire(problem) },
      options,
      deadlineMs,
    );
    if (!response.plan) throw new PlannerError("Internal", "the planner answered without a plan.");
    try {
      return planFromWire(response.plan);
    } catch (e) {
      throw new PlannerError("Internal", (e as Error).message + ".", { cause: e });
    }
  }

  async catalog(options: CallOptions = {}): Promise<Sku[]> {
    const method = plannerService().Catalog;
    const response = await this.unary(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      {},
      options,
      this.deadlineMs,
    );
    return response.skus.map(skuFromWire);
  }

  /** Closes the channel; calls in flight fail with Cancelled. */
  close(): void {
    this.client.close();
  }

  private unary<Req, Res>(
    path: string,
    serialize: (value: Req) => Buffer,
    deserialize: (bytes: Buffer) => Res,
    request: Req,
    options: CallOptions,
    deadlineMs: number,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) {
        reject(new PlannerError("Cancelled", "the planner call was cancelled.", { cause: signal.reason }));
        return;
      }
      const metadata = new Metadata();
      const token = this.token?.();
      if (token) metadata.set("authorization", `Bearer ${token}`);
      const call = this.client.makeUnaryRequest(
        path,
        serialize,
        deserialize,
        request,
        metadata,
        { deadline: new Date(this.clock.now() + deadlineMs) },
        (error: ServiceError | null, value?: Res) => {
          signal?.removeEventListener("abort", onAbort);
          if (error) reject(fromServiceError(error));
          else if (value === undefined)
            reject(new PlannerError("Internal", "the planner sent an empty answer."));
          else resolve(value);
        },
      );
      const onAbort = () => call.cancel();
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
