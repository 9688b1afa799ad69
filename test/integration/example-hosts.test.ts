/**
 * examples/hosts as the README has a newcomer run it: two throwaway Debian hosts started by
 * its script on 127.0.0.1:2201 and :2202, then `baton plan` and `baton apply` in the
 * example's folder (nginx from the Debian mirror, a site, a user, a handler), a second
 * apply that changes nothing, drift found and put back, parity, and the script's `down`.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { baton, ROOT } from "../helpers/cli.js";
import { docker } from "../helpers/docker.js";

const EXAMPLE = join(ROOT, "examples", "hosts");

function script(command: "up" | "down"): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(EXAMPLE, "test-hosts.ts"), command],
      { cwd: ROOT, timeout: 600_000 },
      (error, stdout, stderr) =>
        error === null ? resolve(stdout) : reject(new Error(`${command}: ${stderr || error}`)),
    );
  });
}

const run = (...args: string[]) => baton(args, { cwd: EXAMPLE, timeoutMs: 300_000 });

afterAll(async () => {
  await script("down");
}, 120_000);

describe("examples/hosts, run where it is as the README says", () => {
  it("configures both hosts, then finds nothing to change, then finds and heals drift", async () => {
    const started = await script("up");
    const prod = /^(\S+): ssh -p 2202/m.exec(started)?.[1];
    expect(prod, started).toBeDefined();

    const plan = await run("plan");
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(
      /web-prod: 8 to change, 0 unchanged, handlers to run: reload nginx/,
    );
    // nginx is not installed yet: prod's requirement is unmet in the plan.
    expect(plan.stdout).toMatch(/web-prod has no package nginx; environment prod requires/);

    const apply = await run("apply");
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/web-dev: 8 changed, 0 unchanged, handlers run: reload nginx/);
    // Once applied, the requirement holds: asked again after the change.
    expect(apply.stdout).not.toMatch(/requirement/);
    expect(await docker(["exec", prod ?? "", "cat", "/srv/site/index.html"])).toBe(
      "<h1>Hello from prod</h1>\n",
    );

    const again = await run("apply", "--json");
    const hosts = (JSON.parse(again.stdout) as { hosts: { changed: unknown[] }[] }).hosts;
    expect(hosts.map((h) => h.changed.length)).toEqual([0, 0]);

    await docker(["exec", prod ?? "", "chmod", "666", "/srv/site/index.html"]);
    const drift = await run("drift");
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain("mode: 0666 → 0644");
    expect((await run("apply")).code).toBe(0);
    expect((await run("drift")).code).toBe(0);

    const parity = await run("parity", "dev", "prod");
    expect(parity.stdout).toMatch(/dev and prod: no difference/);
  }, 600_000);
});
