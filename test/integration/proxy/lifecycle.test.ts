import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { ProxyClient, ProxyError, proxyPaths } from "../../../src/apps/proxy/index.js";
import {
  answeredBy,
  backendSpec,
  freePort,
  httpRequest,
  PROXY_ENTRY,
  startBackend,
  startProxy,
  type TestBackend,
  tempDir,
  waitFor,
} from "./helpers.js";

const run = promisify(execFile);

describe("the proxy process", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function backend(id: string): Promise<TestBackend> {
    const b = await startBackend(id);
    cleanups.push(() => b.close());
    return b;
  }

  function dir(): string {
    const d = tempDir();
    cleanups.push(() => d.remove());
    return d.path;
  }

  function stopLater(proxy: ProxyClient): void {
    cleanups.push(() => proxy.stop(15_000));
  }

  it("keeps serving after the process that started it has exited", async () => {
    const state = dir();
    const b = await backend("b1");
    const port = await freePort();
    const fixture = resolve(import.meta.dirname, "fixtures/start-and-exit.ts");
    const { stdout } = await run(process.execPath, [
      "--import",
      "tsx",
      fixture,
      state,
      PROXY_ENTRY,
      "web",
      String(port),
      String(b.port),
    ]);
    const pid = Number(stdout.trim());
    const proxy = await startProxy(state);
    stopLater(proxy);
    expect(proxy.pid).toBe(pid);
    // It leads its own session: the starter's terminal or group going away cannot reach it.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    expect(Number(fields[3])).toBe(pid);
    expect(answeredBy(await httpRequest(port))).toBe("b1");
    expect(readFileSync(proxyPaths(state).pid, "utf8").trim()).toBe(String(pid));
    expect(existsSync(join(state, "logs", "proxy.log"))).toBe(true);
  });

  it("reloads its routes from proxy.json after a restart", async () => {
    const state = dir();
    const b = await backend("persisted");
    const port = await freePort();
    const first = await startProxy(state);
    await first.setRoute("web", { port, protocol: "http", backends: [backendSpec(b)] });
    await first.stop(15_000);
    const second = await startProxy(state);
    stopLater(second);
    expect(second.pid).not.toBe(first.pid);
    expect(answeredBy(await httpRequest(port))).toBe("persisted");
    const snapshot = await second.routes();
    expect(snapshot.routes).toMatchObject([
      { app: "web", port, protocol: "http", listening: true, backends: [{ id: "persisted" }] },
    ]);
  });

  it("finds the live proxy instead of starting a second one", async () => {
    const state = dir();
    const first = await startProxy(state);
    stopLater(first);
    const again = await startProxy(state);
    expect(again.pid).toBe(first.pid);
    // Started by hand against a live one, a second proxy refuses with a clear message.
    const error = await run(process.execPath, [PROXY_ENTRY, "--state", state]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(error).toMatchObject({ code: 1 });
    expect((error as { stderr: string }).stderr).toContain(
      `another proxy (pid ${first.pid}) already serves`,
    );
  });

  it("replaces a stale control socket left by a killed proxy", async () => {
    const state = dir();
    const first = await startProxy(state);
    process.kill(first.pid, "SIGKILL");
    await first.stop(5_000); // waits until the pid is gone
    expect(existsSync(proxyPaths(state).socket)).toBe(true);
    const second = await startProxy(state);
    stopLater(second);
    expect(second.pid).not.toBe(first.pid);
    expect(await second.health()).toBe(true);
  });

  it("fails to start with the tail of proxy.log in the error", async () => {
    const state = dir();
    const entry = join(state, "broken-main.mjs");
    writeFileSync(entry, 'console.error("boom: cannot serve"); process.exit(3);\n');
    const error = await ProxyClient.ensure(state, { entry, startTimeoutMs: 5_000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProxyError);
    expect(error).toMatchObject({ code: "proxy.start_failed" });
    expect((error as ProxyError).message).toContain("it exited with code 3");
    expect((error as ProxyError).message).toContain("boom: cannot serve");
  });

  it("finishes an in-flight request when stopped, then exits", async () => {
    const state = dir();
    const b = await backend("graceful");
    const port = await freePort();
    const proxy = await startProxy(state);
    await proxy.setRoute("web", { port, protocol: "http", backends: [backendSpec(b)] });
    const pending = httpRequest(port, { path: "/slow" });
    await waitFor(() => b.slowPending === 1, "the slow request to reach the backend");
    const stopped = proxy.stop(15_000);
    await waitFor(() => !existsSync(proxyPaths(state).socket), "the proxy to stop accepting");
    b.releaseSlow();
    expect((await pending).status).toBe(200);
    await stopped;
    expect(readFileSync(proxyPaths(state).log, "utf8")).toContain("drained; exiting");
  });
});
