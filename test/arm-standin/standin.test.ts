import { request } from "node:https";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isRestError } from "@azure/arm-compute";
import { standinComputeClient } from "./client.ts";
import { notAvailableInLocation, usage, vmSku } from "./fixtures.ts";
import { serverError, throttle } from "./faults/index.ts";
import { startArmStandin, type ArmStandin } from "./server.ts";

// The real @azure/arm-compute client against the stand-in: paging, error bodies, throttling.

let standin: ArmStandin;

beforeEach(async () => {
  standin = await startArmStandin({ pageSize: 2 });
  standin.state.skus = [
    vmSku({
      name: "Standard_NC4as_T4_v3",
      family: "standardNCASv3_T4Family",
      vcpus: 4,
      memoryGiB: 28,
      gpus: 1,
      locations: { eastus: ["1", "2", "3"], westeurope: ["1"] },
    }),
    vmSku({
      name: "Standard_NC8as_T4_v3",
      family: "standardNCASv3_T4Family",
      vcpus: 8,
      memoryGiB: 56,
      gpus: 1,
      locations: { eastus: ["1", "2"] },
    }),
    vmSku({
      name: "Standard_NC24ads_A100_v4",
      family: "standardNCADSA100v4Family",
      vcpus: 24,
      memoryGiB: 220,
      gpus: 1,
      locations: { eastus: ["2"], westeurope: [] },
      restrictions: [notAvailableInLocation("westeurope")],
    }),
    vmSku({
      name: "Standard_ND96isr_H100_v5",
      family: "standardNDSH100v5Family",
      vcpus: 96,
      memoryGiB: 1900,
      gpus: 8,
      locations: { westeurope: ["1"] },
    }),
    vmSku({
      name: "Standard_NV36ads_A10_v5",
      family: "standardNVADSA10v5Family",
      vcpus: 36,
      memoryGiB: 440,
      gpus: 1,
      locations: { eastus: [] },
    }),
  ];
  standin.state.setUsages("eastus", [
    usage("cores", 10, 100, "Total Regional vCPUs"),
    usage("standardNCASv3_T4Family", 4, 24),
    usage("standardNCADSA100v4Family", 0, 48),
  ]);
});

