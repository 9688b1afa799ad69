import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LogRecord } from "../../../src/observe/logs/index.js";
import { HostLogs } from "../../../src/observe/logs/sources/host-logs.js";
import { SqliteStore } from "../../../src/store/index.js";

let dir: string;
let clock = 1_000;
let store: SqliteStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "baton-host-logs-"));
  store = SqliteStore.open(dir, { create: true, now: () => clock });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a host's log", () => {
  it("is what Baton did there and when: its events and applied resources, then new events", async () => {
    store.appendEvent({ type: "host.applied", message: "web1: 2 changed", data: { host: "web1" } });
    clock = 2_000;
    store.hosts.record("web1", [{ module: "file", identity: "/etc/motd", spec: {} }], []);
    clock = 3_000;
    store.appendEvent({ type: "host.drift", message: "db1: drift", data: { host: "db1" } });
    store.appendEvent({ type: "app.scaled", message: "web scaled", app: "web" });

    const logs = new HostLogs(dir, "web1");
    expect(logs.exists()).toBe(true);
    expect(new HostLogs(dir, "nowhere").exists()).toBe(false);
    const history = await gathered(logs.history({}));
    expect(history.map((r) => [r.at, r.line])).toEqual([
      [1_000, "host.applied web1: 2 changed"],
      [2_000, "applied file /etc/motd"],
    ]);
    expect(history[0]?.fields).toMatchObject({ type: "host.applied", host: "web1" });
    expect((await gathered(logs.history({ since: 1_500 }))).map((r) => r.line)).toEqual([
      "applied file /etc/motd",
    ]);

    const abort = new AbortController();
    const followed: LogRecord[] = [];
    const following = logs.follow(abort.signal, (r) => {
      followed.push(r);
      abort.abort();
    });
    clock = 4_000;
    store.appendEvent({
      type: "host.failed",
      message: "web1: unreachable",
      data: { host: "web1" },
    });
    await following;
    expect(followed.map((r) => r.line)).toEqual(["host.failed web1: unreachable"]);
  });
});

async function gathered(records: AsyncIterable<LogRecord>): Promise<LogRecord[]> {
  const all: LogRecord[] = [];
  for await (const record of records) all.push(record);
  return all;
}
