import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ControllerRecord,
  LATEST_SCHEMA_VERSION,
  type ReplicaRecord,
  SqliteStore,
  StateError,
} from "../../../src/store/index.js";
import { tempStateDirs } from "./helpers.js";

const dirs = tempStateDirs();
const opened: SqliteStore[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  dirs.cleanup();
});

function open(dir: string, create = true, now?: () => number): SqliteStore {
  const store = SqliteStore.open(dir, now ? { create, now } : { create });
  opened.push(store);
  return store;
}

function stateError(fn: () => unknown): StateError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StateError) return err;
    throw err;
  }
  throw new Error("expected a StateError, nothing was thrown");
}

function replica(over: Partial<ReplicaRecord> = {}): ReplicaRecord {
  return {
    id: "web-1",
    app: "web",
    revision: "abc123",
    runtime: "process",
    pid: 4242,
    startTicks: 1000,
    port: 41001,
    startedAt: 10,
    state: "starting",
    restarts: 0,
    ...over,
  };
}

const holder: ControllerRecord = {
  pid: 100,
  startTicks: 5,
  api: "http://127.0.0.1:7000",
  startedAt: 1,
};

describe("SqliteStore.open", () => {
  it("creates the directory (0700), the database in WAL mode and the whole schema", () => {
    const dir = dirs.make();
    const store = open(dir);
    expect(store.path).toBe(join(dir, "state.db"));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);

    const raw = new Database(store.path, { readonly: true });
    const tables = raw
      .prepare<[], { name: string }>(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all()
      .map((r) => r.name);
    expect(tables).toEqual([
      "alert_history",
      "app_revisions",
      "audit",
      "controller",
      "desired_releases",
      "events",
      "host_facts",
      "host_resources",
      "pipeline_runs",
      "pipeline_steps",
      "releases",
      "replicas",
      "revision_pins",
      "revisions",
      "rollout_steps",
      "rollouts",
      "scale_overrides",
      "schema_migrations",
      "silences",
      "tokens",
    ]);
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    raw.close();
  });

  it("keeps everything across close and reopen", () => {
    const dir = dirs.make();
    const first = open(dir);
    first.recordGeneration({
      hash: "h1",
      file: "baton.yaml",
      source: "apps: {}",
      appliedBy: "a@b",
    });
    first.putReplica(replica());
    first.appendEvent({ type: "app.scaled", app: "web", message: "scaled", data: { to: 3 } });
    first.setScaleOverride("web", 3, 2);
    first.claimController(holder, () => false);
    first.close();

    const again = open(dir, false);
    expect(again.latestGeneration()?.hash).toBe("h1");
    expect(again.replicas()).toEqual([replica()]);
    expect(again.events({}).map((e) => [e.type, e.data])).toEqual([["app.scaled", { to: 3 }]]);
    expect(again.scaleOverride("web")).toEqual({ replicas: 3, baseReplicas: 2 });
    expect(again.controller()).toEqual(holder);
  });

  it("refuses to create anything when create is false and there is no state", () => {
    const dir = dirs.make();
    const err = stateError(() => open(dir, false));
    expect(err.code).toBe("state.missing");
    expect(err.message).toBe(`no Baton state at ${join(dir, "state.db")}`);
    expect(existsSync(dir)).toBe(false);
  });

  it("reports a file that is not SQLite as corrupt and leaves it byte for byte", () => {
    const dir = dirs.make();
    mkdirSync(dir, { recursive: true });
    const path = join(dir, "state.db");
    const garbage = Buffer.from("this is not a database, it is a shopping list\n".repeat(200));
    writeFileSync(path, garbage);

    for (const create of [true, false]) {
      const err = stateError(() => open(dir, create));
      expect(err.code).toBe("state.corrupt");
      expect(err.message).toBe(
        `${path} is damaged or is not a Baton state database: not a SQLite database`,
      );
      expect(err.hint).toContain("from a backup");
      expect(err.hint).toContain("move it aside");
    }
    expect(readFileSync(path).equals(garbage)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(existsSync(`${path}-shm`)).toBe(false);
  });

  it("reports a SQLite file with damaged pages as corrupt instead of recreating it", () => {
    const dir = dirs.make();
    const store = open(dir);
    store.transaction(() => {
      for (let i = 0; i < 500; i++) {
        store.appendEvent({ type: "t", message: "x".repeat(200), data: { i } });
      }
    });
    store.close();
    // Fold the WAL into the main file so the damage below is what SQLite reads.
    const raw = new Database(store.path);
    raw.pragma("wal_checkpoint(TRUNCATE)");
    raw.pragma("journal_mode = DELETE");
    raw.close();

    const bytes = readFileSync(store.path);
    const pageSize = bytes.readUInt16BE(16);
    bytes.fill(0xa5, pageSize * 3, pageSize * 6);
    writeFileSync(store.path, bytes);

    const err = stateError(() => open(dir, false));
    expect(err.code).toBe("state.corrupt");
    expect(err.message.startsWith(`${store.path} is damaged`)).toBe(true);
    expect(readFileSync(store.path).equals(bytes)).toBe(true);
  });

  it("refuses a database written by a newer Baton", () => {
    const dir = dirs.make();
    open(dir).close();
    const raw = new Database(join(dir, "state.db"));
    raw
      .prepare("INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)")
      .run(LATEST_SCHEMA_VERSION + 1, "from the future", 0);
    raw.close();

    for (const create of [true, false]) {
      const err = stateError(() => open(dir, create));
      expect(err.code).toBe("state.too_new");
      expect(err.message).toBe(
        `${join(dir, "state.db")} was written by a newer Baton (schema version ${LATEST_SCHEMA_VERSION + 1}; ` +
          `this build knows up to ${LATEST_SCHEMA_VERSION}); upgrade`,
      );
    }
  });
});

describe("revisions", () => {
  it("records a new revision only when the hash differs from the latest", () => {
    const store = open(dirs.make(), true, () => 1234);
    const base = { file: "/repo/baton.yaml", source: "apps: {}", appliedBy: "ann@laptop" };

    const a = store.recordGeneration({ ...base, hash: "aaa" });
    expect(a).toEqual({
      created: true,
      record: { ...base, id: 1, hash: "aaa", appliedAt: 1234, environment: null, content: null },
    });
    const again = store.recordGeneration({ ...base, hash: "aaa", appliedAt: 9999 });
    expect(again).toEqual({ created: false, record: a.record });

    const b = store.recordGeneration({ ...base, hash: "bbb", appliedAt: 2000 });
    expect(b.created).toBe(true);
    expect(b.record.id).toBe(2);
    // Going back to an earlier definition is a change too: a rollback is a new revision.
    expect(store.recordGeneration({ ...base, hash: "aaa" }).record.id).toBe(3);

    expect(store.generations().map((r) => [r.id, r.hash])).toEqual([
      [3, "aaa"],
      [2, "bbb"],
      [1, "aaa"],
    ]);
    expect(store.generations(1).map((r) => r.id)).toEqual([3]);
    expect(store.generation(2)).toEqual(b.record);
    expect(store.generation(42)).toBeUndefined();
    expect(store.latestGeneration()?.id).toBe(3);

    // The same text applied for another environment is a new revision, recording it.
    const prod = store.recordGeneration({ ...base, hash: "aaa", environment: "prod" });
    expect(prod.created).toBe(true);
    expect(prod.record).toMatchObject({ id: 4, environment: "prod" });
    expect(store.recordGeneration({ ...base, hash: "aaa", environment: "prod" }).created).toBe(
      false,
    );
  });

  it("records the same text over other files as a new generation, with its content", () => {
    const store = open(dirs.make(), true, () => 1234);
    const base = { file: "/repo/baton.yaml", source: "apps: {}", appliedBy: "ann@laptop" };
    const site = (hex: string) => ({
      folders: { "/repo/site": `sha256:${hex.repeat(64)}` },
      files: {},
    });

    const first = store.recordGeneration({ ...base, hash: "aaa", content: site("a") });
    expect(first.record.content).toEqual(site("a"));
    expect(store.recordGeneration({ ...base, hash: "aaa", content: site("a") }).created).toBe(
      false,
    );
    // The folder edited, the text not: a controller restarted on its own needs the new files.
    const edited = store.recordGeneration({ ...base, hash: "aaa", content: site("b") });
    expect(edited).toMatchObject({ created: true, record: { id: 2, content: site("b") } });
    expect(store.latestGeneration()?.content).toEqual(site("b"));
    // Order of the paths does not matter.
    const two = {
      folders: { "/repo/a": `sha256:${"1".repeat(64)}`, "/repo/b": `sha256:${"2".repeat(64)}` },
      files: {},
    };
    const reversed = {
      folders: { "/repo/b": two.folders["/repo/b"], "/repo/a": two.folders["/repo/a"] },
      files: {},
    };
    expect(store.recordGeneration({ ...base, hash: "aaa", content: two }).created).toBe(true);
    expect(store.recordGeneration({ ...base, hash: "aaa", content: reversed }).created).toBe(false);
  });

  it("has no latest revision before the first apply", () => {
    const store = open(dirs.make());
    expect(store.latestGeneration()).toBeUndefined();
    expect(store.generations()).toEqual([]);
  });
});

describe("replicas", () => {
  it("upserts, patches only the given fields, removes, and lists by app then start time", () => {
    const store = open(dirs.make());
    store.putReplica(replica({ id: "web-2", startedAt: 20 }));
    store.putReplica(replica({ id: "web-1", startedAt: 10 }));
    store.putReplica(replica({ id: "api-1", app: "api", startedAt: 30 }));
    expect(store.replicas().map((r) => r.id)).toEqual(["api-1", "web-1", "web-2"]);
    expect(store.replicas("web").map((r) => r.id)).toEqual(["web-1", "web-2"]);

    store.updateReplica("web-1", { state: "ready", restarts: 2 });
    expect(store.replicas("web")[0]).toEqual(
      replica({ id: "web-1", startedAt: 10, state: "ready", restarts: 2 }),
    );
    store.updateReplica("web-1", { pid: null, startTicks: null, state: "exited" });
    expect(store.replicas("web")[0]).toMatchObject({ pid: null, startTicks: null, port: 41001 });

    store.putReplica(replica({ id: "web-1", startedAt: 10, pid: 7, state: "running" }));
    expect(store.replicas("web")[0]).toMatchObject({ pid: 7, state: "running", restarts: 0 });

    store.removeReplica("web-1");
    store.updateReplica("web-1", { state: "exited" });
    expect(store.replicas().map((r) => r.id)).toEqual(["api-1", "web-2"]);
  });
});

describe("events", () => {
  it("appends with increasing ids and answers queries oldest first", () => {
    let clock = 100;
    const store = open(dirs.make(), true, () => clock);
    const ids: number[] = [];
    for (const [app, msg] of [
      ["web", "w1"],
      ["api", "a1"],
      ["web", "w2"],
      ["web", "w3"],
    ] as const) {
      clock += 10;
      ids.push(store.appendEvent({ type: "replica.started", app, message: msg }).id);
    }
    const sys = store.appendEvent({ type: "controller.started", message: "up", at: 5000 });
    expect(sys).toEqual({
      id: 5,
      at: 5000,
      type: "controller.started",
      app: null,
      replica: null,
      message: "up",
      data: {},
    });

    const messages = (q: Parameters<SqliteStore["events"]>[0]) =>
      store.events(q).map((e) => e.message);
    expect(ids).toEqual([1, 2, 3, 4]);
    expect(messages({})).toEqual(["w1", "a1", "w2", "w3", "up"]);
    expect(messages({ afterId: 2 })).toEqual(["w2", "w3", "up"]);
    expect(messages({ app: "web" })).toEqual(["w1", "w2", "w3"]);
    expect(messages({ sinceMs: 130 })).toEqual(["w2", "w3", "up"]);
    expect(messages({ limit: 2 })).toEqual(["w3", "up"]);
    expect(messages({ app: "web", limit: 2, afterId: 1 })).toEqual(["w2", "w3"]);
    expect(messages({ limit: 0 })).toEqual([]);
  });

  it("stores data as JSON and returns what was stored", () => {
    const store = open(dirs.make());
    const e = store.appendEvent({
      type: "app.scaled",
      message: "scaled",
      data: { from: 1, to: 3, nested: { ok: true }, dropped: undefined },
    });
    expect(e.data).toEqual({ from: 1, to: 3, nested: { ok: true } });
    expect(store.events({})[0]?.data).toEqual(e.data);
  });

  it("is append-only: UPDATE and DELETE are refused by the database itself", () => {
    const store = open(dirs.make());
    store.appendEvent({ type: "t", message: "kept" });
    const raw = new Database(store.path);
    expect(() => raw.prepare("UPDATE events SET message = 'rewritten'").run()).toThrow(
      "events are append-only: UPDATE is not allowed",
    );
    expect(() => raw.prepare("DELETE FROM events").run()).toThrow(
      "events are append-only: DELETE is not allowed",
    );
    raw.close();
    expect(store.events({}).map((e) => e.message)).toEqual(["kept"]);
  });
});

describe("scale overrides", () => {
  it("sets, replaces and clears an override per app", () => {
    const store = open(dirs.make());
    expect(store.scaleOverride("web")).toBeUndefined();
    store.setScaleOverride("web", 5, 2);
    store.setScaleOverride("web", 7, 2);
    store.setScaleOverride("api", 1, 3);
    expect(store.scaleOverride("web")).toEqual({ replicas: 7, baseReplicas: 2 });
    store.clearScaleOverride("web");
    expect(store.scaleOverride("web")).toBeUndefined();
    expect(store.scaleOverride("api")).toEqual({ replicas: 1, baseReplicas: 3 });
  });
});

describe("controller lease", () => {
  const other: ControllerRecord = {
    pid: 200,
    startTicks: 9,
    api: "http://127.0.0.1:7001",
    startedAt: 2,
  };

  it("is taken when free", () => {
    const store = open(dirs.make());
    expect(store.controller()).toBeUndefined();
    expect(store.claimController(holder, () => true)).toEqual({ ok: true });
    expect(store.controller()).toEqual(holder);
  });

  it("is refused while the holder is alive, naming the holder", () => {
    const store = open(dirs.make());
    store.claimController(holder, () => false);
    const asked: ControllerRecord[] = [];
    const result = store.claimController(other, (h) => {
      asked.push(h);
      return true;
    });
    expect(result).toEqual({ ok: false, holder });
    expect(asked).toEqual([holder]);
    expect(store.controller()).toEqual(holder);
  });

  it("is taken over from a dead holder", () => {
    const store = open(dirs.make());
    store.claimController(holder, () => false);
    expect(store.claimController(other, () => false)).toEqual({ ok: true });
    expect(store.controller()).toEqual(other);
  });

  it("can be re-claimed by the process that holds it", () => {
    const store = open(dirs.make());
    store.claimController(holder, () => false);
    const moved = { ...holder, api: "http://127.0.0.1:7002" };
    expect(store.claimController(moved, () => true)).toEqual({ ok: true });
    expect(store.controller()).toEqual(moved);
  });

  it("is released only by its holder", () => {
    const store = open(dirs.make());
    store.claimController(holder, () => false);
    store.releaseController(other.pid);
    expect(store.controller()).toEqual(holder);
    store.releaseController(holder.pid);
    expect(store.controller()).toBeUndefined();
  });
});

describe("sharing a state directory", () => {
  it("lets two stores on one directory (CLI and controller) see each other's writes", () => {
    const dir = dirs.make();
    const controller = open(dir);
    const cli = open(dir, false);

    controller.putReplica(replica());
    controller.appendEvent({ type: "replica.started", app: "web", message: "started" });
    expect(cli.replicas().map((r) => r.id)).toEqual(["web-1"]);
    expect(cli.events({}).map((e) => e.message)).toEqual(["started"]);

    cli.setScaleOverride("web", 4, 1);
    cli.recordGeneration({ hash: "h", file: "f", source: "s", appliedBy: "u" });
    expect(controller.scaleOverride("web")).toEqual({ replicas: 4, baseReplicas: 1 });
    expect(controller.latestGeneration()?.hash).toBe("h");

    expect(cli.claimController(holder, () => false)).toEqual({ ok: true });
    expect(controller.claimController({ ...holder, pid: 300 }, () => true)).toEqual({
      ok: false,
      holder,
    });
  });
});

describe("transaction", () => {
  it("leaves nothing behind when the function throws", () => {
    const store = open(dirs.make());
    expect(() =>
      store.transaction(() => {
        store.recordGeneration({ hash: "h", file: "f", source: "s", appliedBy: "u" });
        store.putReplica(replica());
        store.appendEvent({ type: "t", message: "m" });
        store.setScaleOverride("web", 2, 1);
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(store.latestGeneration()).toBeUndefined();
    expect(store.replicas()).toEqual([]);
    expect(store.events({})).toEqual([]);
    expect(store.scaleOverride("web")).toBeUndefined();
  });

  it("returns the function's value and commits its writes", () => {
    const store = open(dirs.make());
    const id = store.transaction(() => store.appendEvent({ type: "t", message: "m" }).id);
    expect(store.events({}).map((e) => e.id)).toEqual([id]);
  });
});
