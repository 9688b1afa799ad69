/**
 * Vitest's global setup: the whole run gets its own XDG_CONFIG_HOME, so the age keys `apply`
 * and `baton secret` make for each environment (`$XDG_CONFIG_HOME/baton/keys/<env>.age`) land
 * in a folder of the run, removed at its end, and never in the ~/.config of whoever runs the
 * tests. Set before the workers start, so they and every CLI they spawn inherit it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "baton-test-config-"));
  process.env.XDG_CONFIG_HOME = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
