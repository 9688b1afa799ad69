/**
 * Issue 19: with a root controller, a file a committer marked setuid in an app folder must not
 * become a root-owned setuid binary in the state directory. Every copy Baton makes of a folder
 * (snapshots, artifacts, pipeline caches, build contexts) keeps permission bits only.
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { copyTree as copyCache } from "../../src/delivery/steps/tree-copy.js";
import { storeArtifact } from "../../src/images/artifact-store.js";
import { TarWriter } from "../../src/images/index.js";
import { treeDigest } from "../../src/util/file-tree.js";
import { freePort, Project } from "../helpers/cli.js";
import { get } from "../helpers/http.js";

let project: Project | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
  for (const dir of dirs.splice(0)) {
    execFileSync("chmod", ["-R", "u+w", dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

const SPECIAL = 0o7000;

/** Every file and folder under `root` that carries setuid, setgid or sticky, with its mode. */
function specialModes(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stats = lstatSync(path);
      if (stats.isSymbolicLink()) continue;
      if ((stats.mode & SPECIAL) !== 0) found.push(`${path} ${(stats.mode & 0o7777).toString(8)}`);
      if (stats.isDirectory()) walk(path);
    }
  };
  walk(root);
  return found;
}

/** An app folder holding a setuid+setgid executable and a sticky, setgid folder. */
function setuidFolder(dir: string): void {
  mkdirSync(join(dir, "bin"), { recursive: true });
  mkdirSync(join(dir, "shared"));
  writeFileSync(join(dir, "bin", "escalate"), "#!/bin/sh\nid -u\n");
  chmodSync(join(dir, "bin", "escalate"), 0o6755);
  chmodSync(join(dir, "shared"), 0o3777);
  expect(specialModes(dir)).toHaveLength(2);
}

function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), "baton-setuid-"));
  dirs.push(dir);
  return dir;
}

describe("copies of app folders", () => {
  it("keep no setuid, setgid or sticky bit in an applied app's snapshot", async () => {
    const port = await freePort();
    const server = `require("node:http").createServer((q, s) => s.end("up\\n")).listen(Number(process.env.PORT), "127.0.0.1");\n`;
    project = new Project(
      `apps:
  web:
    command: ["node", "server.cjs"]
    cwd: site
    port: ${port}
`,
      { "site/server.cjs": server },
    );
    const p = project;
    setuidFolder(p.path("site"));
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "30s");
    expect((await get(port)).body).toBe("up\n");

    const snapshots = join(p.stateDir, "snapshots", "web");
    const [snapshot] = readdirSync(snapshots);
    const escalate = lstatSync(join(snapshots, snapshot ?? "", "bin", "escalate"));
    // Still the same executable, with its permission bits...
    expect(escalate.mode & 0o777).toBe(0o755);
    // ...and nothing that would make it run as root.
    expect(specialModes(p.stateDir)).toEqual([]);
  });

  it("keep none in a stored artifact", async () => {
    const source = temp();
    setuidFolder(source);
    const artifact = join(temp(), "artifact");
    await storeArtifact(source, artifact, { expectedDigest: treeDigest(source) });
    expect(specialModes(artifact)).toEqual([]);
  });

  it("keep none in a pipeline cache, new or merged", async () => {
    const source = temp();
    setuidFolder(source);
    const cache = join(temp(), "cache");
    await copyCache(source, cache);
    expect(specialModes(cache)).toEqual([]);
    // Merging into an existing cache folder takes the other path.
    const merged = temp();
    await copyCache(source, merged);
    expect(specialModes(merged)).toEqual([]);
  });

  it("keep none in an image's build context", () => {
    const tar = new TarWriter();
    tar.add({ type: "directory", path: "shared", mode: 0o3777 });
    tar.add({ type: "file", path: "escalate", mode: 0o6755, data: Buffer.from("#!/bin/sh\n") });
    const archive = join(temp(), "context.tar");
    writeFileSync(archive, tar.finish());
    const listing = execFileSync("tar", ["-tvf", archive]).toString();
    expect(listing).toMatch(/^-rwxr-xr-x .* escalate$/m);
    expect(listing).toMatch(/^drwxrwxrwx .* shared\/$/m);
  });
});
