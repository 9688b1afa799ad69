import { readFileSync } from "node:fs";

/**
 * Waits for a condition with a deadline — the only way tests synchronise. On timeout it
 * fails with the description and the last value seen, so a failure explains itself.
 */
export async function eventually<T>(
  description: string,
  probe: () => Promise<T> | T,
  accept: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  let interval = 10;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      lastError = undefined;
      if (accept(last)) return last;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, interval));
    interval = Math.min(interval * 2, 200);
  }
  throw new Error(
    `timed out after ${timeoutMs}ms waiting until ${description}; last seen: ${
      lastError !== undefined ? String(lastError) : JSON.stringify(last)?.slice(0, 2000)
    }`,
  );
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
