import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/log.ts";
import type { KubeObject } from "../client.ts";
import type { Informer } from "../informer.ts";
import { Controller, ownerKeys, type KeyMapper, type Source } from "./controller.ts";
import type { RuntimeMetrics } from "./metrics.ts";
import type { RateLimit } from "./queue.ts";
import type { Reconciler } from "./reconciler.ts";

export interface BuildDependencies {
  metrics: RuntimeMetrics;
  clock?: Clock;
  log?: Logger;
}

const namePattern = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Wires a controller: `named(...).for(primary).owns(...).watches(...).complete(reconciler, deps)`.
 * Misuse (no primary, a primary set twice, a bad name, no reconciler) throws from complete().
 */
export class ControllerBuilder<T extends KubeObject> {
  private name: string | undefined;
  private primary: Informer<T> | undefined;
  private primaryKind: string | undefined;
  private readonly sources: Source[] = [];
  private concurrency = 1;
  private rateLimit: RateLimit | undefined;
  private readonly problems: string[] = [];

  static named<T extends KubeObject>(name: string): ControllerBuilder<T> {
    const b = new ControllerBuilder<T>();
    b.name = name;
    return b;
  }

  for(informer: Informer<T>): this {
    if (this.primary) this.problems.push("for() was called twice: a controller has one primary kind");
    this.primary = informer;
    this.primaryKind = informer.resource.kind;
    return this;
  }

  /** Reconciles the owner when an object it controls (ownerReference with controller=true) changes. */
  owns(informer: Informer<KubeObject>): this {
    if (!this.primaryKind) this.problems.push("owns() must come after for()");
    this.sources.push({ informer, map: ownerKeys(this.primaryKind ?? "") });
    return this;
  }

  watches(informer: Informer<KubeObject>, map: KeyMapper): this {
    this.sources.push({ informer, map });
    return this;
  }

  withConcurrency(n: number): this {
    if (!Number.isInteger(n) || n < 1) this.problems.push(`concurrency must be a positive integer, got ${n}`);
    this.concurrency = n;
    return this;
  }

  withRateLimit(rateLimit: RateLimit): this {
    this.rateLimit = rateLimit;
    return this;
  }

  complete(reconciler: Reconciler<T> | undefined, deps: BuildDependencies): Controller<T> {
    const problems = [...this.problems];
    if (!this.name || !namePattern.test(this.name)) {
      problems.push(`controller name "${this.name ?? ""}" must be lowercase letters, digits and dashes`);
    }
    if (!this.primary) problems.push("for() was not called: a controller needs a primary kind");
    if (!reconciler) problems.push("no reconciler was given");
    if (problems.length > 0)
      throw new Error(`cannot build controller ${this.name ?? "?"}: ${problems.join("; ")}`);
    return new Controller<T>({
      name: this.name!,
      primary: this.primary!,
      sources: this.sources,
      reconciler: reconciler!,
      concurrency: this.concurrency,
      rateLimit: this.rateLimit,
      ...deps,
    });
  }
}
