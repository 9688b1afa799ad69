import { describe, expect, it } from "vitest";
import type { SymlinkResource } from "../../../../src/definition/host-model.js";
import { symlinkModule } from "../../../../src/hosts/modules/symlink.js";
import { common, results } from "./fixtures.js";

const current: SymlinkResource = {
  ...common,
  module: "symlink",
  path: "/srv/current",
  target: "/srv/releases/7",
  state: "present",
};

describe("symlink module", () => {
  it("is in state when the link points at the target", () => {
    expect(symlinkModule.diff(current, results({ state: "link\n/srv/releases/7\n" }))).toEqual([]);
  });

  it("a target with a newline in it is read whole", () => {
    const odd = { ...current, target: "a\nb" };
    expect(symlinkModule.diff(odd, results({ state: "link\na\nb\n" }))).toEqual([]);
  });

  it("another target or none: ln -sfn", () => {
    const changes = symlinkModule.diff(current, results({ state: "link\n/srv/releases/6\n" }));
    expect(changes).toEqual([{ field: "target", from: "/srv/releases/6", to: "/srv/releases/7" }]);
    expect(symlinkModule.apply(current, changes, new Map())).toEqual([
      { argv: ["ln", "-sfn", "--", "/srv/releases/7", "/srv/current"] },
    ]);
    expect(symlinkModule.diff(current, results({ state: "absent\n" }))).toEqual([
      { field: "target", from: null, to: "/srv/releases/7" },
    ]);
  });

  it("a real directory in the way fails with a message (ln would link inside it)", () => {
    const changes = symlinkModule.diff(current, results({ state: "directory\n" }));
    expect(changes).toEqual([{ field: "type", from: "directory", to: "symlink" }]);
    expect(symlinkModule.apply(current, changes, new Map())[0]!.argv.at(-1)).toMatch(
      /is a directory, not a symlink/,
    );
  });

  it("absent: rm -f the link; a file that is not a link is left alone", () => {
    const gone = { ...current, state: "absent" as const };
    expect(symlinkModule.removal(current)).toEqual(gone);
    expect(symlinkModule.diff(gone, results({ state: "file\n" }))).toEqual([]);
    const changes = symlinkModule.diff(gone, results({ state: "link\n/x\n" }));
    expect(changes).toEqual([{ field: "state", from: "present", to: "absent" }]);
    expect(symlinkModule.apply(gone, changes, new Map())).toEqual([
      { argv: ["rm", "-f", "--", "/srv/current"] },
    ]);
  });
});
