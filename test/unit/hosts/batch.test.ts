/**
 * The batch runner against this machine's shell, on files in a temporary folder: what one
 * host's observe and apply cost in round trips, and how a failure stops the host.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CommandResource, HostResource } from "../../../src/definition/host-model.js";
import { applyAll, CountingTransport, observeAll, runHandlers } from "../../../src/hosts/batch.js";
import type { ExecOptions, ExecResult, Transport } from "../../../src/hosts/transport.js";

/** Runs argv here, no shell in between: the smallest transport there is. */
const here: Transport = {
  host: "here",
  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1));
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
      child.on("error", reject);
      child.on("close", (code) =>
        resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }),
      );
      child.stdin.end(options.stdin ?? "");
    });
  },
  readFile: () => Promise.reject(new Error("not used")),
  writeFile: () => Promise.reject(new Error("not used")),
  stat: () => Promise.reject(new Error("not used")),
  close: () => Promise.resolve(),
};

const dir = mkdtempSync(join(tmpdir(), "baton-batch-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const common = { keep: false, notify: [] as string[] };

function tree(root: string, count: number): HostResource[] {
  const resources: HostResource[] = [
    { ...common, module: "directory", path: root, mode: "0750", state: "present" },
  ];
  for (let i = 0; i < count; i++) {
    resources.push({
      ...common,
      module: "file",
      path: join(root, `f${i}'$x`),
      content: `line ${i}\n$HOME\n`,
      mode: "0600",
      secret: false,
      state: "present",
    });
  }
  return resources;
}

function keyed(resources: readonly HostResource[]) {
  return resources.map((resource, key) => ({ key, resource }));
}

describe("observeAll / applyAll", () => {
  it("observe is one round trip, apply another; then the host is in state", async () => {
    const resources = tree(join(dir, "app"), 20);
    const transport = new CountingTransport(here);
    const first = await observeAll(transport, keyed(resources));
    expect(transport.roundTrips).toBe(1);
    expect([...first.values()].every((o) => o.changes.length > 0 && o.error === undefined)).toBe(
      true,
    );
    const outcomes = await applyAll(
      transport,
      [...first].map(([key, o]) => ({ key, resource: resources[key]!, ...o })),
    );
    expect(transport.roundTrips).toBe(2);
    expect([...outcomes.values()].every((o) => o.status === "changed")).toBe(true);
    expect(statSync(join(dir, "app")).mode & 0o7777).toBe(0o750);
    expect(readFileSync(join(dir, "app", "f3'$x"), "utf8")).toBe("line 3\n$HOME\n");

    const second = await observeAll(transport, keyed(resources));
    expect([...second.values()].every((o) => o.changes.length === 0)).toBe(true);
    const none = await applyAll(
      transport,
      [...second].map(([key, o]) => ({ key, resource: resources[key]!, ...o })),
    );
    expect(transport.roundTrips).toBe(3); // nothing to apply: no round trip
    expect([...none.values()].every((o) => o.status === "unchanged")).toBe(true);
  });

  it("a failing step stops the host: before it changed, it failed, after it skipped", async () => {
    const blocker = join(dir, "blocker");
    writeFileSync(blocker, "a file where a directory should be\n");
    const resources: HostResource[] = [
      { ...common, module: "directory", path: join(dir, "ok"), state: "present" },
      {
        ...common,
        module: "file",
        path: join(blocker, "file"),
        content: "x",
        secret: false,
        state: "present",
      },
      { ...common, module: "directory", path: join(dir, "later"), state: "present" },
    ];
    const observed = await observeAll(here, keyed(resources));
    const outcomes = await applyAll(
      here,
      [...observed].map(([key, o]) => ({ key, resource: resources[key]!, ...o })),
    );
    expect(outcomes.get(0)).toEqual({ status: "changed" });
    expect(outcomes.get(1)?.status).toBe("failed");
    expect(outcomes.get(1)?.error).toMatch(
      /^sh -c … sh .*blocker\/file 0644 {2}exited 1: .*Not a directory/,
    );
    expect(outcomes.get(2)).toEqual({ status: "skipped" });
  });

  it("consecutive directories are made by one mkdir, and fail together", async () => {
    const blocker = join(dir, "blocker2");
    writeFileSync(blocker, "a file\n");
    const resources: HostResource[] = [
      { ...common, module: "directory", path: join(dir, "m1"), state: "present" },
      { ...common, module: "directory", path: join(blocker, "sub"), state: "present" },
    ];
    const observed = await observeAll(here, keyed(resources));
    const outcomes = await applyAll(
      here,
      [...observed].map(([key, o]) => ({ key, resource: resources[key]!, ...o })),
    );
    expect(outcomes.get(0)?.status).toBe("failed");
    expect(outcomes.get(1)?.error).toMatch(
      /^mkdir -p -- .*m1 .*blocker2\/sub exited 1: .*Not a directory/,
    );
  });

  it("a resource that cannot be planned carries its error; the others are planned", async () => {
    const resources: HostResource[] = [
      { ...common, module: "directory", path: join(dir, "bad"), mode: "999", state: "present" },
      { ...common, module: "directory", path: join(dir, "good"), state: "present" },
    ];
    const observed = await observeAll(here, keyed(resources));
    expect(observed.get(0)?.error).toMatch(/"999" is not an octal file mode/);
    expect(observed.get(1)?.changes).toHaveLength(1);
  });

  it("a guarded command's note reaches the plan", async () => {
    const command: CommandResource = {
      ...common,
      module: "command",
      name: "seed",
      argv: ["touch", join(dir, "seeded")],
      creates: dir,
      handler: false,
    };
    const observed = await observeAll(here, [{ key: "seed", resource: command }]);
    expect(observed.get("seed")).toMatchObject({ changes: [], note: `skipped: ${dir} exists` });
  });

  it("nothing to observe is no round trip", async () => {
    const transport = new CountingTransport(here);
    expect((await observeAll(transport, [])).size).toBe(0);
    expect(transport.roundTrips).toBe(0);
  });
});

describe("runHandlers", () => {
  it("runs the notified handlers in one round trip, stopping at a failure", async () => {
    const handler = (name: string, argv: string[]): CommandResource => ({
      ...common,
      module: "command",
      name,
      argv,
      handler: true,
    });
    const transport = new CountingTransport(here);
    const outcomes = await runHandlers(transport, [
      handler("mark", ["touch", join(dir, "handled")]),
      handler("fail", ["sh", "-c", "echo nope >&2; exit 2"]),
      handler("after", ["true"]),
    ]);
    expect(transport.roundTrips).toBe(1);
    expect(outcomes.get("mark")).toEqual({ status: "changed" });
    expect(outcomes.get("fail")).toEqual({
      status: "failed",
      error: "sh -c echo nope >&2; exit 2 exited 2: nope",
    });
    expect(outcomes.get("after")).toEqual({ status: "skipped" });
    expect(statSync(join(dir, "handled")).isFile()).toBe(true);
  });
});
