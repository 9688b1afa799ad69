import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveBudget } from "../../src/apps/rollout-plan.js";
import type { AppSpec } from "../../src/definition/index.js";
import { parseDefinition } from "../../src/definition/index.js";
import {
  type Driver,
  type DriverCapabilities,
  type DriverEvent,
  type Handle,
  isScheduler,
  type ReplicaSpec,
  type SchedulerDriver,
} from "../../src/runtime/driver.js";
import { freePort, TEST_APP } from "../helpers/cli.js";
import { get, getAt } from "../helpers/http.js";
import { eventually, processAlive } from "../helpers/wait.js";

/**
 * What every runtime driver must do, run against each of them (process, docker, swarm):
 * the checklist of a new driver. Which tests apply follows what the driver declares:
 * - every driver: a running replica's logs, what `describe` tells of it, declared
 *   capabilities that hold (exec, stats, logs exactly when declared);
 * - a driver that runs replicas one by one (`schedulerOwnsRollout` false): start, exits and
 *   kills reported, graceful stop, recover by a new instance, a spec from the definition;
 * - a driver whose scheduler owns rollout: deploy a group and observe its ready replicas,
 *   roll a new revision, a revision failing its health rolled back by the scheduler, remove,
 *   groups found again by a new instance, `changes` woken by a replica's death.
 */
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
  /** For a driver whose scheduler owns rollout: how its test app is made and hurt. */
  readonly scheduler?: SchedulerHooks;
}

export interface SchedulerHooks {
  /**
   * The app `web` as YAML lines under `apps.web`, with `env` and
   * `port` (where the proxy would listen); its readiness check asks the app's /healthz.
   */
  readonly appYaml: (env: Readonly<Record<string, string>>, port: number) => readonly string[];
  /** More env that makes the app never ready: its health check fails. */
  readonly unready: Readonly<Record<string, string>>;
  /** Kills a replica behind the driver's back, as an operator or the kernel would. */
  readonly kill: (driver: Driver, handle: Handle) => Promise<void>;
  /** How long a group may take to settle (its scheduler starts replicas at its pace). */
  readonly settleMs: number;
}

