import { describe, expect, it } from "vitest";
import { isCatalogError, type CatalogErrorCode } from "./errors.ts";
import { parseCatalog, validateCatalog } from "./validate.ts";

const good = {
  name: "Standard_NC4as_T4_v3",
  series: "NCasT4_v3",
  family: "standardNCASv3_T4Family",
  vcpus: 4,
  memoryGiB: 28,
  gpus: 1,
  gpuModel: "T4",
  gpuMemoryGiB: 16,
  nvlink: false,
  infiniband: false,
  pricePerHour: 0.526,
  priceRegion: "eastus",
  priceAsOf: "2026-11-25",
};

function failure(data: unknown): { code: CatalogErrorCode; message: string } {
  try {
    validateCatalog(data, "test.yaml");
  } catch (e) {
    if (isCatalogError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected a CatalogError");
}

describe("catalogue validation", () => {
  it("accepts a well-formed SKU and defaults gpuFraction to a whole GPU", () => {
    expect(validateCatalog({ skus: [good] }, "test.yaml").skus[0]).toEqual({ ...good, gpuFraction: 1 });
  });

  it("parses fractions written as text", () => {
    const sku = validateCatalog({ skus: [{ ...good, gpuFraction: "1/3" }] }, "t").skus[0]!;
    expect(sku.gpuFraction).toBeCloseTo(1 / 3);
  });

  it.each([
    ["zero vCPUs", { ...good, vcpus: 0 }, /skus\[0\] field "vcpus" must be a positive number/],
    ["half a GPU count", { ...good, gpus: 1.5 }, /"gpus" must be a positive integer/],
    ["a name without Standard_", { ...good, name: "NC4as" }, /"name" must be a string matching/],
    ["a non-boolean flag", { ...good, nvlink: "no" }, /"nvlink" must be true or false/],
    ["an impossible date", { ...good, priceAsOf: "2026-13-45" }, /"priceAsOf" must be a real calendar date/],
    ["a fraction above one", { ...good, gpuFraction: "2/1" }, /"gpuFraction" must be a fraction/],
    ["two GPU slices", { ...good, gpus: 2, gpuFraction: 0.5 }, /with gpuFraction below 1 must have gpus: 1/],
    [
      "a compute capability that is not major.minor",
      { ...good, computeCapability: 7.55 },
      /"computeCapability" must be a CUDA compute capability/,
    ],
    [
      "a compute capability as text",
      { ...good, computeCapability: "8.0" },
      /"computeCapability" must be a CUDA compute capability/,
    ],
    ["a misspelt field", { ...good, gpuMemGiB: 16 }, /unknown field "gpuMemGiB"/],
  ])("rejects %s", (_label, sku, message) => {
    const f = failure({ skus: [sku] });
    expect(f.code).toBe("InvalidSku");
    expect(f.message).toMatch(message);
    expect(f.message).toMatch(/^test\.yaml /);
  });

  it("rejects duplicates, empty lists and other shapes", () => {
    expect(failure({ skus: [good, { ...good, name: "Standard_NC4AS_T4_V3" }] }).code).toBe("DuplicateSku");
    expect(failure({ skus: [] }).code).toBe("EmptyCatalog");
    expect(failure([good]).code).toBe("InvalidYaml");
  });

  it("reports YAML syntax errors as InvalidYaml", () => {
    expect(() => parseCatalog("skus: [", "bad.yaml")).toThrow(/bad\.yaml is not valid YAML/);
  });
});
