import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate } from "../../../src/store/migrations.js";
import { SqliteStore } from "../../../src/store/sqlite-store.js";
import { tempStateDirs } from "./helpers.js";

const dirs = tempStateDirs();
afterEach(() => dirs.cleanup());

describe("migrations", () => {
  it("are numbered 1, 2, 3… without gaps", () => {
    expect(MIGRATIONS.map((m) => m.id)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(LATEST_SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it("apply only what a database has not seen, each recorded once", () => {
    const dir = dirs.make();
    SqliteStore.open(dir, { create: true }).close();
    const path = join(dir, "state.db");
    const db = new Database(path);
    const next = [
      ...MIGRATIONS,
      {
        id: LATEST_SCHEMA_VERSION + 1,
        name: "add a table",
        up: "CREATE TABLE later (x INTEGER) STRICT",
      },
    ];

    expect(migrate(db, path, next, () => 77)).toBe(LATEST_SCHEMA_VERSION + 1);
    // A second run (another process opening the same state) finds nothing to do.
    expect(migrate(db, path, next, () => 88)).toBe(LATEST_SCHEMA_VERSION + 1);
    const ledger = db
      .prepare<[], { id: number; name: string; applied_at: number }>(
        "SELECT id, name, applied_at FROM schema_migrations ORDER BY id",
      )
      .all();
    expect(ledger.at(-1)).toEqual({
      id: LATEST_SCHEMA_VERSION + 1,
      name: "add a table",
      applied_at: 77,
    });
    expect(ledger).toHaveLength(LATEST_SCHEMA_VERSION + 1);
    db.close();
  });

  it("roll a failing migration back entirely, leaving the previous version", () => {
    const dir = dirs.make();
    SqliteStore.open(dir, { create: true }).close();
    const path = join(dir, "state.db");
    const db = new Database(path);
    const broken = [
      ...MIGRATIONS,
      {
        id: LATEST_SCHEMA_VERSION + 1,
        name: "half good",
        up: "CREATE TABLE good (x INTEGER); CREATE TABLE good (y INTEGER);",
      },
    ];
    expect(() => migrate(db, path, broken)).toThrow("table good already exists");
    const good = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name = 'good'")
      .all();
    expect(good).toEqual([]);
    expect(
      db.prepare<[], { v: number }>("SELECT max(id) AS v FROM schema_migrations").get()?.v,
    ).toBe(LATEST_SCHEMA_VERSION);
    db.close();
  });
});
