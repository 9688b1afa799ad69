import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { stateWorkspaces } from "../../src/security/sandbox/index.js";

export const ROOT = resolve(import.meta.dirname, "..", "..");
export const CLI = join(ROOT, "dist", "bin", "baton.js");
export const TEST_APP = join(ROOT, "test", "fixtures", "apps", "app.cjs");

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `baton` CLI as a user would, in `cwd`, and collects what it printed. */
export function baton(
  args: readonly string[],
  options: { cwd: string; timeoutMs?: number; env?: Record<string, string> },
): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 60_000,
        // BATON_TOKEN unset: a token of the shell running the tests would be sent instead of
        // the state directory's own.
        env: { ...process.env, NO_COLOR: "1", BATON_STATE: "", BATON_TOKEN: "", ...options.env },
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** A temporary project folder holding a definition, removed by `cleanup`. */
export class Project {
  readonly dir: string;
  readonly stateDir: string;

  constructor(definition: string, files: Record<string, string> = {}) {
    this.dir = mkdtempSync(join(tmpdir(), "baton-test-"));
    this.stateDir = join(this.dir, ".baton");
    this.write("baton.yaml", definition);
    for (const [name, content] of Object.entries(files)) this.write(name, content);
  }

  write(name: string, content: string): void {
    mkdirSync(dirname(join(this.dir, name)), { recursive: true });
    writeFileSync(join(this.dir, name), content);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  run(...args: string[]): Promise<CliResult> {
    return baton(args, { cwd: this.dir });
  }

  /** Runs and fails the test with everything printed when the exit code differs. */
  async ok(...args: string[]): Promise<CliResult> {
    const result = await this.run(...args);
    if (result.code !== 0) {
      throw new Error(
        `baton ${args.join(" ")} exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
      );
    }
    return result;
  }

  async status(): Promise<StatusJson> {
    return JSON.parse((await this.ok("status", "--json")).stdout) as StatusJson;
  }

  /** A GET on the running controller's API, as a script with the token would do it. */
  async api(path: string): Promise<unknown> {
    const { controller } = await this.status();
    const token = readFileSync(join(this.stateDir, "api-token"), "utf8").trim();
    const res = await fetch(`${controller.api}${path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return res.json();
  }

  /** `baton down` (stops everything it started), then removes the folder. */
  async cleanup(): Promise<void> {
    await this.run("down");
    // Runs' checkouts live outside the state directories (/var/lib/baton-steps/<hash>/).
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith(".baton")) {
        rmSync(stateWorkspaces(join(this.dir, name)), { recursive: true, force: true });
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface StatusJson {
  controller: {
    pid: number;
    api: string;
    proxyPid: number | null;
    definition: { file: string; revision: number; hash: string };
  };
  apps: {
    name: string;
    revision: string;
    desired: number;
    ready: number;
    state: string;
    detail?: string;
    rollout?: {
      id: number;
      state: string;
      from: string | null;
      to: string;
      reason: string | null;
      lastOutput: string[];
    };
    replicas: {
      id: string;
      pid: number | null;
      port: number | null;
      state: string;
      ready: boolean;
      revision: string;
      restarts: number;
      runtime?: string;
      container?: string;
      image?: string;
      cpuSeconds?: number;
      memoryBytes?: number;
    }[];
  }[];
}

/**
 * Ports a test writes into a definition, taken below the kernel's ephemeral range (32768+):
 * a port picked there and released could be handed by the kernel to another test's
 * controller (its API, a replica) before this test's proxy binds it — seen once as a 401
 * from someone else's API on the port a test hit. Each is checked free by binding it, and
 * never handed out twice by one process.
 */
const TEST_PORTS = { first: 20_000, count: 12_000 };
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = TEST_PORTS.first + Math.floor(Math.random() * TEST_PORTS.count);
    if (handedOut.has(port)) continue;
    if (await canBind(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(
    `no free port in ${TEST_PORTS.first}-${TEST_PORTS.first + TEST_PORTS.count - 1} after 100 tries`,
  );
}

function canBind(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(false));
    server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}
