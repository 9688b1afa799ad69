import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { AuditStore } from "../../../src/store/audit-store.js";
import { SqliteStore } from "../../../src/store/index.js";
import { tempStateDirs } from "./helpers.js";

const dirs = tempStateDirs();
const opened: { close(): void }[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  dirs.cleanup();
});

const entry = {
  who: "ann",
  role: "deployer",
  action: "POST /api/v1/apps/:app/scale",
  target: "web",
  outcome: 200,
  address: "127.0.0.1",
};

describe("the audit log", () => {
  it("is kept when the store is opened again, oldest first", () => {
    const dir = dirs.make();
    const first = SqliteStore.open(dir, { create: true, now: () => 1_000 });
    first.audit.append(entry);
    first.audit.append({ ...entry, who: "bob", outcome: 403 });
    first.close();
    const again = SqliteStore.open(dir, { create: false });
    opened.push(again);
    expect(again.audit.list().map((e) => [e.who, e.outcome, e.at])).toEqual([
      ["ann", 200, 1_000],
      ["bob", 403, 1_000],
    ]);
    expect(again.audit.list(2_000)).toEqual([]);
  });

  it("has no way to change or remove an entry, in the code or in the file", () => {
    const methods = Object.getOwnPropertyNames(AuditStore.prototype).filter(
      (name) => name !== "constructor",
    );
    expect(methods.sort()).toEqual(["append", "list"]);

    const dir = dirs.make();
    const store = SqliteStore.open(dir, { create: true });
    opened.push(store);
    store.audit.append(entry);
    // Another writer of state.db (sqlite3 on the command line, a script) is refused too.
    const db = new Database(join(dir, "state.db"));
    opened.push(db);
    expect(() => db.prepare("UPDATE audit SET who = 'mallory'").run()).toThrow(/append-only/);
    expect(() => db.prepare("DELETE FROM audit").run()).toThrow(/append-only/);
    expect(store.audit.list().map((e) => e.who)).toEqual(["ann"]);
  });
});