export function runtimeConformance(
  name: string,
  make: (stateDir: string) => Driver,
  hooks: ConformanceHooks = {},
): void {
  const declared = declaredCapabilities(make);
  // A scheduler starts replicas at its pace; a test may wait for a group to settle twice.
  const slow = (hooks.scheduler?.settleMs ?? 20_000) * 2;
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
      if (isScheduler(runtime)) for (const app of await runtime.groups()) await runtime.remove(app);
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

    /**
     * A running replica, whichever way the driver runs them: started by Baton, or the ready
     * replica of a group the scheduler runs.
     */
    async function running(runtime: Driver, id: string): Promise<Handle> {
      if (!isScheduler(runtime)) {
        const handle = await start(runtime, id);
        await eventually(
          `${id} listens`,
          () => get(handle.port),
          (a) => a.status === 200,
        );
        return handle;
      }
      const app = await groupApp({ GREETING: "hello" });
      await runtime.deploy(group(app, "rev1", 1));
      const [replica] = await settled(runtime, "rev1", 1);
      if (replica === undefined) throw new Error("no ready replica");
      return replica.handle;
    }

    it(
      "keeps a replica's stdout and stderr in its log",
      async () => {
        const runtime = open();
        const handle = await running(runtime, "web-logs");
        const lines = async (): Promise<string[]> => {
          const seen: string[] = [];
          for await (const line of runtime.logs(handle, {})) seen.push(line.line);
          return seen;
        };
        const seen = await eventually("both streams are in the log", lines, (l) => l.length >= 2);
        expect(seen.some((l) => / listening on \d+$/.test(l))).toBe(true);
        expect(seen.some((l) => / stderr works$/.test(l))).toBe(true);
        expect(await runtime.logged("web", { exited: false })).toContain(handle.id);
      },
      slow,
    );

    it(
      "keeps what it declares: exec, stats and logs answer exactly when declared",
      async () => {
        const runtime = open();
        const handle = await running(runtime, "web-caps");
        const caps = runtime.capabilities;
        expect(caps).toEqual(declared);
        expect(runtime.exec !== undefined).toBe(caps.exec);
        if (runtime.exec !== undefined) {
          expect(await runtime.exec(handle, ["sh", "-c", "exit 3"], 5_000)).toBe(3);
          expect(await runtime.exec(handle, ["sh", "-c", 'test -n "$PORT"'], 5_000)).toBe(0);
        }
        if (caps.stats) {
          const stats = await runtime.stats(handle);
          expect(stats.cpuSeconds).toBeGreaterThanOrEqual(0);
          expect(stats.rssBytes).toBeGreaterThan(1_000_000);
        } else {
          await expect(runtime.stats(handle)).rejects.toThrow();
        }
        expect(caps.logs).toBe(true);
        expect(handle).toMatchObject({ app: "web", revision: "rev1", driver: runtime.name });
      },
      slow,
    );

    it(
      "describes a replica: its process here, or its container, and its node",
      async () => {
        const runtime = open();
        const handle = await running(runtime, "web-describe");
        const described = runtime.describe(handle);
        if (runtime.capabilities.localProcesses)
          expect(processAlive(described.pid ?? -1)).toBe(true);
        else expect(described.container).toMatch(/^[0-9a-f]{12,}$/);
        if (runtime.capabilities.schedulerOwnsPlacement) expect(described.node).toBeTruthy();
        // What the state keeps of a handle is enough: it went through JSON.
        expect(runtime.describe(JSON.parse(JSON.stringify(handle)) as Handle)).toEqual(described);
      },
      slow,
    );

    if (!declared.schedulerOwnsRollout) {
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
        // A local process gets the controller's PATH, HOME, LANG and TZ, nothing else of its
        // environment (issue 19); anything else gets its own only.
        expect(spec.env.INHERITED).toBeUndefined();
        expect(spec.env.PATH).toBe(
          runtime.capabilities.localProcesses ? process.env.PATH : undefined,
        );
        const handle = await runtime.start(spec);
        started.push(handle);
        const answer = await eventually(
          "the replica made from the definition answers",
          () => get(port),
          (a) => a.status === 200,
        );
        expect(answer.body).toMatch(/^from the definition from /);
      });
    }

    if (declared.schedulerOwnsRollout) {
      it(
        "deploys a group and observes its ready replicas, reached where they say",
        async () => {
          const runtime = scheduler();
          const app = await groupApp({ GREETING: "v1" });
          expect(await runtime.deploy(group(app, "rev1", 2))).toMatchObject({ action: "created" });
          const ready = await settled(runtime, "rev1", 2);
          for (const { handle } of ready) {
            expect(handle).toMatchObject({ app: "web", revision: "rev1", driver: runtime.name });
            expect((await getAt(handle.host, handle.port)).body).toBe(`v1 from ${handle.id}\n`);
          }
          // The same group deployed again changes nothing.
          expect(await runtime.deploy(group(app, "rev1", 2))).toMatchObject({
            action: "unchanged",
          });
        },
        slow,
      );

      it(
        "rolls a new revision out",
        async () => {
          const runtime = scheduler();
          await runtime.deploy(group(await groupApp({ GREETING: "v1" }), "rev1", 2));
          await settled(runtime, "rev1", 2);
          const next = await runtime.deploy(group(await groupApp({ GREETING: "v2" }), "rev2", 2));
          expect(next).toMatchObject({ action: "updated" });
          if (next.action === "updated") expect(next.how).not.toBe("");
          const ready = await settled(runtime, "rev2", 2);
          expect((await getAt(ready[0]!.handle.host, ready[0]!.handle.port)).body).toMatch(/^v2 /);
          expect((await runtime.observe("web")).rollout.state).toBe("completed");
        },
        slow,
      );

      it(
        "rolls back a revision that fails its health, and says so",
        async () => {
          const runtime = scheduler();
          await runtime.deploy(group(await groupApp({ GREETING: "v1" }), "rev1", 1));
          await settled(runtime, "rev1", 1);
          const bad = await groupApp({ GREETING: "v2", ...hooks.scheduler?.unready });
          await runtime.deploy(group(bad, "rev2", 1));
          const back = await eventually(
            "the scheduler rolls rev2 back",
            () => runtime.observe("web"),
            (g) => g.rollout.state === "rolled-back",
            hooks.scheduler?.settleMs,
          );
          expect(back.revision).toBe("rev1");
          await settled(runtime, "rev1", 1);
        },
        slow,
      );

      it(
        "finds its groups again from a new instance, and removes them",
        async () => {
          const first = scheduler();
          await first.deploy(group(await groupApp({ GREETING: "v1" }), "rev1", 1));
          await settled(first, "rev1", 1);
          await first.close();
          const second = scheduler();
          expect(await second.groups()).toEqual(["web"]);
          expect((await second.observe("web")).revision).toBe("rev1");
          expect((await second.remove("web")).length).toBe(1);
          expect(await second.groups()).toEqual([]);
          expect(await second.observe("web")).toMatchObject({ replicas: [], size: 0 });
          expect(await second.remove("web")).toEqual([]);
        },
        slow,
      );

      it(
        "wakes `changes` when a replica dies, and the scheduler replaces it",
        async () => {
          const runtime = scheduler();
          await runtime.deploy(group(await groupApp({ GREETING: "v1" }), "rev1", 1));
          const [victim] = await settled(runtime, "rev1", 1);
          const watching = new AbortController();
          const woken: string[] = [];
          const following = (async () => {
            for await (const { app } of runtime.changes(watching.signal)) woken.push(app);
          })();
          try {
            await hooks.scheduler?.kill(runtime, victim!.handle);
            await eventually(
              "the death wakes the app",
              () => woken,
              (apps) => apps.includes("web"),
            );
            await eventually(
              "the scheduler no longer runs the dead replica",
              () => runtime.observe("web"),
              (g) => g.replicas.every((r) => r.handle.id !== victim!.handle.id),
              hooks.scheduler?.settleMs,
            );
            const replaced = await settled(runtime, "rev1", 1);
            expect(replaced[0]?.handle.id).not.toBe(victim!.handle.id);
          } finally {
            watching.abort();
            await following;
          }
        },
        slow,
      );
    }

    function scheduler(): SchedulerDriver {
      const runtime = open();
      if (!isScheduler(runtime)) throw new Error(`${runtime.name} is no scheduler`);
      return runtime;
    }

    /** The app `web` of a definition, for a group. */
    async function groupApp(env: Record<string, string>): Promise<AppSpec> {
      const hooksOf = hooks.scheduler;
      if (hooksOf === undefined) throw new Error(`${name} owns rollout but has no scheduler hooks`);
      const lines = hooksOf.appYaml(env, await freePort());
      const yaml = `apps:\n  web:\n${lines.map((l) => `    ${l}\n`).join("")}`;
      const app = parseDefinition(yaml, join(stateDir, "baton.yaml")).apps.web;
      if (app === undefined) throw new Error("the test definition has no app web");
      return app;
    }

    function group(spec: AppSpec, revision: string, replicas: number) {
      const { maxSurge, maxUnavailable } = resolveBudget(spec.update, replicas);
      return {
        app: "web",
        revision,
        spec,
        replicas,
        update: spec.update,
        budget: { maxSurge, maxUnavailable },
        project: "conformance",
      };
    }

    /** Waits until the group runs `count` ready replicas of `revision` and nothing else. */
    async function settled(runtime: SchedulerDriver, revision: string, count: number) {
      const observed = await eventually(
        `${count} ready replica(s) of ${revision}, reachable, and no other`,
        () => runtime.observe("web"),
        (g) =>
          g.revision === revision &&
          g.replicas.length === count &&
          g.replicas.every((r) => r.ready && r.reachable && r.handle.revision === revision),
        hooks.scheduler?.settleMs,
      );
      return observed.replicas;
    }
  });
}

/** What a driver declares, read from an instance made and closed at once. */
function declaredCapabilities(make: (stateDir: string) => Driver): DriverCapabilities {
  const dir = mkdtempSync(join(tmpdir(), "baton-runtime-caps-"));
  const driver = make(dir);
  const declared = driver.capabilities;
  void driver.close().finally(() => rmSync(dir, { recursive: true, force: true }));
  return declared;
}

/** Drivers that start replicas run them as processes of this machine, told by `describe`. */
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
