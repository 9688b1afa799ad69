import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SnapshotError, Snapshots } from "../../../src/apps/snapshots.js";
import { type AppSpec, parseDefinition } from "../../../src/definition/index.js";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function project(): { dir: string; spec: () => AppSpec } {
  const dir = mkdtempSync(join(tmpdir(), "baton-snap-"));
  made.push(dir);
  mkdirSync(join(dir, "site"));
  writeFileSync(join(dir, "site", "config.txt"), "one\n");
  const file = join(dir, "baton.yaml");
  const text = "apps:\n  web:\n    command: x\n    cwd: site\n";
  writeFileSync(file, text);
  return { dir, spec: () => parseDefinition(text, file).apps.web as AppSpec };
}

describe("Snapshots", () => {
  it("copies an app's folder once per content, and never changes a copy", async () => {
    const { dir, spec } = project();
    const snapshots = new Snapshots(join(dir, ".baton"));
    const first = spec();
    const path = await snapshots.prepare("web", first);
    expect(path).toBe(snapshots.dir("web", first));
    expect(readFileSync(join(path, "config.txt"), "utf8")).toBe("one\n");
    expect(await snapshots.prepare("web", first)).toBe(path);

    writeFileSync(join(dir, "site", "config.txt"), "two\n");
    const second = spec();
    const other = await snapshots.prepare("web", second);
    expect(other).not.toBe(path);
    expect(readFileSync(join(path, "config.txt"), "utf8")).toBe("one\n");
    expect(readFileSync(join(other, "config.txt"), "utf8")).toBe("two\n");
  });

  it("refuses files that changed since the definition was read", async () => {
    const { dir, spec } = project();
    const snapshots = new Snapshots(join(dir, ".baton"));
    const read = spec();
    writeFileSync(join(dir, "site", "config.txt"), "edited meanwhile\n");
    await expect(snapshots.prepare("web", read)).rejects.toThrow(SnapshotError);
    await expect(snapshots.prepare("web", read)).rejects.toThrow(/changed while Baton copied/);
    expect(existsSync(snapshots.dir("web", read))).toBe(false);
  });

  it("prunes old snapshots except those kept and those just made", async () => {
    const { dir, spec } = project();
    const snapshots = new Snapshots(join(dir, ".baton"));
    const old = await snapshots.prepare("web", spec());
    writeFileSync(join(dir, "site", "config.txt"), "two\n");
    const kept = await snapshots.prepare("web", spec());
    writeFileSync(join(dir, "site", "config.txt"), "three\n");
    const fresh = await snapshots.prepare("web", spec());
    const anHourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(old, anHourAgo, anHourAgo);
    utimesSync(kept, anHourAgo, anHourAgo);

    await snapshots.prune("web", new Set([kept]));
    expect(existsSync(old)).toBe(false);
    expect(existsSync(kept)).toBe(true);
    expect(existsSync(fresh)).toBe(true);
  });
});
