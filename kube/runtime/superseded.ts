/**
 * The resourceVersions each object had when its controller last wrote it (Machines, Workspaces).
 * The informer's copy can lag behind our own writes; a pass on a copy whose version we have
 * already written past would redo its work (launch again, plan again, overwrite the newer
 * status), so the controller waits for the informer instead. Versions are compared for equality only, as the API asks.
 */
export class SupersededVersions {
  private readonly byName = new Map<string, string[]>();
  private readonly keep: number;

  constructor(keep = 4) {
    this.keep = keep;
  }

  /** About to write `name` from `resourceVersion`: that version is then out of date. */
  record(name: string, resourceVersion: string | undefined): void {
    if (!resourceVersion) return;
    const versions = this.byName.get(name) ?? [];
    versions.push(resourceVersion);
    if (versions.length > this.keep) versions.shift();
    this.byName.set(name, versions);
  }

  superseded(name: string, resourceVersion: string | undefined): boolean {
    return resourceVersion !== undefined && (this.byName.get(name)?.includes(resourceVersion) ?? false);
  }

  /** The object is gone: nothing of it needs remembering. */
  forget(name: string): void {
    this.byName.delete(name);
  }
}
