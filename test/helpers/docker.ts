import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Real Docker for tests (DESIGN.md, "Real components"): the tests start `dockerd` themselves
 * and build their images locally, because no registry can be pulled from.
 */

const SOCKET = "/var/run/docker.sock";
const DOCKERD_LOG = "/tmp/baton-dockerd.log";
const MISSING =
  "Docker Engine is missing: apt-get install docker.io (then the tests start dockerd themselves)";
/** Bump when the image recipe below changes, so old images are not reused. */
const RECIPE = "node-base/1";
const BUSYBOX = "/bin/busybox";
const APPLETS = ["sh", "sleep", "cat", "echo", "ls", "kill", "true"];

let dockerReady: Promise<void> | undefined;
let baseImage: Promise<string> | undefined;

/**
 * Makes sure a Docker Engine answers on /var/run/docker.sock, starting `dockerd` if none does.
 * Memoized per process; a failure is not memoized, so a later call tries again.
 */
export function ensureDocker(): Promise<void> {
  dockerReady ??= startDocker().catch((error: unknown) => {
    dockerReady = undefined;
    throw error;
  });
  return dockerReady;
}

async function startDocker(): Promise<void> {
  if (await ping()) return;
  const dockerd = findExecutable("dockerd");
  if (dockerd === undefined) throw new Error(MISSING);
  // Detached (own session) and unref'd: the daemon outlives this test process and serves the
  // next ones. Two workers may both get here; the second dockerd exits on the pid file lock
  // and the first one serves both, so we wait for the socket, not for our own child.
  const log = openSync(DOCKERD_LOG, "a");
  const child = spawn(dockerd, [], { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  child.on("error", () => {}); // reported through the timeout below, with the log
  child.unref();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (await ping()) return;
    await sleep(100);
  }
  const tail = readFileSync(DOCKERD_LOG, "utf8").split("\n").slice(-20).join("\n");
  throw new Error(`dockerd did not answer on ${SOCKET} within 60 s; ${DOCKERD_LOG} ends:\n${tail}`);
}

/** GET /_ping on the Engine API: true when a daemon answers. */
function ping(): Promise<boolean> {
  return new Promise((done) => {
    const req = request({ socketPath: SOCKET, path: "/_ping", timeout: 2_000 }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on("error", () => done(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** Root's PATH may lack the sbin directories where Debian puts dockerd. */
function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin"];
  for (const dir of dirs) {
    const candidate = join(dir || ".", name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The smallest image that runs this very node: `process.execPath` and its shared libraries at
 * their host paths, static busybox for /bin/sh and a few tools, passwd/group with root and
 * nobody (65534), and /tmp. Returns `baton-test/node-base:<hash>`, building it if missing;
 * the hash covers node's version and the file list, so a node upgrade builds a new image.
 */
export function nodeBaseImage(): Promise<string> {
  baseImage ??= buildNodeBase().catch((error: unknown) => {
    baseImage = undefined;
    throw error;
  });
  return baseImage;
}

async function buildNodeBase(): Promise<string> {
  await ensureDocker();
  const files = [process.execPath, ...(await sharedLibraries(process.execPath)), BUSYBOX];
  const hash = createHash("sha256")
    .update([RECIPE, process.version, ...files].join("\n"))
    .digest("hex")
    .slice(0, 12);
  const ref = `baton-test/node-base:${hash}`;
  if (await imageExists(ref)) return ref;

  const root = mkdtempSync(join(tmpdir(), "baton-node-base-"));
  try {
    for (const file of files) copyIntoRoot(root, file);
    // Applet links go into the directory busybox really lives in (through the root's own
    // /bin -> usr/bin link on merged-/usr hosts), never through a host symlink.
    const binDir = join(root, realpathSync(dirname(BUSYBOX)));
    for (const applet of APPLETS) {
      if (!existsSync(join(binDir, applet))) symlinkSync("busybox", join(binDir, applet));
    }
    makeDir(join(root, "etc"), 0o755);
    writeFileSync(
      join(root, "etc", "passwd"),
      "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    );
    writeFileSync(join(root, "etc", "group"), "root:x:0:\nnogroup:x:65534:\n");
    makeDir(join(root, "tmp"), 0o1777);

    // Imported under a private tag, then tagged: two workers building at once each import
    // their own copy, and neither sees a half-made image under the final name.
    const temp = `baton-test/node-base:build-${process.pid}-${randomBytes(4).toString("hex")}`;
    await importRoot(root, temp);
    if (!(await imageExists(ref))) await docker(["tag", temp, ref]);
    // Untags ours; if another worker won the race, this deletes our now-unneeded copy.
    await docker(["rmi", temp]);
    return ref;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The absolute paths `ldd` prints for a binary: its libraries and the dynamic loader. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const out = await run("ldd", [binary]);
  if (/not found/.test(out)) throw new Error(`ldd ${binary} reports missing libraries:\n${out}`);
  const paths: string[] = [];
  for (const line of out.split("\n")) {
    // "libm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)";
    // linux-vdso has no file and is skipped.
    const path = /(\/\S+) \(0x[0-9a-f]+\)/.exec(line)?.[1];
    if (path !== undefined) paths.push(path);
  }
  return paths;
}

/**
 * Copies a host path into `root` at the same absolute path. Every symlink met on the way (in
 * a directory component or at the end) is recreated as the same link and then followed, so
 * both the link names the loader looks up and the real files exist in the image.
 */
function copyIntoRoot(root: string, hostPath: string): void {
  const parts = hostPath.split("/").filter(Boolean);
  let at = "/";
  for (let i = 0; i < parts.length; i++) {
    const here = join(at, parts[i]!);
    const stat = lstatSync(here);
    if (stat.isSymbolicLink()) {
      const target = readlinkSync(here);
      if (!existsOrLink(join(root, here))) symlinkSync(target, join(root, here));
      copyIntoRoot(root, join(resolve(at, target), ...parts.slice(i + 1)));
      return;
    }
    if (stat.isDirectory()) {
      makeDir(join(root, here), stat.mode & 0o7777);
    } else if (!existsSync(join(root, here))) {
      copyFileSync(here, join(root, here));
      chmodSync(join(root, here), statSync(here).mode & 0o7777);
    }
    at = here;
  }
}

function existsOrLink(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** mkdir with an exact mode: the umask must not take /tmp's sticky, world-writable bits. */
function makeDir(path: string, mode: number): void {
  if (existsOrLink(path)) return;
  mkdirSync(path);
  chmodSync(path, mode);
}

/** `tar -C root -c . | docker import - ref`, labelled so tests' leftovers can be found. */
function importRoot(root: string, ref: string): Promise<void> {
  return new Promise((done, fail) => {
    const tar = spawn(
      "tar",
      ["-C", root, "--numeric-owner", "--owner=0", "--group=0", "-cf", "-", "."],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const imp = spawn("docker", ["import", "--change", "LABEL baton.test=1", "-", ref], {
      stdio: ["pipe", "ignore", "pipe"],
    });
    tar.stdout.pipe(imp.stdin);
    let errors = "";
    tar.stderr.on("data", (chunk: Buffer) => (errors += chunk));
    imp.stderr.on("data", (chunk: Buffer) => (errors += chunk));
    let tarCode: number | null = null;
    tar.on("error", fail);
    imp.on("error", fail);
    tar.on("close", (code) => (tarCode = code));
    imp.on("close", (code) => {
      if (code === 0 && tarCode === 0) done();
      else
        fail(
          new Error(
            `importing ${root} as ${ref} failed (tar ${tarCode}, docker ${code}): ${errors}`,
          ),
        );
    });
  });
}

async function imageExists(ref: string): Promise<boolean> {
  try {
    await docker(["image", "inspect", "--format", "{{.Id}}", ref]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Force-removes every container carrying `filterLabel` ("key" or "key=value"), for test
 * cleanup. The label is required so a test only ever removes what it started.
 */
export async function removeTestContainers(filterLabel: string): Promise<void> {
  if (filterLabel === "") throw new Error("removeTestContainers needs a label to filter by");
  await ensureDocker();
  const ids = (await docker(["ps", "-aq", "--filter", `label=${filterLabel}`]))
    .split("\n")
    .filter(Boolean);
  for (const id of ids) {
    try {
      await docker(["rm", "-f", id]);
    } catch (error) {
      // A --rm container may be going away by itself meanwhile: that is the wanted end state.
      if (!/No such container|already in progress/.test(String(error))) throw error;
    }
  }
}

/** Runs the docker CLI; rejects with its stderr on failure. */
export function docker(args: readonly string[]): Promise<string> {
  return run("docker", args);
}

function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((done, fail) => {
    execFile(command, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`${command} ${args.join(" ")} failed: ${stderr || error.message}`));
      else done(stdout);
    });
  });
}
