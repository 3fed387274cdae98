import { createServer, type Server } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { IncomingMessage, ServerResponse } from "node:http";
import { generateTestCertificate } from "./cert.ts";
import { FaultInjector } from "./faults/injector.ts";
import { listResourceSkus, RESOURCE_SKUS_API_VERSIONS } from "./handlers/resource-skus.ts";
import { listUsages } from "./handlers/usages.ts";
import { getOperation } from "./handlers/operations.ts";
import {
  CREATE_VM,
  deleteVirtualMachine,
  getVirtualMachine,
  listVirtualMachines,
  putVirtualMachine,
  type VmHandlerContext,
} from "./handlers/virtual-machines.ts";
import { HookRunner, type VmHooks } from "./lro.ts";
import {
  isManagedIdentityRequest,
  issueManagedIdentityToken,
  MANAGED_IDENTITY_TOKEN,
  newManagedIdentity,
  type ManagedIdentity,
} from "./managed-identity.ts";
import { armError, type Policy, type StandinRequest, type StandinResponse } from "./http.ts";
import { requireApiVersion } from "./policies/api-version.ts";
import { injectFaults } from "./policies/faults.ts";
import { requireBearer } from "./policies/require-bearer.ts";
import { requireSubscription } from "./policies/subscription.ts";
import { Router } from "./router.ts";
import { ArmState } from "./state.ts";

export interface ArmStandinOptions {
  subscriptionId?: string;
  /** Items per page of every list; small values exercise nextLink paging. Default 50. */
  pageSize?: number;
  /** When set, only this bearer token is accepted. */
  token?: string;
  /**
   * Also serve an App Service managed-identity endpoint (see ./managed-identity.ts) that issues
   * `token` (random when absent); the ARM routes then accept only that token.
   */
  managedIdentity?: boolean;
  /**
   * InProgress answers of each long-running operation before it finishes (default 1); a function
   * is asked once per operation.
   */
  lroPolls?: number | (() => number);
  /** Retry-After in seconds on running operations' answers, as ARM often sends; none by default. */
  lroRetryAfterSeconds?: number;
  /** Called when a VM finishes creating or is deleted; `standin.hooks.use()` replaces them later. */
  hooks?: VmHooks;
  /** The stand-in's clock for timeCreated and operation times (default: wall clock). */
  now?: () => Date;
}

/** One request as the stand-in saw it, for tests that count calls. */
export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Route operation, or "unrouted". */
  operation: string;
  status: number;
}

export interface ArmStandin {
  /** https://127.0.0.1:PORT, for ComputeManagementClient's `endpoint` option. */
  readonly endpoint: string;
  /** PEM certificate to trust (the client's tlsOptions.ca). */
  readonly ca: string;
  readonly subscriptionId: string;
  readonly state: ArmState;
  readonly faults: FaultInjector;
  readonly requests: readonly LoggedRequest[];
  /** The VM hooks; settled() waits for the running ones, failures holds what they threw. */
  readonly hooks: HookRunner;
  /** The managed-identity endpoint, header secret and token, with `managedIdentity: true`. */
  readonly managedIdentity?: ManagedIdentity;
  /** Requests received for one operation. */
  count(operation: string): number;
  close(): Promise<void>;
}

const PROVIDER = "/subscriptions/{subscriptionId}/providers/Microsoft.Compute";
const VMS =
  "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines";

/**
 * An HTTPS server on 127.0.0.1 (random port) that answers the ARM REST calls the SDK makes.
 * A request passes the policies in order (auth, subscription, api-version, faults) and then
 * its route's handler. New operations (virtual machines, long-running operations) are one
 * handler file and one `router.add` each.
 */
