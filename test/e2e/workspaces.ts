import type { Workspace } from "../../crds/index.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import { resources } from "../../kube/resources.ts";
import { until } from "../harness/until.ts";

/**
 * Deletes every Workspace in the namespace and waits until they are gone: the operator's
 * finalizer holds each one until its Machines are deleted, so a running operator must see it through.
 */
export async function deleteWorkspaces(client: KubeClient, namespace: string): Promise<void> {
  const list = async () =>
    (await client.list<Workspace & KubeObject>(resources.workspaces, { namespace })).items;
  await Promise.all(
    (await list()).map((w) => client.delete(resources.workspaces, w.metadata!.name!, namespace)),
  );
  await until(
    () => `the workspaces of ${namespace} to be deleted`,
    async () => ((await list()).length ? undefined : true),
  );
}
