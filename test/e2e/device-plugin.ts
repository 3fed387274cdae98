// deploy/device-plugin's DaemonSet in a test cluster, as `kubectl apply -k deploy/device-plugin`
// would put it there: the real kube-controller-manager and kube-scheduler place its pods, kwok runs
// them, and the ARM stand-in's kubelets (test/arm-standin/kubelet/) advertise a node's GPUs only
// once its pod runs, so the manifest's node selection and tolerations are what is tested.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import { isAlreadyExists, isNotFound } from "../../kube/errors.ts";
import { resources, type Resource } from "../../kube/resources.ts";
import { until } from "../harness/until.ts";

const daemonSets: Resource = {
  group: "apps",
  version: "v1",
  plural: "daemonsets",
  kind: "DaemonSet",
  namespaced: true,
};
export const devicePluginManifest = path.resolve(
  import.meta.dirname,
  "../../deploy/device-plugin/daemonset.yaml",
);

type DaemonSet = KubeObject & { spec: { selector: { matchLabels: Record<string, string> } } };

/** Creates the DaemonSet (or keeps the one there); the returned function deletes it and its pods. */
export async function installDevicePlugin(client: KubeClient): Promise<() => Promise<void>> {
  const ds = parse(readFileSync(devicePluginManifest, "utf8")) as DaemonSet;
  const namespace = ds.metadata!.namespace!;
  await client.create(daemonSets, ds).catch((e: unknown) => {
    if (!isAlreadyExists(e)) throw e;
  });
  const selector = Object.entries(ds.spec.selector.matchLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return async () => {
    await client.delete(daemonSets, ds.metadata!.name!, namespace).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
    // kube-controller-manager deletes the pods; a pod whose node is already gone has no kubelet to
    // confirm its end and waits for the pod garbage collector (about 40 s), harmlessly: wait only
    // until every pod is on its way out.
    await until("the device plugin's pods to be terminating", async () => {
      const pods = (await client.list(resources.pods, { namespace, labelSelector: selector })).items;
      return pods.every((p) => p.metadata?.deletionTimestamp) ? true : undefined;
    });
  };
}
