import { describe, expect, it } from "vitest";
import type { FileResource } from "../../../../src/definition/host-model.js";
import { fileModule, SECRET_MASK, sha256 } from "../../../../src/hosts/modules/file.js";
import { ATTRIBUTE_SCRIPT, WRITE_SCRIPT } from "../../../../src/hosts/modules/path-state.js";
import { common, results, stat } from "./fixtures.js";

const motd: FileResource = {
  ...common,
  module: "file",
  path: "/etc/motd",
  content: "managed by baton\n",
  mode: "0644",
  secret: false,
  state: "present",
};

function b64(text: string): string {
  return Buffer.from(text).toString("base64");
}

/** Owner and mode never changed through a link (path-state.ts). */
const ATTR = ["sh", "-c", ATTRIBUTE_SCRIPT, "sh", "file"];

describe("file module", () => {
  it("probes with the wanted hash, so an unchanged file sends no content", () => {
    const [probe] = fileModule.probes(motd);
    expect(probe!.argv.slice(3)).toEqual(["sh", "/etc/motd", sha256(motd.content), ""]);
    expect(fileModule.probes({ ...motd, secret: true })[0]!.argv.at(-1)).toBe("no-content");
  });

  it("is in state when hash, mode, owner and group agree", () => {
    const found = results({ state: `${stat("644")}\nsame\n` });
    expect(fileModule.diff({ ...motd, owner: "root", group: "0" }, found)).toEqual([]);
  });

  it("a missing file: content from nothing, with a diff from /dev/null, and its mode", () => {
    const changes = fileModule.diff(motd, results({ state: "absent\n" }));
    expect(changes).toEqual([
      {
        field: "content",
        from: null,
        to: `17 bytes, sha256 ${sha256(motd.content).slice(0, 12)}`,
        diff: "--- /dev/null\n+++ /etc/motd\n@@ -0,0 +1 @@\n+managed by baton\n",
      },
      { field: "mode", from: null, to: "0644" },
    ]);
    const steps = fileModule.apply(motd, changes, results({ state: "absent\n" }));
    expect(steps).toEqual([
      { argv: ["sh", "-c", WRITE_SCRIPT, "sh", "/etc/motd", "0644", ""], input: motd.content },
    ]);
  });

  it("changed content: a unified diff, written atomically keeping the owner found", () => {
    const found = results({ state: `${stat("600", "www", "www")}\ncontent\n${b64("old\n")}\n` });
    const resource = { ...motd, mode: undefined };
    const changes = fileModule.diff(resource, found);
    expect(changes).toHaveLength(1);
    expect(changes[0]!.diff).toBe(
      "--- /etc/motd\n+++ /etc/motd\n@@ -1 +1 @@\n-old\n+managed by baton\n",
    );
    expect(changes[0]!.from).toMatch(/^4 bytes, sha256 /);
    expect(fileModule.apply(resource, changes, found)).toEqual([
      {
        argv: ["sh", "-c", WRITE_SCRIPT, "sh", "/etc/motd", "0600", "1000:1000"],
        input: motd.content,
      },
    ]);
  });

  it("only the mode, the owner or the group differ: those alone, never through a link", () => {
    const found = results({ state: `${stat("600", "www", "www")}\nsame\n` });
    const resource = { ...motd, owner: "root", group: "adm" };
    const changes = fileModule.diff(resource, found);
    expect(changes).toEqual([
      { field: "mode", from: "0600", to: "0644" },
      { field: "owner", from: "www", to: "root" },
      { field: "group", from: "www", to: "adm" },
    ]);
    expect(fileModule.apply(resource, changes, found)).toEqual([
      { argv: [...ATTR, "root:adm", "0644", "/etc/motd"] },
    ]);
    const groupOnly = [{ field: "group", from: "www", to: "adm" }];
    expect(fileModule.apply(resource, groupOnly, found)).toEqual([
      { argv: [...ATTR, ":adm", "", "/etc/motd"] },
    ]);
  });

  it("a secret's content is masked in from, to and diff", () => {
    const found = results({ state: `${stat("644")}\ndiffers\n` });
    const changes = fileModule.diff({ ...motd, secret: true }, found);
    expect(changes).toEqual([
      { field: "content", from: SECRET_MASK, to: SECRET_MASK, diff: SECRET_MASK },
    ]);
    expect(JSON.stringify(changes)).not.toContain("managed");
  });

  it("binary content on the host is said to be replaced, not diffed", () => {
    const binary = Buffer.from([0, 1, 2, 255]).toString("base64");
    const changes = fileModule.diff(
      motd,
      results({ state: `${stat("644")}\ncontent\n${binary}\n` }),
    );
    expect(changes[0]!.diff).toBe("(binary content replaced)");
  });

  it("a directory in the way is planned as a type change that fails at apply with a message", () => {
    const found = results({ state: `${stat("755", "root", "root", "directory")}\n` });
    const changes = fileModule.diff(motd, found);
    expect(changes).toEqual([{ field: "type", from: "directory", to: "file" }]);
    const [step] = fileModule.apply(motd, changes, found);
    expect(step!.argv.at(-1)).toBe(
      "/etc/motd is a directory, not a file: remove it, or change the definition",
    );
  });

  it("absent: removed when there, nothing when not", () => {
    const gone = { ...motd, state: "absent" as const };
    expect(fileModule.diff(gone, results({ state: "absent\n" }))).toEqual([]);
    const changes = fileModule.diff(gone, results({ state: `${stat("644")}\n` }));
    expect(changes).toEqual([{ field: "state", from: "present", to: "absent" }]);
    expect(fileModule.apply(gone, changes, new Map())).toEqual([
      { argv: ["rm", "-f", "--", "/etc/motd"] },
    ]);
    expect(fileModule.removal(motd)).toEqual({ ...motd, state: "absent" });
  });

  it("a failed probe is an error that names it", () => {
    expect(() => fileModule.diff(motd, results({ state: [1, "", "Permission denied"] }))).toThrow(
      /exit 1\): Permission denied/,
    );
  });
});