afterEach(async () => {
  await standin.close();
});

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe("ARM stand-in with the real SDK", () => {
  it("pages ResourceSkus through nextLink and narrows them to the filtered location", async () => {
    const client = standinComputeClient(standin);
    const skus = await all(client.resourceSkus.list({ filter: "location eq 'eastus'" }));

    expect(skus.map((s) => s.name)).toEqual([
      "Standard_NC4as_T4_v3",
      "Standard_NC8as_T4_v3",
      "Standard_NC24ads_A100_v4",
      "Standard_NV36ads_A10_v5",
    ]);
    // Four eastus SKUs at two a page: the first request plus one nextLink.
    expect(standin.count("resourceSkus.list")).toBe(2);
    const second = standin.requests[1]!;
    expect(second.query["$skiptoken"]).toBe("2");
    expect(second.query["$filter"]).toBe("location eq 'eastus'");
    expect(second.query["api-version"]).toBe("2021-07-01");

    const t4 = skus[0]!;
    expect(t4.locations).toEqual(["eastus"]);
    expect(t4.locationInfo).toEqual([{ location: "eastus", zones: ["1", "2", "3"] }]);
    // The westeurope restriction of the A100 size does not leak into the eastus answer.
    expect(skus[2]!.restrictions).toEqual([]);
  });

  it("pages Usages", async () => {
    const client = standinComputeClient(standin);
    const usages = await all(client.usage.list("eastus"));
    expect(usages.map((u) => [u.name.value, u.limit - u.currentValue])).toEqual([
      ["cores", 90],
      ["standardNCASv3_T4Family", 20],
      ["standardNCADSA100v4Family", 48],
    ]);
    expect(standin.count("usages.list")).toBe(2);
  });

  it("rides out a 429 storm by honouring Retry-After", async () => {
    standin.faults.add(throttle({ times: 2, retryAfterSeconds: 1, operation: "usages.list" }));
    const client = standinComputeClient(standin);

    const started = performance.now();
    const usages = await all(client.usage.list("eastus"));
    const elapsed = performance.now() - started;

    expect(usages).toHaveLength(3);
    expect(standin.faults.pending()).toBe(0);
    // Two throttled attempts, the successful first page, and the second page.
    expect(standin.requests.map((r) => r.status)).toEqual([429, 429, 200, 200]);
    // Two waits of one second each: the client really waited as told. (How much longer it took
    // depends on the machine's load, so there is no upper bound here.)
    expect(elapsed).toBeGreaterThanOrEqual(1900);
  });

  it("retries transient 5xx answers with the client's own backoff", async () => {
    standin.faults.add(serverError({ times: 2, status: 503, operation: "resourceSkus.list" }));
    const client = standinComputeClient(standin, {
      retryOptions: { retryDelayInMs: 10, maxRetryDelayInMs: 50 },
    });

    const skus = await all(client.resourceSkus.list());
    expect(skus).toHaveLength(5);
    expect(standin.requests.slice(0, 3).map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it("surfaces ARM error bodies as RestError code and status", async () => {
    const client = standinComputeClient(standin);
    const error = await all(client.usage.list("mars")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRestError(error)).toBe(true);
    expect(error).toMatchObject({ statusCode: 400, code: "LocationNotAvailableForResourceType" });
  });

  it("gives up after the client's retries when throttling lasts", async () => {
    standin.faults.add(throttle({ times: 10, retryAfterSeconds: 0 }));
    const client = standinComputeClient(standin, { retryOptions: { maxRetries: 2 } });
    const error = await all(client.usage.list("eastus")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ statusCode: 429, code: "TooManyRequests" });
    expect(standin.count("usages.list")).toBe(3);
  });
});

describe("ARM stand-in protocol checks", () => {
  function get(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const req = request(`${standin.endpoint}${path}`, { ca: standin.ca, headers }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }),
        );
      });
      req.on("error", reject);
      req.end();
    });
  }
  const auth = { authorization: "Bearer t" };
  const skus = `/subscriptions/${"0".repeat(8)}-0000-0000-0000-${"0".repeat(12)}/providers/Microsoft.Compute/skus`;

  it("rejects a request without a bearer token", async () => {
    const res = await get(`${skus}?api-version=2021-07-01`);
    expect(res).toEqual({
      status: 401,
      body: { error: { code: "AuthenticationFailed", message: expect.any(String) } },
    });
  });

  it("requires a supported api-version", async () => {
    expect((await get(skus, auth)).body).toMatchObject({ error: { code: "MissingApiVersionParameter" } });
    const old = await get(`${skus}?api-version=2015-01-01`, auth);
    expect(old).toMatchObject({ status: 400, body: { error: { code: "NoRegisteredProviderFound" } } });
  });

  it("answers unknown subscriptions, routes and filters with ARM errors", async () => {
    const other = await get(
      "/subscriptions/other/providers/Microsoft.Compute/skus?api-version=2021-07-01",
      auth,
    );
    expect(other).toMatchObject({ status: 404, body: { error: { code: "SubscriptionNotFound" } } });
    const unrouted = await get("/subscriptions/x/resourceGroups?api-version=2021-07-01", auth);
    expect(unrouted.status).toBe(404);
    const filter = await get(
      `${skus}?api-version=2021-07-01&$filter=${encodeURIComponent("name eq 'x'")}`,
      auth,
    );
    expect(filter).toMatchObject({ status: 400, body: { error: { code: "InvalidFilter" } } });
  });

  it("matches ARM paths case-insensitively", async () => {
    const res = await get(`${skus.toLowerCase()}?api-version=2021-07-01`, auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      value: expect.any(Array),
      nextLink: expect.stringContaining("$skiptoken=2"),
    });
  });
});
