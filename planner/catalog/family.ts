/**
 * The comparison key of an ARM family name. ARM spells the same family differently across
 * ResourceSkus and Usages and across families ("Standard NCASv3_T4 Family",
 * "standard NDAMSv4_A100Family", "StandardNCADSA100v4Family"), so names are only equal after
 * dropping whitespace and folding case.
 */
export function normalizeFamily(family: string): string {
  return family.replace(/\s+/g, "").toLowerCase();
}
