/**
 * Events only tell: a replica's exit or a health verdict reaches the apps reconciler as an
 * observation and a request for a pass; the app's state changes in that pass, never before.
 * The reconciler runs here with a real process driver, proxy and store; the test plays the
 * work queue, running each pass itself.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AppsReconciler } from "../../src/apps/apps-reconciler.js";
import { freePort } from "../../src/apps/ports.js";
import { ProxySupervisor } from "../../src/apps/proxy-supervisor.js";
import { Snapshots } from "../../src/apps/snapshots.js";
import { loadDefinition } from "../../src/definition/index.js";
import { buildPlan, diff } from "../../src/engine/index.js";
import { localDrivers } from "../../src/runtime/registry.js";
import { SqliteStore } from "../../src/store/index.js";
import { TEST_APP } from "../helpers/cli.js";
import { eventually } from "../helpers/wait.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Holds passes at `decided` while `held` is set: a test's way to stop one half-way. */
interface Gate {
  held: Promise<void> | undefined;
  reached: boolean;
}

async function world(gate: Gate = { held: undefined, reached: false }) {
  const dir = mkdtempSync(join(tmpdir(), "baton-inbox-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const stateDir = join(dir, ".baton");
  writeFileSync(
    join(dir, "baton.yaml"),
    `apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    port: ${await freePort()}
    ignore: [.baton/]
    health:
      readiness: { http: /healthz, interval: 100ms }
`,
  );
  const definition = loadDefinition(join(dir, "baton.yaml"));
  const store = SqliteStore.open(stateDir, { create: true });
  const drivers = localDrivers({ stateDir });
  const proxy = await ProxySupervisor.start(stateDir, () => {});
  const requested: string[] = [];
  const apps = new AppsReconciler({
    drivers,
    proxy,
    records: store,
    rollouts: store.rollouts,
    snapshots: new Snapshots(stateDir),
    scaleOverride: (app) => store.scaleOverride(app)?.replicas,
    emit: () => {},
    // Only the requests to look at once: those of events. A pass asks for later ones itself
    // (a deadline, a backoff); they are not what this test watches.
    requeue: (app, afterMs) => {
      if (afterMs === undefined || afterMs === 0) requested.push(app);
    },
    allocatePort: freePort,
    baseEnv: { PATH: process.env.PATH ?? "" },
    passPoint: async (point) => {
      if (point !== "decided" || gate.held === undefined) return;
      gate.reached = true;
      await gate.held;
    },
  });
  cleanups.push(async () => {
    await apps.stopAll();
    await proxy.close(true);
    await drivers.close();
    store.close();
  });
  // As the controller does: every exit a driver reports goes to the reconciler.
  void (async () => {
    for await (const event of drivers.get("process").events()) {
      if (event.type === "exited") apps.onReplicaExited(event);
    }
  })();
  for (const step of buildPlan(diff(apps.desired(definition), apps.observed())).steps) {
    await apps.apply(step.change, definition);
  }
  const web = () => {
    const app = apps.status().find((a) => a.name === "web");
    if (app === undefined) throw new Error("no app web in the status");
    return app;
  };
  return { apps, requested, web, store, pass: () => apps.reconcile("web") };
}

describe("the apps reconciler", () => {
  it("changes an app's state only in a pass: a verdict and an exit wait for it", async () => {
    const { requested, web, pass } = await world();
    // Each pass applies what was told before it began; a start ends after its pass.
    let told = requested.length;
    for (;;) {
      await pass();
      if (web().replicas.some((r) => r.pid !== null)) break;
      await eventually(
        "the start is told",
        () => requested.length,
        (n) => n > told,
      );
      told = requested.length;
    }
    const id = web().replicas[0]!.id;
    // The pass that applied the start began its health checks. Each verdict is told; until
    // the next pass, the replica stays as the last pass left it.
    const seen = () => ({ ready: web().ready, replicas: web().replicas });
    for (let passes = 0; web().ready === 0; passes += 1) {
      expect(passes, "ready within 50 verdicts").toBeLessThan(50);
      const before = seen();
      await eventually(
        "a health verdict asks for a pass",
        () => requested.length,
        (n) => n > told,
      );
      told = requested.length;
      expect(seen()).toEqual(before);
      await pass();
    }
    expect(web().replicas[0]).toMatchObject({ id, ready: true, state: "ready" });

    requested.length = 0;
    process.kill(web().replicas[0]!.pid!, "SIGKILL");
    await eventually(
      "the exit asks for a pass",
      () => requested.length,
      (n) => n > 0,
    );
    expect(web().replicas.map((r) => [r.id, r.state])).toEqual([[id, "ready"]]);
    await pass();
    expect(web().replicas.some((r) => r.id === id && r.pid !== null)).toBe(false);
    const healed = await eventually(
      "a new replica replaces it, in later passes",
      async () => {
        await pass();
        return web();
      },
      (app) => app.ready === 1 && app.replicas.every((r) => r.id !== id),
    );
    expect(healed.replicas).toHaveLength(1);
  });

  it("runs a command between two passes, never inside one held at an await", async () => {
    const gate: Gate = { held: undefined, reached: false };
    const { apps, web, store, pass } = await world(gate);
    await eventually(
      "one replica ready",
      async () => {
        await pass();
        return web();
      },
      (app) => app.ready === 1,
    );
    let release: () => void = () => {};
    gate.held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = pass();
    await eventually(
      "the pass is held half-way",
      () => gate.reached,
      (reached) => reached,
    );
    // `baton scale web 3` while the pass waits: the command waits for it to end.
    store.setScaleOverride("web", 3, 1);
    let scaled = false;
    const scaling = apps.rescale("web").then(() => {
      scaled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(scaled).toBe(false);
    expect(web().desired).toBe(1);
    gate.held = undefined;
    release();
    await held;
    await scaling;
    expect(web().desired).toBe(3);
    store.clearScaleOverride("web");
  });
});
