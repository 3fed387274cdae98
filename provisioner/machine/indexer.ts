import type { KubeObject } from "../../kube/client.ts";
import { objectKey, type Informer } from "../../kube/informer.ts";

/**
 * A secondary index over an informer's cache (client-go's field indexer): objects by a value
 * computed from them, e.g. Nodes by spec.providerID. Kept current by the informer's events.
 */
export class InformerIndex<T extends KubeObject> {
  private readonly informer: Informer<T>;
  private readonly valuesOf: (o: T) => string[];
  private readonly keysByValue = new Map<string, Set<string>>();
  private readonly valuesByKey = new Map<string, string[]>();

  constructor(informer: Informer<T>, valuesOf: (o: T) => string[]) {
    this.informer = informer;
    this.valuesOf = valuesOf;
    for (const o of informer.list()) this.put(o);
    informer.on((e) => (e.type === "deleted" ? this.remove(objectKey(e.object)) : this.put(e.object)));
  }

  /** The cached objects indexed under `value`. */
  get(value: string): T[] {
    const keys = this.keysByValue.get(value);
    if (!keys) return [];
    return [...keys].map((k) => this.informer.get(k)).filter((o): o is T => o !== undefined);
  }

  /** Keys of the objects indexed under `value`. */
  keys(value: string): string[] {
    return [...(this.keysByValue.get(value) ?? [])];
  }

  private put(o: T): void {
    const key = objectKey(o);
    this.remove(key);
    const values = this.valuesOf(o);
    this.valuesByKey.set(key, values);
    for (const v of values) {
      let keys = this.keysByValue.get(v);
      if (!keys) this.keysByValue.set(v, (keys = new Set()));
      keys.add(key);
    }
  }

  private remove(key: string): void {
    for (const v of this.valuesByKey.get(key) ?? []) {
      const keys = this.keysByValue.get(v);
      keys?.delete(key);
      if (keys?.size === 0) this.keysByValue.delete(v);
    }
    this.valuesByKey.delete(key);
  }
}
