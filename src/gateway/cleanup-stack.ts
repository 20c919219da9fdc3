/** One resource to give back, named so a failure to release it can be told apart. */
interface Cleanup {
  name: string;
  release(): Promise<unknown> | void;
}

/**
 * What the gateway acquired, released in reverse order: when start-up fails half way, and
 * at the end of shutdown. A resource whose release fails does not keep the others.
 */
export class CleanupStack {
  readonly #entries: Cleanup[] = [];

  push(name: string, release: () => Promise<unknown> | void): void {
    this.#entries.push({ name, release });
  }

  /** Releases everything, newest first; returns the names whose release failed. */
  async releaseAll(): Promise<string[]> {
    const failed: string[] = [];
    for (let entry = this.#entries.pop(); entry !== undefined; entry = this.#entries.pop()) {
      try {
        await entry.release();
      } catch {
        failed.push(entry.name);
      }
    }
    return failed;
  }
}
