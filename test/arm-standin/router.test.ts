import { describe, expect, it } from "vitest";
import { json } from "./http.ts";
import { Router } from "./router.ts";

describe("Router", () => {
  const ok = () => json(200, {});
  const router = new Router()
    .add("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/skus", "skus", ok)
    .add(
      "PUT",
      "/subscriptions/{subscriptionId}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}",
      "vm.put",
      ok,
      ["2024-07-01"],
    );

  it("captures parameters and matches literals in any case", () => {
    expect(router.match("get", "/SUBSCRIPTIONS/s1/providers/microsoft.compute/SKUS")).toMatchObject({
      operation: "skus",
      params: { subscriptionId: "s1" },
    });
    expect(
      router.match(
        "PUT",
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm-1",
      ),
    ).toMatchObject({
      operation: "vm.put",
      params: { subscriptionId: "s", rg: "g", name: "vm-1" },
      apiVersions: ["2024-07-01"],
    });
  });

  it("does not match another method or a path of another length", () => {
    expect(router.match("POST", "/subscriptions/s1/providers/Microsoft.Compute/skus")).toBeUndefined();
    expect(router.match("GET", "/subscriptions/s1/providers/Microsoft.Compute/skus/extra")).toBeUndefined();
  });

  it("refuses two routes for one operation", () => {
    expect(() => new Router().add("GET", "/a", "x", ok).add("GET", "/b", "x", ok)).toThrow(
      /duplicate operation x/,
    );
  });
});
