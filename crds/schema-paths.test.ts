import { describe, expect, it } from "vitest";
import { arr, int, map, obj, opaque, quantity, str } from "./openapi.ts";
import { compareToSchema, untypedNodes } from "./schema-paths.ts";

const schema = obj("", {
  name: str(),
  size: int(""),
  mode: str("", { enum: ["a", "b"] }),
  tags: arr("", str()),
  labels: map("", str()),
  amount: quantity(""),
  extra: opaque(""),
  nested: obj("", { leaf: str() }),
});

const sample = {
  name: "x",
  size: 1,
  mode: "a",
  tags: ["t"],
  labels: { k: "v" },
  amount: "8Gi",
  extra: { anything: [1, { goes: true }] },
  nested: { leaf: "y" },
};

describe("compareToSchema", () => {
  it("finds nothing when the sample has exactly the schema's fields", () => {
    expect(compareToSchema(schema, sample)).toEqual([]);
  });

  it("reports a field only the sample has, and one only the schema has", () => {
    const { name: _name, ...withoutName } = sample;
    expect(compareToSchema(schema, { ...withoutName, nested: { leaf: "y", other: 1 } })).toEqual([
      "name: in the schema but not in the sample",
      "nested.other: in the sample but not in the schema",
    ]);
  });

  it("reports values of the wrong type, inside lists and maps too", () => {
    expect(
      compareToSchema(schema, {
        ...sample,
        size: 1.5,
        mode: "c",
        tags: [1],
        labels: { k: 2 },
        amount: true,
        extra: [],
      }),
    ).toEqual([
      "size: expected an integer",
      'mode: "c" is not one of a, b',
      "tags[]: expected a string",
      "labels.k: expected a string",
      "amount: expected an int-or-string",
      "extra: expected an object",
    ]);
  });

  it("refuses empty lists and maps, whose items it could not check", () => {
    expect(compareToSchema(schema, { ...sample, tags: [], labels: {} })).toEqual([
      "tags: the sample list is empty, so its items go unchecked",
      "labels: the sample map is empty, so its values go unchecked",
    ]);
  });
});

describe("untypedNodes", () => {
  it("accepts typed, int-or-string and preserve-unknown nodes", () => {
    expect(untypedNodes(schema)).toEqual([]);
  });

  it("names each node without a type", () => {
    expect(untypedNodes(obj("", { a: {}, b: arr("", { description: "x" }), c: map("", {}) }))).toEqual([
      "<root>.a",
      "<root>.b[]",
      "<root>.c.*",
    ]);
  });
});
