import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { baton, ROOT } from "../helpers/cli.js";
import { get } from "../helpers/http.js";

const state = mkdtempSync(join(tmpdir(), "baton-example-"));
const file = join(ROOT, "examples", "hello", "baton.yaml");
const run = (...args: string[]) => baton([...args, "-f", file, "--state", state], { cwd: ROOT });

afterAll(async () => {
  await run("down");
  rmSync(state, { recursive: true, force: true });
});

describe("examples/hello, run where it is as the README says", () => {
  it("serves three replicas on port 8080", async () => {
    const up = await run("up", "--detach");
    expect(up.code, up.stderr).toBe(0);
    const waited = await run("wait", "--timeout", "30s");
    expect(waited.code, waited.stdout + waited.stderr).toBe(0);
    const served = new Set<string>();
    for (let i = 0; i < 6; i++) served.add((await get(8080)).body);
    expect(served.size).toBe(3);
    for (const body of served) expect(body).toMatch(/^hello from Baton \(served by web-/);
  });
});
