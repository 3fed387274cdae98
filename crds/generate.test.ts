import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { allCrds, crdDir, header, renderAll } from "./render.ts";
import { untypedNodes } from "./schema-paths.ts";

describe("crds/*.yaml", () => {
  it("are exactly what crds/generate.ts writes (run `node crds/generate.ts` after a schema change)", async () => {
    for (const file of await renderAll()) {
      const onDisk = await readFile(file.path, "utf8").catch(() => "(missing)");
      expect(onDisk, path.basename(file.path)).toBe(file.content);
    }
  });

  it("are the only manifests in crds/, one CRD each, named after the CRD", async () => {
    const files = (await readdir(crdDir)).filter((f) => f.endsWith(".yaml")).sort();
    expect(files).toEqual([
      "inferencesets.kaito.sh.yaml",
      "machines.karpenter.sh.yaml",
      "workspaces.kaito.sh.yaml",
    ]);
    for (const file of files) {
      const text = await readFile(path.join(crdDir, file), "utf8");
      expect(text.startsWith(header)).toBe(true);
      expect(`${(parse(text) as { metadata: { name: string } }).metadata.name}.yaml`).toBe(file);
    }
  });

  it("have structural schemas: every node has a type", () => {
    for (const crd of allCrds) {
      for (const v of crd.spec.versions)
        expect(untypedNodes(v.schema.openAPIV3Schema), `${crd.metadata.name} ${v.name}`).toEqual([]);
    }
  });
});
