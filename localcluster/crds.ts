import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { apiRequest, type ApiTarget } from "./http.ts";
import { systemClock, type Clock } from "../lib/clock.ts";

interface CrdDocument {
  metadata: { name: string };
  spec: { group: string; names: { plural: string }; versions: { name: string; served: boolean }[] };
}

/** Every CustomResourceDefinition in the directory's *.yaml files. */
export function readCrds(dir: string): CrdDocument[] {
  const crds: CrdDocument[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(path.join(dir, file), "utf8"))) {
      const value = doc.toJS() as { kind?: string } | null;
      if (value?.kind === "CustomResourceDefinition") crds.push(value as unknown as CrdDocument);
    }
  }
  if (crds.length === 0) throw new Error(`no CustomResourceDefinition found in ${dir}/*.yaml`);
  return crds;
}

/**
 * Server-side applies the CRDs (idempotent across restarts) and waits until every served version
 * is listed by API discovery, which is when clients can use it.
 */
export async function installCrds(
  target: ApiTarget,
  crds: CrdDocument[],
  clock: Clock = systemClock,
  timeoutMs = 60_000,
) {
  for (const crd of crds) {
    const res = await apiRequest(
      target,
      "PATCH",
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}?fieldManager=kaito&force=true`,
      JSON.stringify(crd),
      "application/apply-patch+yaml",
    );
    if (res.status >= 300)
      throw new Error(`installing CRD ${crd.metadata.name} failed: HTTP ${res.status} ${res.body}`);
  }
  const deadline = clock.now() + timeoutMs;
  for (const crd of crds) {
    for (const version of crd.spec.versions.filter((v) => v.served)) {
      for (;;) {
        const res = await apiRequest(target, "GET", `/apis/${crd.spec.group}/${version.name}`);
        if (res.status === 200) {
          const list = JSON.parse(res.body) as { resources?: { name: string }[] };
          if (list.resources?.some((r) => r.name === crd.spec.names.plural)) break;
        }
        if (clock.now() > deadline)
          throw new Error(`CRD ${crd.metadata.name} was not served within ${timeoutMs} ms`);
        await clock.sleep(100);
      }
    }
  }
}
