import { createHash } from "node:crypto";
import type { Workspace } from "../../crds/index.ts";

/** gpu-provisioner >= v0.3 takes a claim's name as an AKS agent-pool name (`^[a-z][a-z0-9]{0,11}$`). */
export const nodeObjectNamePattern = /^ws[0-9a-f]{9}$/;

/**
 * The name of a workspace's Machine or NodeClaim: `ws` and 9 lower-case hex characters, as KAITO
 * names its NodeClaims, because the Azure gpu-provisioner makes it an AKS agent-pool name (v0.2.1
 * refuses more than 11 characters and assumes no `-`; v0.4.3 requires `^[a-z][a-z0-9]{0,11}$`,
 * pkg/providers/instance/instance.go).
 *
 * Unlike KAITO's (which hashes the time), it is the same for the same workspace uid, SKU and index
 * on every reconcile and after any restart, so a crash between "create" and "record" can never
 * produce a second node: the create of the same name is refused. The uid keeps a recreated
 * workspace of the same name from adopting objects its predecessor is still deleting; the SKU lets
 * a replan to another size create its objects while the old ones drain. 36 bits of hash make a
 * clash unlikely but possible: `attempt` gives the next candidate when the name is taken by another
 * workspace's object (nodeprovision/claim-names.ts decides which candidate a workspace uses).
 */
export function nodeObjectName(ws: Workspace, sku: string, index: number, attempt = 0): string {
  const m = ws.metadata!;
  const key = `${m.namespace}/${m.name}/${m.uid ?? ""}|${sku.toLowerCase()}|${index}${attempt ? `|${attempt}` : ""}`;
  return `ws${createHash("sha256").update(key).digest("hex").slice(0, 9)}`;
}
