/**
 * The machine Baton runs on, as a host: argv is executed directly (no shell in between), and
 * files are handled with node's fs — unless `become` asks for root and Baton is not root, in
 * which case files go through `sudo` commands like everything else.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { lstat, open, readFile, rename, unlink } from "node:fs/promises";
import { constants } from "node:os";
import { fileType, readFileByExec, statByExec, writeFileByExec } from "../exec-file-ops.js";
import {
  type ExecOptions,
  type ExecResult,
  type FileStat,
  type Transport,
  TransportError,
  type WriteOptions,
} from "../transport.js";

export interface LocalTransportOptions {
  /** Commands through `sudo -n --` (unless Baton already runs as root). */
  readonly become?: boolean;
  /** Default per-command timeout. */
  readonly commandTimeoutMs?: number;
}

function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

export class LocalTransport implements Transport {
  private readonly sudo: boolean;
  private readonly commandTimeoutMs: number;

  constructor(
    readonly host: string,
    options: LocalTransportOptions = {},
  ) {
    this.sudo = options.become === true && process.getuid?.() !== 0;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 300_000;
  }

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const full = this.sudo ? ["sudo", "-n", "--", ...argv] : [...argv];
    const [command, ...args] = full;
    if (command === undefined) return Promise.reject(new Error("an empty command"));
    const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
    return new Promise((resolve, reject) => {
      // Its own process group, so a timeout kills what it started too (a shell's children
      // would otherwise keep running, and keep its output open).
      const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], detached: true });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
        reject(
          new TransportError(
            "transport.timeout",
            this.host,
            `${argv.join(" ").slice(0, 200)} did not finish on ${this.host} within ${timeoutMs} ms`,
            "raise ssh.commandTimeoutMs if the command is just slow",
          ),
        );
      }, timeoutMs);
      child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
      // A command that exits without reading its stdin closes the pipe under us: not an error.
      child.stdin.on("error", () => {});
      child.on("error", (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        // As a shell would report it: 127 for a missing command, 126 for one not executable.
        const code = error.code === "ENOENT" ? 127 : error.code === "EACCES" ? 126 : undefined;
        if (code === undefined) reject(error);
        else
          resolve({
            code,
            stdout: Buffer.alloc(0),
            stderr: Buffer.from(`${command}: ${error.message}\n`),
          });
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        if (timedOut) return;
        const exit = code ?? 128 + (signal !== null ? constants.signals[signal] : 0);
        resolve({ code: exit, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) });
      });
      child.stdin.end(options.stdin);
    });
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    if (this.sudo) return readFileByExec(this.exec.bind(this), this.host, path);
    try {
      return await readFile(path);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async stat(path: string): Promise<FileStat | undefined> {
    if (this.sudo) return statByExec(this.exec.bind(this), this.host, path);
    try {
      const stats = await lstat(path);
      return {
        type: fileType(stats.mode),
        mode: stats.mode & 0o7777,
        uid: stats.uid,
        gid: stats.gid,
        size: stats.size,
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async writeFile(path: string, data: string | Buffer, options: WriteOptions = {}): Promise<void> {
    if (this.sudo) return writeFileByExec(this.exec.bind(this), this.host, path, data, options);
    const uid = options.owner !== undefined ? await this.resolveId("passwd", options.owner) : -1;
    const gid = options.group !== undefined ? await this.resolveId("group", options.group) : -1;
    // Beside the target, so the rename below replaces it in one step on the same filesystem.
    const temporary = `${path}.baton-${randomBytes(6).toString("hex")}`;
    const handle = await open(temporary, "wx", 0o600);
    try {
      await handle.writeFile(data);
      // chmod after chown: chown clears setuid/setgid bits.
      if (uid !== -1 || gid !== -1) await handle.chown(uid, gid);
      await handle.chmod(options.mode ?? 0o644);
      await handle.sync();
      await handle.close();
      await rename(temporary, path);
    } catch (error) {
      await handle.close().catch(() => {});
      await unlink(temporary).catch(() => {});
      throw error;
    }
  }

  async close(): Promise<void> {}

  /** A user or group name (or number) as its numeric id, from the system's databases. */
  private async resolveId(database: "passwd" | "group", name: string): Promise<number> {
    if (/^\d+$/.test(name)) return Number(name);
    const result = await this.exec(["getent", database, name]);
    const id = result.stdout.toString("utf8").split(":")[2];
    if (result.code !== 0 || id === undefined) {
      throw new Error(
        `${this.host}: no ${database === "passwd" ? "user" : "group"} named ${name}: create it first or fix the owner/group`,
      );
    }
    return Number(id);
  }
}
