import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh state directory per test, removed afterwards with everything in it. */
export function tempStateDirs(): { make(): string; cleanup(): void } {
  const made: string[] = [];
  return {
    make() {
      const root = mkdtempSync(join(tmpdir(), "baton-store-"));
      made.push(root);
      return join(root, "state");
    },
    cleanup() {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
