import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { parseAppAnswer } from "../../../bench/lib/container-app.js";
import {
  type RunningContainerLoad,
  startHostLoad,
  writeLoadScript,
} from "../../../bench/lib/container-load.js";
import { eventually } from "../../helpers/wait.js";

const script = writeLoadScript();
let server: Server | undefined;
let load: RunningContainerLoad | undefined;

afterEach(async () => {
  await load?.abort();
  load = undefined;
  server?.closeAllConnections();
  await new Promise((done) => (server ? server.close(done) : done(undefined)));
  server = undefined;
});
afterAll(() => script.remove());

/** A server answering like the bench app for the first `good` requests, then resetting. */
async function serve(
  good: number,
): Promise<{ port: number; counts: { ok: number; reset: number } }> {
  const counts = { ok: 0, reset: 0 };
  server = createServer((_req, res) => {
    if (counts.ok < good) {
      counts.ok += 1;
      res.end("7 abc123 1700000000000.5");
    } else {
      counts.reset += 1;
      res.socket?.destroy();
    }
  });
  await new Promise<void>((done) => server?.listen(0, "127.0.0.1", done));
  return { port: (server.address() as AddressInfo).port, counts };
}

describe("the container benches' load script", () => {
  it("counts every request it sent as served or failed, by version and by kind", async () => {
    const { port, counts } = await serve(10);
    load = await startHostLoad(script.dir, {
      target: `127.0.0.1:${port}`,
      ratePerS: 200,
      connections: 2,
      maxDurationMs: 20_000,
      timeoutMs: 2_000,
      resolveEveryMs: 100,
    });
    await eventually(
      "some requests were reset",
      () => counts.reset,
      (n) => n >= 5,
    );
    const report = await load.stop();
    load = undefined;
    expect(report.served).toBe(10);
    expect(report.failed).toBe(counts.reset);
    expect(report.requests).toBe(counts.ok + counts.reset);
    expect(report.versions["7"]?.count).toBe(10);
    expect(Object.keys(report.errors).length).toBeGreaterThan(0);
    expect(report.stoppedAt).toBeGreaterThanOrEqual(report.startedAt);
  });

  it("reads the bench app's answer: version, container and process start", () => {
    expect(parseAppAnswer("2 0b52f6b186c8 1795667043520.9")).toEqual({
      version: "2",
      host: "0b52f6b186c8",
      startedAt: 1795667043520.9,
    });
    expect(parseAppAnswer("ok")).toBeUndefined();
  });
});