export async function startArmStandin(options: ArmStandinOptions = {}): Promise<ArmStandin> {
  const subscriptionId = options.subscriptionId ?? "00000000-0000-0000-0000-000000000000";
  const pageSize = options.pageSize ?? 50;
  const state = new ArmState(subscriptionId);
  const faults = new FaultInjector();
  const requests: LoggedRequest[] = [];
  const hooks = new HookRunner(options.hooks);
  const vms: VmHandlerContext = {
    state,
    faults,
    pageSize,
    polls: options.lroPolls ?? 1,
    ...(options.lroRetryAfterSeconds !== undefined
      ? { retryAfterSeconds: options.lroRetryAfterSeconds }
      : {}),
    hooks,
    now: options.now ?? (() => new Date()),
  };

  const router = new Router()
    .add(
      "GET",
      `${PROVIDER}/skus`,
      "resourceSkus.list",
      listResourceSkus(state, pageSize),
      RESOURCE_SKUS_API_VERSIONS,
    )
    .add("GET", `${PROVIDER}/locations/{location}/usages`, "usages.list", listUsages(state, pageSize))
    .add(
      "GET",
      `${PROVIDER}/locations/{location}/operations/{operationId}`,
      "operations.get",
      getOperation(vms),
    )
    .add("PUT", `${VMS}/{vmName}`, CREATE_VM, putVirtualMachine(vms))
    .add("GET", `${VMS}/{vmName}`, "virtualMachines.get", getVirtualMachine(vms))
    .add("DELETE", `${VMS}/{vmName}`, "virtualMachines.delete", deleteVirtualMachine(vms))
    .add("GET", VMS, "virtualMachines.list", listVirtualMachines(vms));
  // Filled in once the port is known; its token is then the only one the ARM routes accept.
  let identity: ManagedIdentity | undefined;
  const authenticate: Policy = (request, route) =>
    requireBearer(identity?.token ?? options.token)(request, route);
  const policies: Policy[] = [
    authenticate,
    requireSubscription(subscriptionId),
    requireApiVersion,
    injectFaults(faults),
  ];

  const { key, cert } = await generateTestCertificate();
  let origin = "";
  let sequence = 0;
  const server: Server = createServer({ key, cert }, (req, res) => {
    readBody(req)
      .then((body) => {
        const url = new URL(req.url ?? "/", origin);
        const request: StandinRequest = {
          method: req.method ?? "GET",
          path: decodeURIComponent(url.pathname),
          query: url.searchParams,
          headers: req.headers,
          body,
          origin,
        };
        const { operation, response } = dispatch(request);
        requests.push({
          method: request.method,
          path: request.path,
          query: Object.fromEntries(url.searchParams),
          operation,
          status: response.status,
        });
        send(res, response, `standin-${++sequence}`);
      })
      .catch((e: unknown) =>
        send(
          res,
          armError(500, "InternalServerError", `stand-in failure: ${String(e)}`),
          `standin-${++sequence}`,
        ),
      );
  });

  function dispatch(request: StandinRequest): { operation: string; response: StandinResponse } {
    if (identity && isManagedIdentityRequest(request)) {
      return {
        operation: MANAGED_IDENTITY_TOKEN,
        response: issueManagedIdentityToken(identity, request, vms.now),
      };
    }
    const route = router.match(request.method, request.path);
    if (!route) {
      const unrouted = { operation: "unrouted", params: {} };
      const response =
        authenticate(request, unrouted) ??
        armError(
          404,
          "InvalidResourceType",
          `The stand-in has no route for ${request.method} ${request.path}.`,
        );
      return { operation: unrouted.operation, response };
    }
    for (const policy of policies) {
      const response = policy(request, route);
      if (response) return { operation: route.operation, response };
    }
    return { operation: route.operation, response: route.handler(request, route.params) };
  }

  // Every TCP socket, including those still in the TLS handshake, which closeAllConnections()
  // does not know about yet and which would hold close() open until they time out.
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  origin = `https://127.0.0.1:${port}`;
  if (options.managedIdentity) identity = newManagedIdentity(origin, options.token);

  return {
    endpoint: origin,
    ca: cert,
    subscriptionId,
    state,
    faults,
    requests,
    hooks,
    ...(identity ? { managedIdentity: identity } : {}),
    count: (operation) => requests.filter((r) => r.operation === operation).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function send(res: ServerResponse, response: StandinResponse, requestId: string): void {
  const body = response.body === undefined ? "" : JSON.stringify(response.body);
  res.writeHead(response.status, {
    "x-ms-request-id": requestId,
    ...(body ? { "content-type": "application/json; charset=utf-8" } : {}),
    ...response.headers,
  });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
