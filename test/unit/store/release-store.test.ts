import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseDefinition } from "../../../src/definition/index.js";
import { chosenRelease, resolveReleases } from "../../../src/images/index.js";
import { SqliteStore } from "../../../src/store/index.js";
import { tempStateDirs } from "./helpers.js";

const dirs = tempStateDirs();
afterEach(() => dirs.cleanup());

const digest = (c: string) => `sha256:${c.repeat(64)}`;

function release(version: string, d: string) {
  return {
    app: "api",
    version,
    kind: "image" as const,
    ref: `127.0.0.1:5000/p/api:${version}`,
    digest: digest(d),
    commit: null,
    definitionRevision: "f".repeat(64),
    createdBy: "me@host",
  };
}

describe("releases", () => {
  it("are recorded once per version, listed newest first, and survive a reopen", () => {
    const dir = dirs.make();
    let t = 1000;
    const store = SqliteStore.open(dir, { create: true, now: () => t++ });
    expect(store.releases.record(release("v1", "a")).created).toBe(true);
    expect(store.releases.record(release("v2", "b")).created).toBe(true);
    const again = store.releases.record({ ...release("v1", "c") });
    expect(again.created).toBe(false);
    expect(again.record.digest).toBe(digest("a"));
    store.close();
    const reopened = SqliteStore.open(dir, { create: false });
    // Numbered in build order per app; a repeated version keeps its number; a promoted one
    // keeps the number it was given where it was built.
    expect(reopened.releases.list("api").map((r) => `${r.number} ${r.version}`)).toEqual([
      "2 v2",
      "1 v1",
    ]);
    expect(reopened.releases.record({ ...release("v7", "d"), number: 7 }).record.number).toBe(7);
    expect(reopened.releases.record(release("v8", "e")).record.number).toBe(8);
    expect(reopened.releases.record({ ...release("w1", "f"), app: "web" }).record.number).toBe(1);
    const v1 = reopened.releases.find("api", "v1");
    expect(v1?.createdAt).toBeLessThan(reopened.releases.find("api", "v2")?.createdAt ?? 0);
    expect(v1).toMatchObject({
      createdBy: "me@host",
      commit: null,
      kind: "image",
    });
    reopened.close();
  });

  it("resolve a built app to the deployed release, else the newest, pinned by digest", () => {
    const dir = dirs.make();
    const store = SqliteStore.open(dir, { create: true });
    const project = join(dir, "..");
    writeFileSync(join(project, "Dockerfile"), "FROM scratch\n");
    const definition = parseDefinition(
      [
        "registry: 127.0.0.1:5000",
        "project: p",
        "apps:",
        "  api:",
        "    build: .",
        '    command: ["x"]',
        "",
      ].join("\n"),
      join(project, "baton.yaml"),
    );
    expect(() => resolveReleases(definition, store.releases)).toThrow(/api has no release yet/);
    expect(resolveReleases(definition, store.releases, { missing: "keep" })).toBe(definition);
    store.releases.record(release("v1", "a"));
    store.releases.record(release("v2", "b"));
    const newest = resolveReleases(definition, store.releases);
    expect(newest.apps.api?.container?.image).toBe(`127.0.0.1:5000/p/api@${digest("b")}`);
    store.releases.setDesired("api", "v1", "me");
    expect(chosenRelease("api", store.releases)?.version).toBe("v1");
    expect(resolveReleases(definition, store.releases).apps.api?.container?.image).toBe(
      `127.0.0.1:5000/p/api@${digest("a")}`,
    );
    store.close();
  });
});
