import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TarWriter } from "../../../src/images/index.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), "baton-tar-"));
  dirs.push(dir);
  return dir;
}

describe("the tar writer", () => {
  it("writes an archive GNU tar reads back: files, modes, folders, links, long names", () => {
    const longName = `${"deep/".repeat(30)}file-with-a-long-name.txt`;
    const veryLong = `${"x".repeat(120)}/${"y".repeat(120)}.txt`;
    const tar = new TarWriter();
    tar.add({ type: "directory", path: "bin", mode: 0o755 });
    tar.add({ type: "file", path: "bin/run", mode: 0o755, data: Buffer.from("#!/bin/sh\n") });
    tar.add({ type: "file", path: "empty", mode: 0o600, data: Buffer.alloc(0) });
    tar.add({ type: "file", path: longName, mode: 0o644, data: Buffer.from("long\n") });
    tar.add({ type: "file", path: veryLong, mode: 0o644, data: Buffer.alloc(1000, 65) });
    tar.add({ type: "symlink", path: "link", target: "bin/run" });
    const dir = temp();
    const archive = join(dir, "out.tar");
    writeFileSync(archive, tar.finish());
    const listing = execFileSync("tar", ["-tvf", archive]).toString();
    expect(listing).toMatch(/^-rwxr-xr-x .* bin\/run$/m);
    expect(listing).toMatch(/^-rw------- .* empty$/m);
    expect(listing).toMatch(/^lrwxrwxrwx .* link -> bin\/run$/m);
    const out = join(dir, "out");
    mkdirSync(out);
    execFileSync("tar", ["-xf", archive, "-C", out]);
    expect(readFileSync(join(out, longName), "utf8")).toBe("long\n");
    expect(readFileSync(join(out, veryLong)).length).toBe(1000);
    expect(readFileSync(join(out, "bin/run"), "utf8")).toBe("#!/bin/sh\n");
  });

  it("gives the same bytes for the same entries (no times, no owners)", () => {
    const make = (): Buffer => {
      const tar = new TarWriter();
      tar.add({ type: "file", path: "a", mode: 0o644, data: Buffer.from("a") });
      return tar.finish();
    };
    expect(make().equals(make())).toBe(true);
    expect(make().length % 512).toBe(0);
  });

  it("packs what `tar` would pack of a real folder, symlinks as links", () => {
    const dir = temp();
    writeFileSync(join(dir, "f"), "x");
    symlinkSync("f", join(dir, "l"));
    const tar = new TarWriter();
    tar.add({ type: "file", path: "f", mode: 0o644, data: readFileSync(join(dir, "f")) });
    tar.add({ type: "symlink", path: "l", target: "f" });
    writeFileSync(join(dir, "x.tar"), tar.finish());
    expect(
      execFileSync("tar", ["-tf", join(dir, "x.tar")])
        .toString()
        .split("\n"),
    ).toEqual(["f", "l", ""]);
  });
});
