import { arr, int, map, obj, quantity, str, type JSONSchemaProps } from "../openapi.ts";

// The schemas below declare the same constraints as the upstream meta/v1 and core/v1 types, so
// objects that client-go or kubectl accept are accepted here too.

export function labelSelector(
  description: string,
  limits: { maxExpressions?: number } = {},
): JSONSchemaProps {
  return obj(
    description,
    {
      matchLabels: map("Labels that a node must carry, all of them.", str()),
      matchExpressions: arr(
        "Requirements on node labels, all of them.",
        obj(
          "One requirement on a label.",
          {
            key: str("The label key."),
            operator: str("How the key relates to the values.", {
              enum: ["In", "NotIn", "Exists", "DoesNotExist"],
            }),
            values: arr("Values for In and NotIn; empty for Exists and DoesNotExist.", str()),
          },
          { required: ["key", "operator"] },
        ),
        limits.maxExpressions === undefined ? {} : { maxItems: limits.maxExpressions },
      ),
    },
    { "x-kubernetes-map-type": "atomic" },
  );
}

/** meta/v1 Condition, listed as a map keyed by type so server-side apply merges by type. */
export function conditions(description: string): JSONSchemaProps {
  return arr(
    description,
    obj(
      "One aspect of the object's current state.",
      {
        type: str("The aspect, in CamelCase.", {
          maxLength: 316,
          pattern: String.raw`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$`,
        }),
        status: str("True, False or Unknown.", { enum: ["True", "False", "Unknown"] }),
        observedGeneration: int("The metadata.generation the condition was computed from.", {
          format: "int64",
          minimum: 0,
        }),
        lastTransitionTime: str("When the status last changed.", { format: "date-time" }),
        reason: str("A CamelCase word for the last transition.", {
          minLength: 1,
          maxLength: 1024,
          pattern: String.raw`^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`,
        }),
        message: str("A human-readable explanation.", { maxLength: 32768 }),
      },
      { required: ["type", "status", "lastTransitionTime", "reason", "message"] },
    ),
    { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] },
  );
}

export function taints(description: string): JSONSchemaProps {
  return arr(
    description,
    obj(
      "A taint on the node.",
      {
        key: str("The taint key."),
        value: str("The taint value."),
        effect: str("What happens to pods that do not tolerate it.", {
          enum: ["NoSchedule", "PreferNoSchedule", "NoExecute"],
        }),
        timeAdded: str("When the taint was added; NoExecute taints only.", { format: "date-time" }),
      },
      { required: ["key", "effect"] },
    ),
  );
}

export function nodeSelectorRequirements(description: string): JSONSchemaProps {
  return arr(
    description,
    obj(
      "A requirement on a node label.",
      {
        key: str("The label key, e.g. node.kubernetes.io/instance-type."),
        operator: str("How the key relates to the values.", {
          enum: ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"],
        }),
        values: arr("Values for In and NotIn; one integer for Gt and Lt; empty otherwise.", str()),
      },
      { required: ["key", "operator"] },
    ),
  );
}

export function resourceList(description: string): JSONSchemaProps {
  return map(description, quantity("An amount of the resource."));
}
