/**
 * What the secrets' tests share: `baton secret set` as a user pipes a value into it, and the
 * search for a value in every file under a folder (a state directory must hold none).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CLI, type Project } from "./cli.js";

/** `baton secret set NAME` in the project's folder, the value on stdin; its output. */
export function setSecret(p: Project, name: string, value: string): string {
  return execFileSync(process.execPath, [CLI, "secret", "set", name], {
    cwd: p.dir,
    input: `${value}\n`,
    env: { ...process.env, NO_COLOR: "1" },
    encoding: "utf8",
  });
}

/** Every file under `dir` whose bytes hold `needle` (links are not followed). */
export function filesHolding(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && statSync(path).size < 256 * 1024 * 1024) {
        if (readFileSync(path).includes(needle)) found.push(path);
      }
    }
  };
  walk(dir);
  return found;
}
