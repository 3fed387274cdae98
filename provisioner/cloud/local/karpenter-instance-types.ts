// The instance-types file of Karpenter's kwok provider (INSTANCE_TYPES_FILE_PATH), generated from
// the planner's SKU catalogue so Karpenter and the planner agree on every size: its GPUs, vCPUs,
// memory, price and zones. Format: sigs.k8s.io/karpenter kwok/cloudprovider/helpers.go
// (InstanceTypeOptions; KWOKOffering's Requirements become the node's labels when single-valued).
import { capacityTypeLabel, zoneLabel } from "../../../crds/index.ts";
import { loadCatalog, type Catalog } from "../../../planner/catalog/index.ts";
import { gpuLabels, gpuResource, regionLabel } from "./node.ts";

export interface KwokInstanceType {
  name: string;
  offerings: {
    Price: number;
    Available: boolean;
    Requirements: { key: string; operator: "In"; values: string[] }[];
  }[];
  architecture: string;
  operatingSystems: string[];
  resources: Record<string, string>;
}

/**
 * One entry per GPU size of the catalogue (retired ones too: a workspace may still name one), one
 * on-demand offering per zone at the catalogue's price. The offering also carries the labels GPU
 * feature discovery and AKS would put on the node (single-valued, so Karpenter's kwok provider
 * copies them onto the Node), the same as the local cloud's nodes carry.
 */
export function karpenterInstanceTypes(
  o: { catalog?: Catalog; region?: string; zones?: readonly string[] } = {},
): KwokInstanceType[] {
  const region = o.region ?? "local";
  const zones = o.zones ?? [`${region}-1`];
  return (o.catalog ?? loadCatalog()).skus
    .filter((sku) => sku.gpus > 0)
    .map((sku) => ({
      name: sku.name,
      offerings: zones.map((zone) => ({
        Price: sku.pricePerHour,
        Available: true,
        Requirements: [
          { key: capacityTypeLabel, operator: "In" as const, values: ["on-demand"] },
          { key: zoneLabel, operator: "In" as const, values: [zone] },
          { key: regionLabel, operator: "In" as const, values: [region] },
          ...Object.entries(gpuLabels(sku)).map(([key, value]) => ({
            key,
            operator: "In" as const,
            values: [value],
          })),
        ],
      })),
      architecture: "amd64",
      operatingSystems: ["linux"],
      resources: {
        cpu: String(sku.vcpus),
        memory: `${sku.memoryGiB}Gi`,
        pods: "110",
        [gpuResource]: String(sku.gpus),
      },
    }));
}
