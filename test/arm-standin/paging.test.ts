import { describe, expect, it } from "vitest";
import type { StandinRequest } from "./http.ts";
import { page } from "./paging.ts";

function request(query: string): StandinRequest {
  return {
    method: "GET",
    path: "/subscriptions/s/providers/Microsoft.Compute/skus",
    query: new URLSearchParams(query),
    headers: {},
    body: "",
    origin: "https://127.0.0.1:4443",
  };
}

describe("page", () => {
  const items = [1, 2, 3, 4, 5];

  it("links to the next page with the query carried over and $ left unescaped", () => {
    const first = page(request("api-version=2021-07-01&%24filter=location+eq+%27eastus%27"), items, 2);
    expect(first.value).toEqual([1, 2]);
    expect(first.nextLink).toBe(
      "https://127.0.0.1:4443/subscriptions/s/providers/Microsoft.Compute/skus?api-version=2021-07-01&$filter=location%20eq%20'eastus'&$skiptoken=2",
    );
  });

  it("follows the skip token and ends without a nextLink", () => {
    expect(page(request("$skiptoken=2"), items, 2)).toMatchObject({
      value: [3, 4],
      nextLink: expect.stringContaining("$skiptoken=4"),
    });
    expect(page(request("$skiptoken=4"), items, 2)).toEqual({ value: [5] });
    expect(page(request(""), [], 2)).toEqual({ value: [] });
  });
});
