/** Waiting on a condition with a deadline: benchmarks never sleep to synchronise. */
import { connect } from "node:net";

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** True when something accepts TCP connections on host:port. */
export function accepts(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((res) => {
    const socket = connect(port, host);
    socket.once("connect", () => {
      socket.destroy();
      res(true);
    });
    socket.once("error", () => res(false));
  });
}

export function waitForPort(port: number, what: string, timeoutMs = 10_000): Promise<void> {
  return waitFor(() => accepts(port), `${what} to accept on port ${port}`, timeoutMs);
}
