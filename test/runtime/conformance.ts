import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseDefinition } from "../../src/definition/index.js";
import type { Driver, DriverEvent, Handle, ReplicaSpec } from "../../src/runtime/driver.js";
import { freePort, TEST_APP } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { eventually, processAlive } from "../helpers/wait.js";

/** What every runtime driver must do, run against each of them (process, docker, ...). */
export interface ConformanceHooks {
  /** Completes a replica's spec for this driver (a container image, mounts...). */
  readonly adapt?: (spec: ReplicaSpec, stateDir: string) => ReplicaSpec;
  /**
   * The app `web` of a definition, as YAML lines under `apps.web` (its `env` is added), for
   * `specFor`: by default a process app running the test app.
   */
  readonly appYaml?: (stateDir: string) => readonly string[];
  /** More of that app's `env`. */
  readonly appEnv?: Readonly<Record<string, string>>;
  /** Removes what the driver keeps of a test's replicas (e.g. exited containers). */
  readonly cleanup?: (stateDir: string) => Promise<void>;
}

export function runtimeConformance(
  name: string,
  make: (stateDir: string) => Driver,
  hooks: ConformanceHooks = {},
): void {
  describe(`${name} runtime conformance`, () => {
    let stateDir: string;
    let runtimes: Driver[];
    let started: Handle[];

    beforeEach(() => {
      stateDir = mkdtempSync(join(tmpdir(), "baton-runtime-"));
      runtimes = [];
      started = [];
    });
    afterEach(async () => {
      const runtime = open();
      for (const handle of await runtime.recover()) await runtime.stop(handle, 1_000);
      for (const r of runtimes) await r.close();
      await hooks.cleanup?.(stateDir);
      rmSync(stateDir, { recursive: true, force: true });
    });

    function open(): Driver {
      const runtime = make(stateDir);
      runtimes.push(runtime);
      return runtime;
    }

    async function spec(id: string, env: Record<string, string> = {}): Promise<ReplicaSpec> {
      const port = await freePort();
      const base: ReplicaSpec = {
        id,
        app: "web",
        revision: "rev1",
        command: { argv: [process.execPath, TEST_APP] },
        cwd: stateDir,
        env: { PATH: process.env.PATH ?? "", PORT: String(port), BATON_REPLICA: id, ...env },
        port,
      };
      return hooks.adapt ? hooks.adapt(base, stateDir) : base;
    }

    async function start(
      runtime: Driver,
      id: string,
      env: Record<string, string> = {},
    ): Promise<Handle> {
      const handle = await runtime.start(await spec(id, env));
      started.push(handle);
      return handle;
    }

    function collect(runtime: Driver): DriverEvent[] {
      const seen: DriverEvent[] = [];
      void (async () => {
        for await (const event of runtime.events()) seen.push(event);
      })();
      return seen;
    }

    it("starts a replica that runs the command with its env and port", async () => {
      const runtime = open();
      const handle = await start(runtime, "web-a");
      expect(pidOf(runtime, handle)).toBeGreaterThan(0);
      const answer = await eventually(
        "the replica answers",
        () => get(handle.port),
        (a) => a.status === 200,
      );
      expect(answer.body).toBe("hello from web-a\n");
    });

    it("reports an exit with its code, and a kill with its signal", async () => {
      const runtime = open();
      const events = collect(runtime);
      const crashing = await start(runtime, "web-crash", { CRASH_AFTER_MS: "10" });
      const killed = await start(runtime, "web-kill");
      await eventually(
        "web-kill listens",
        () => get(killed.port),
        (a) => a.status === 200,
      );
      process.kill(pidOf(runtime, killed), "SIGKILL");
      await eventually(
        "both exits are reported",
        () => events.length,
        (n) => n === 2,
      );
      expect(events.find((e) => e.id === crashing.id)).toMatchObject({
        type: "exited",
        code: 1,
        signal: null,
      });
      expect(events.find((e) => e.id === killed.id)).toMatchObject({
        type: "exited",
        code: null,
        signal: "SIGKILL",
      });
      expect(await runtime.recover()).toEqual([]);
    });

    it("stops gracefully, and kills what ignores SIGTERM after the grace period", async () => {
      const runtime = open();
      const polite = await start(runtime, "web-polite");
      const stubborn = await start(runtime, "web-stubborn", { IGNORE_TERM: "1" });
      await eventually(
        "both listen",
        async () => (await get(polite.port)).status + (await get(stubborn.port)).status,
        (s) => s === 400,
      );
      const t0 = Date.now();
      await runtime.stop(polite, 5_000);
      expect(Date.now() - t0).toBeLessThan(4_000);
      expect(processAlive(pidOf(runtime, polite))).toBe(false);
      const t1 = Date.now();
      await runtime.stop(stubborn, 300);
      expect(Date.now() - t1).toBeGreaterThanOrEqual(300);
      expect(processAlive(pidOf(runtime, stubborn))).toBe(false);
    });

    it("leaves no process of the replica's group behind", async () => {
      const runtime = open();
      const id = "web-tree";
      const handle = await runtime.start({
        ...(await spec(id)),
        command: { shell: "sleep 300 & sleep 301 & wait" },
      });
      const leader = pidOf(runtime, handle);
      const children = await eventually(
        "the shell has two children",
        () => childPids(leader),
        (c) => c.length === 2,
      );
      await runtime.stop(handle, 2_000);
      expect([leader, ...children].filter(processAlive)).toEqual([]);
    });

    it("is found again by a new runtime instance, which is told when it exits", async () => {
      const first = open();
      const handle = await start(first, "web-adopt");
      await eventually(
        "it listens",
        () => get(handle.port),
        (a) => a.status === 200,
      );
      await first.close();

      const second = open();
      const listed = await second.recover("web");
      expect(listed.map((h) => [h.id, h.state])).toEqual([[handle.id, handle.state]]);
      const events = collect(second);
      process.kill(pidOf(first, handle), "SIGKILL");
      await eventually(
        "the adopted replica's exit is reported",
        () => events.length,
        (n) => n === 1,
      );
      expect(events[0]).toMatchObject({ type: "exited", id: handle.id, app: "web" });
      expect(await second.recover()).toEqual([]);
    });

    it("does not list a replica whose process died unwatched", async () => {
      const first = open();
      const handle = await start(first, "web-gone");
      const pid = pidOf(first, handle);
      await first.close();
      process.kill(pid, "SIGKILL");
      await eventually(
        "it is gone",
        () => processAlive(pid),
        (alive) => !alive,
      );
      expect(await open().recover()).toEqual([]);
    });

    it("keeps stdout and stderr in the replica's log, and follows it", async () => {
      const runtime = open();
      const handle = await start(runtime, "web-logs");
      const lines = async (): Promise<string[]> => {
        const seen: string[] = [];
        for await (const line of runtime.logs(handle, {})) seen.push(line.line);
        return seen;
      };
      const seen = await eventually("both streams are in the log", lines, (l) => l.length >= 2);
      expect(seen).toContain(`web-logs listening on ${handle.port}`);
      expect(seen).toContain("web-logs stderr works");
      expect((await runtime.stats(handle)).rssBytes).toBeGreaterThan(1_000_000);
    });

    it("keeps what it declares: exec, stats and logs answer exactly when declared", async () => {
      const runtime = open();
      const handle = await start(runtime, "web-caps");
      await eventually(
        "it listens",
        () => get(handle.port),
        (a) => a.status === 200,
      );
      const caps = runtime.capabilities;
      expect(runtime.exec !== undefined).toBe(caps.exec);
      if (runtime.exec !== undefined) {
        expect(await runtime.exec(handle, ["sh", "-c", "exit 3"], 5_000)).toBe(3);
        expect(await runtime.exec(handle, ["sh", "-c", 'test -n "$PORT"'], 5_000)).toBe(0);
      }
      if (caps.stats) expect((await runtime.stats(handle)).cpuSeconds).toBeGreaterThanOrEqual(0);
      const described = runtime.describe(handle);
      if (caps.localProcesses) expect(processAlive(described.pid ?? -1)).toBe(true);
      expect(handle).toMatchObject({
        id: "web-caps",
        app: "web",
        revision: "rev1",
        driver: runtime.name,
      });
    });

    it("takes back a handle that went through JSON, as the state keeps it", async () => {
      const first = open();
      const handle = await start(first, "web-json");
      const stored = JSON.parse(JSON.stringify(handle)) as Handle;
      const second = open();
      const before = second.describe(stored);
      expect(before).toEqual(first.describe(handle));
      await second.stop(stored, 2_000);
      expect(await second.recover()).toEqual([]);
      if (before.pid !== undefined) expect(processAlive(before.pid)).toBe(false);
    });

    it("makes a replica's spec from an app of the definition", async () => {
      const runtime = open();
      const port = await freePort();
      const lines = hooks.appYaml?.(stateDir) ?? [
        `command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(TEST_APP)}]`,
      ];
      const yaml = `apps:\n  web:\n${[
        ...lines,
        `env: ${JSON.stringify({ GREETING: "from the definition", ...hooks.appEnv })}`,
      ]
        .map((l) => `    ${l}\n`)
        .join("")}`;
      const app = parseDefinition(yaml, join(stateDir, "baton.yaml")).apps.web;
      if (app === undefined) throw new Error("the test definition has no app web");
      const spec = await runtime.specFor(
        app,
        { id: "web-spec", app: "web", revision: "rev1", port },
        {
          baseEnv: { PATH: process.env.PATH ?? "", INHERITED: "yes" },
          snapshot: async () => stateDir,
        },
      );
      expect(spec).toMatchObject({ id: "web-spec", app: "web", revision: "rev1", port });
      expect(spec.env.GREETING).toBe("from the definition");
      // A local process inherits the controller's environment; anything else gets its own only.
      expect(spec.env.INHERITED).toBe(runtime.capabilities.localProcesses ? "yes" : undefined);
      const handle = await runtime.start(spec);
      started.push(handle);
      const answer = await eventually(
        "the replica made from the definition answers",
        () => get(port),
        (a) => a.status === 200,
      );
      expect(answer.body).toMatch(/^from the definition from /);
    });
  });
}

/** Both drivers run replicas as processes of this machine, their pid told by `describe`. */
function pidOf(driver: Driver, handle: Handle): number {
  const pid = driver.describe(handle).pid;
  if (pid === undefined) throw new Error(`${driver.name} did not describe ${handle.id}'s pid`);
  return pid;
}

function childPids(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return text === "" ? [] : text.split(" ").map(Number);
  } catch {
    return [];
  }
}
