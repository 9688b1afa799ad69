import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";

const SPARE_PREFIX = "spare-";

/**
 * Node cannot make a FIFO itself, and running `mkfifo` costs ~10 ms: too much on the path
 * of replacing a crashed replica. So FIFOs are made ahead, in the background, and a start
 * only renames one into place.
 */
export class FifoPool {
  private spares: string[];
  private refilling = false;

  constructor(
    private readonly dir: string,
    private readonly size = 4,
  ) {
    this.spares = readdirSync(dir)
      .filter((name) => name.startsWith(SPARE_PREFIX))
      .map((name) => join(dir, name));
    this.refill();
  }

  /** Puts a FIFO at `path` (mode 0600), from the pool when one is ready. */
  take(path: string): void {
    rmSync(path, { force: true });
    const spare = this.spares.pop();
    this.refill();
    if (spare !== undefined) {
      try {
        renameSync(spare, path);
        return;
      } catch {
        // removed under us: make one now
      }
    }
    const made = spawnSync("mkfifo", ["-m", "0600", path]);
    if (made.status !== 0)
      throw new Error(`mkfifo ${path} failed: ${made.stderr.toString().trim()}`);
  }

  private refill(): void {
    if (this.refilling || this.spares.length >= this.size) return;
    this.refilling = true;
    const path = join(this.dir, `${SPARE_PREFIX}${randomBytes(6).toString("hex")}`);
    const child = execFile("mkfifo", ["-m", "0600", path], (error) => {
      this.refilling = false;
      if (error === null) {
        this.spares.push(path);
        this.refill();
      }
    });
    // Making spares must never keep a finished CLI or controller alive.
    child.unref();
  }
}
