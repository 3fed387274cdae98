export type CatalogErrorCode = "InvalidYaml" | "InvalidSku" | "DuplicateSku" | "EmptyCatalog" | "UnknownSku";

/** The catalogue data is malformed, or a lookup named a SKU it does not hold. */
export class CatalogError extends Error {
  override readonly name = "CatalogError";
  readonly code: CatalogErrorCode;

  constructor(code: CatalogErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export function isCatalogError(e: unknown): e is CatalogError {
  return e instanceof CatalogError || (e instanceof Error && e.name === "CatalogError");
}
