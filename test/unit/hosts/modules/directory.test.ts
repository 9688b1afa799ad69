import { describe, expect, it } from "vitest";
import type { DirectoryResource } from "../../../../src/definition/host-model.js";
import { directoryModule } from "../../../../src/hosts/modules/directory.js";
import { ATTRIBUTE_SCRIPT } from "../../../../src/hosts/modules/path-state.js";
import { common, results, stat } from "./fixtures.js";

const app: DirectoryResource = {
  ...common,
  module: "directory",
  path: "/srv/app",
  mode: "0755",
  owner: "www",
  group: "www",
  state: "present",
};

/** Owner and mode never changed through a link (path-state.ts). */
const ATTR = ["sh", "-c", ATTRIBUTE_SCRIPT, "sh", "directory"];

describe("directory module", () => {
  it("probes the path's type, mode and owner", () => {
    const [probe] = directoryModule.probes(app);
    expect(probe!.argv.at(-1)).toBe("/srv/app");
    expect(directoryModule.id(app)).toBe("/srv/app");
  });

  it("is in state when mode, owner and group agree", () => {
    const found = results({ state: `${stat("755", "www", "www", "directory")}\n` });
    expect(directoryModule.diff(app, found)).toEqual([]);
    expect(directoryModule.diff({ ...app, mode: "755" }, found)).toEqual([]);
  });

  it("missing: mkdir -p, then owner and mode", () => {
    const changes = directoryModule.diff(app, results({ state: "absent\n" }));
    expect(changes).toEqual([
      { field: "state", from: "absent", to: "present" },
      { field: "mode", from: null, to: "0755" },
      { field: "owner", from: null, to: "www" },
      { field: "group", from: null, to: "www" },
    ]);
    expect(directoryModule.apply(app, changes, new Map())).toEqual([
      { argv: ["mkdir", "-p", "-m", "0755", "--", "/srv/app"] },
      { argv: [...ATTR, "www:www", "", "/srv/app"] },
    ]);
    const plain = { ...app, mode: undefined, owner: undefined, group: undefined };
    expect(
      directoryModule.apply(
        plain,
        directoryModule.diff(plain, results({ state: "absent\n" })),
        new Map(),
      ),
    ).toEqual([{ argv: ["mkdir", "-p", "--", "/srv/app"] }]);
  });

  it("each field alone: only its change, through the no-follow script", () => {
    const found = results({ state: `${stat("700", "www", "root", "directory")}\n` });
    const changes = directoryModule.diff(app, found);
    expect(changes).toEqual([
      { field: "mode", from: "0700", to: "0755" },
      { field: "group", from: "root", to: "www" },
    ]);
    expect(directoryModule.apply(app, changes, found)).toEqual([
      { argv: [...ATTR, ":www", "0755", "/srv/app"] },
    ]);
  });

  it("a file in the way fails at apply with a message", () => {
    const changes = directoryModule.diff(app, results({ state: `${stat("644")}\n` }));
    expect(changes).toEqual([{ field: "type", from: "file", to: "directory" }]);
    expect(directoryModule.apply(app, changes, new Map())[0]!.argv.at(-1)).toMatch(
      /is a file, not a directory/,
    );
  });

  it("absent: rmdir, which refuses a directory that is not empty", () => {
    const gone = directoryModule.removal(app) as DirectoryResource;
    expect(gone.state).toBe("absent");
    expect(directoryModule.diff(gone, results({ state: "absent\n" }))).toEqual([]);
    const found = results({ state: `${stat("755", "www", "www", "directory")}\n` });
    const changes = directoryModule.diff(gone, found);
    expect(changes).toEqual([{ field: "state", from: "present", to: "absent" }]);
    const [step] = directoryModule.apply(gone, changes, found);
    expect(step!.argv[2]).toContain("rmdir");
    expect(step!.argv[2]).toContain("is not empty");
    expect(step!.argv.at(-1)).toBe("/srv/app");
  });
});

describe("directory module: merged", () => {
  it("makes consecutive directories with one mkdir per mode, one chown per owner", () => {
    const missing = results({ state: "absent\n" });
    const planned = (resource: DirectoryResource) => ({
      resource,
      changes: directoryModule.diff(resource, missing),
      results: missing,
    });
    const existing = results({ state: `${stat("700", "www", "www", "directory")}\n` });
    const old = { ...app, path: "/srv/old" };
    const items = [
      planned(app),
      planned({ ...app, path: "/srv/app/a" }),
      planned({ ...app, path: "/srv/b", mode: undefined, owner: undefined, group: undefined }),
      { resource: old, changes: directoryModule.diff(old, existing), results: existing },
      {
        resource: { ...app, path: "/srv/gone", state: "absent" as const },
        changes: [{ field: "state", from: "present", to: "absent" }],
        results: existing,
      },
    ];
    const steps = directoryModule.merge!(items);
    expect(steps.slice(0, 4)).toEqual([
      { argv: ["mkdir", "-p", "-m", "0755", "--", "/srv/app", "/srv/app/a"] },
      { argv: ["mkdir", "-p", "--", "/srv/b"] },
      { argv: ["chown", "-h", "www:www", "--", "/srv/app", "/srv/app/a"] },
      { argv: [...ATTR, "", "0755", "/srv/old"] },
    ]);
    // One to remove is a step of its own, last.
    expect(steps).toHaveLength(5);
    expect(steps[4]!.argv.at(-1)).toBe("/srv/gone");
  });
});
