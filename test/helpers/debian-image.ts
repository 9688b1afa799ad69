/**
 * A Debian 12 host image for tests and benchmarks, made here because no image registry can
 * be pulled from: `debootstrap` from Debian's mirror (the one apt uses on this machine) into
 * a folder, kept as a tarball under /var/cache/baton-test (about 45 s the first time, then
 * reused), imported with `docker import`. python3 is there only for the Ansible benchmark:
 * Baton needs nothing on a host beyond sh, coreutils and what Debian ships.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { join } from "node:path";
import { docker } from "./docker.js";

const PACKAGES = ["openssh-server", "python3", "sudo", "procps", "iproute2", "kmod"];
const SUITE = "bookworm";
const CACHE = "/var/cache/baton-test";

function run(command: string, args: readonly string[], timeoutMs = 900_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`${command} ${args.join(" ")} failed: ${stderr || error.message}`));
        else resolve(stdout);
      },
    );
  });
}

/** The Debian mirror apt uses here: the only one reachable from this machine. */
export function debianMirror(): string {
  const files = [
    "/etc/apt/sources.list",
    ...(existsSync("/etc/apt/sources.list.d")
      ? readdirSync("/etc/apt/sources.list.d").map((f) => join("/etc/apt/sources.list.d", f))
      : []),
  ];
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, "utf8");
    const deb822 = /^URIs:\s*(\S+)/m.exec(text)?.[1];
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/m.exec(text)?.[1];
    const uri = deb822 ?? oneLine;
    if (uri !== undefined && !uri.includes("security")) return uri;
  }
  throw new Error("no Debian mirror found in /etc/apt/sources.list*: the host image needs one");
}

async function ensureDebootstrap(): Promise<void> {
  if (existsSync("/usr/sbin/debootstrap")) return;
  try {
    await run("apt-get", ["update"]);
    await run("apt-get", ["install", "-y", "--no-install-recommends", "debootstrap"]);
  } catch (error) {
    throw new Error(
      `debootstrap is missing and could not be installed (${(error as Error).message}); run: apt-get install -y debootstrap`,
    );
  }
}

/** The image's tag; it changes with the recipe, so an old cache is never taken for a new one. */
export function debianHostTag(): string {
  const recipe = JSON.stringify({ SUITE, PACKAGES, variant: "minbase", v: 1 });
  return `baton-test/debian-host:${createHash("sha256").update(recipe).digest("hex").slice(0, 12)}`;
}

let pending: Promise<string> | undefined;

/** The tag of the Debian host image, built (or imported from the cached tarball) when missing. */
export function ensureDebianImage(): Promise<string> {
  pending ??= build();
  return pending;
}

async function build(): Promise<string> {
  const tag = debianHostTag();
  const present = await docker(["images", "-q", tag]).catch(() => "");
  if (present.trim() !== "") return tag;
  mkdirSync(CACHE, { recursive: true });
  const tarball = join(CACHE, `${tag.replace(/[/:]/g, "_")}.tar`);
  if (!existsSync(tarball)) {
    await ensureDebootstrap();
    const dir = mkdtempSync(join(CACHE, "rootfs-"));
    try {
      const mirror = debianMirror();
      await run("debootstrap", [
        "--variant=minbase",
        `--include=${PACKAGES.join(",")}`,
        SUITE,
        dir,
        mirror,
      ]);
      // apt inside the host reaches the same mirror as the machine that built it.
      await run("sh", [
        "-c",
        'printf "deb %s bookworm main\\n" "$1" > "$2/etc/apt/sources.list"',
        "sh",
        mirror,
        dir,
      ]);
      await run("tar", ["-C", dir, "-cf", `${tarball}.partial`, "."]);
      renameSync(`${tarball}.partial`, tarball);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  await run("docker", ["import", tarball, tag]);
  return tag;
}
