/**
 * Polling with a readable failure: every "wait until the cluster says X" in the scripts and
 * tests goes through here. The cap only turns a hang into an error that names what was awaited;
 * callers assert outcomes, never how fast they came.
 */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Thrown by a probe that knows waiting longer is pointless (the process it waits for exited). */
export class GiveUp extends Error {}

/**
 * Calls `probe` every `everyMs` until it returns something other than null, undefined or false,
 * and returns that; throws after `timeoutMs` naming `what` (and the probe's last error, if any).
 * A probe's error is retried, except GiveUp, which ends the wait at once.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      last = error;
    }
    await sleep(everyMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
  );
}
