import { describe, expect, it } from "vitest";
import { encodeFilterResult, encodeHostPriorityList, type FilterResult } from "./wire.ts";

describe("encoders", () => {
  it("write exactly what JSON.stringify writes, escaping where needed", () => {
    const results: FilterResult[] = [
      {
        Nodes: null,
        NodeNames: ["a", "b.example.com", 'odd"name', "ünï"],
        FailedNodes: {
          c: "node has 1 of 8 nvidia.com/gpu free",
          'q"': 'say "no"\n',
          d: "node has 1 of 8 nvidia.com/gpu free",
        },
        FailedAndUnresolvableNodes: {},
        Error: "",
      },
      {
        Nodes: { items: [{ metadata: { name: "x" } }] },
        NodeNames: null,
        FailedNodes: {},
        FailedAndUnresolvableNodes: { y: "r" },
        Error: 'boom \\ "x"',
      },
      { Nodes: null, NodeNames: [], FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: "" },
    ];
    for (const r of results) expect(encodeFilterResult(r)).toBe(JSON.stringify(r));
    const list = [
      { Host: "n1", Score: 10 },
      { Host: "n\\2", Score: 0 },
    ];
    expect(encodeHostPriorityList(list)).toBe(JSON.stringify(list));
    expect(encodeHostPriorityList([])).toBe("[]");
  });
});
