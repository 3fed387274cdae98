import type { KubeClient } from "../kube/client.ts";
import { objectPath, resources } from "../kube/resources.ts";

export interface BindTarget {
  namespace: string;
  name: string;
  /** When set, the API server refuses the binding if the pod was replaced meanwhile. */
  uid: string;
  nodeName: string;
}

/** Writes a pod's binding to a node; rejects when the API server refuses it. */
export interface Binder {
  bind(target: BindTarget): Promise<void>;
}

/** Binds through the pods/binding subresource, as kube-scheduler's default binder does. */
export function apiServerBinder(client: Pick<KubeClient, "request">): Binder {
  return {
    async bind({ namespace, name, uid, nodeName }) {
      await client.request("POST", `${objectPath(resources.pods, name, namespace)}/binding`, {
        body: {
          apiVersion: "v1",
          kind: "Binding",
          metadata: { name, namespace, ...(uid ? { uid } : {}) },
          target: { apiVersion: "v1", kind: "Node", name: nodeName },
        },
      });
    },
  };
}
