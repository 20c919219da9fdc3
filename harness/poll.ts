/**
 * Polls `check` until it returns a value other than undefined, and resolves with it; fails
 * after `timeoutMs` naming `what` (and the last error `check` threw, which does not stop
 * the polling: a server that is still starting refuses connections). For conditions no
 * event announces, such as an HTTP endpoint's answer or a metric's value.
 */
export async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? ` (last error: ${lastError.message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
