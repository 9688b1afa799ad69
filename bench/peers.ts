/**
 * Peers the benchmarks compare Baton with. PM2 is installed by the bench itself into
 * bench/.peers (never a dependency of Baton); HAProxy and wrk come from Debian.
 *
 *   node --import tsx bench/peers.ts        installs what is missing, prints the paths
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const PEERS_DIR = resolve(import.meta.dirname, ".peers");
const PM2_SPEC = "pm2@7";

/** Path of PM2's CLI script (run it with `node`), installing PM2 first when missing. */
export function ensurePm2(log: (line: string) => void = () => {}): string {
  const bin = pm2Bin();
  if (existsSync(bin)) return bin;
  log(`installing ${PM2_SPEC} into ${PEERS_DIR}`);
  execFileSync(
    "npm",
    ["install", "--prefix", PEERS_DIR, PM2_SPEC, "--no-audit", "--no-fund", "--loglevel", "error"],
    { stdio: ["ignore", "inherit", "inherit"], timeout: 300_000 },
  );
  if (!existsSync(bin)) throw new Error(`npm install ${PM2_SPEC} left no ${bin}`);
  return bin;
}

/** bench/.peers/node_modules/pm2/bin/pm2: a Node script. */
export function pm2Bin(): string {
  return join(PEERS_DIR, "node_modules", "pm2", "bin", "pm2");
}

export function pm2Version(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(join(PEERS_DIR, "node_modules", "pm2", "package.json"), "utf8"),
    ) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "not installed";
  }
}

/** Absolute path of a Debian tool, or an error that says how to get it. */
export function requireTool(name: string, debianPackage = name): string {
  try {
    return execFileSync("which", [name], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(`${name} is not installed: apt-get install -y ${debianPackage}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const pm2 = ensurePm2((line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`pm2 ${pm2Version()}: ${pm2}\n`);
  for (const tool of ["haproxy", "wrk"]) {
    try {
      process.stdout.write(`${tool}: ${requireTool(tool)}\n`);
    } catch (error) {
      process.stdout.write(`${(error as Error).message}\n`);
    }
  }
}
