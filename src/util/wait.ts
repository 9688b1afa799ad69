/** Resolves after `ms`; for backoff timers and retry pacing, never as test synchronisation. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Checks `condition` until it holds or the deadline passes; returns whether it held.
 * Checking starts fast and slows down, so short waits stay short.
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  maxIntervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let interval = 5;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await delay(Math.min(interval, Math.max(0, deadline - Date.now())));
    interval = Math.min(interval * 2, maxIntervalMs);
  }
}
