/**
 * A host reached over one SSH connection: every command is an exec channel on it (several at
 * once, up to what sshd allows per connection), and files are read and written with commands
 * on those channels, so `become` (sudo) applies to them as to everything else.
 */
import { constants } from "node:os";
import type { Client, ClientChannel } from "ssh2";
import { readFileByExec, statByExec, writeFileByExec } from "../exec-file-ops.js";
import { quoteArgv } from "../quote.js";
import {
  type ExecOptions,
  type ExecResult,
  type FileStat,
  type Transport,
  TransportError,
  type WriteOptions,
} from "../transport.js";

/**
 * sshd's MaxSessions is 10 by default and a channel more is refused, so commands queue here.
 * sshd frees a finished session slightly after telling us it closed, hence the margin (and
 * the retry in execChannel).
 */
const MAX_CHANNELS = 6;
const OPEN_ATTEMPTS = 8;

export class SshTransport implements Transport {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private lost: Error | undefined;
  private closing: Promise<void> | undefined;
  private socketClosed = false;

  constructor(
    readonly host: string,
    private readonly client: Client,
    private readonly become: boolean,
    private readonly commandTimeoutMs: number,
    private readonly closeJumps: () => Promise<void>,
  ) {
    client.on("error", (error) => {
      this.lost = error;
    });
    client.on("close", () => {
      this.socketClosed = true;
      this.lost ??= new Error("the connection closed");
    });
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
    // sshd cannot signal a root login's commands (no privilege separation then), and closing
    // the channel leaves the command running: coreutils' timeout on the host kills it just
    // after our own deadline. Under sudo, so that it may kill what runs as root.
    const backstop = ["timeout", "-s", "KILL", `${(timeoutMs + 1000) / 1000}s`];
    const command = quoteArgv(
      this.become ? ["sudo", "-n", "--", ...backstop, ...argv] : [...backstop, ...argv],
    );
    await this.acquire();
    try {
      return await this.run(command, argv, timeoutMs, options.stdin);
    } finally {
      this.release();
    }
  }

  readFile(path: string): Promise<Buffer | undefined> {
    return readFileByExec(this.exec.bind(this), this.host, path);
  }

  writeFile(path: string, data: string | Buffer, options?: WriteOptions): Promise<void> {
    return writeFileByExec(this.exec.bind(this), this.host, path, data, options);
  }

  stat(path: string): Promise<FileStat | undefined> {
    return statByExec(this.exec.bind(this), this.host, path);
  }

  close(): Promise<void> {
    // A connection already lost has no socket left to end.
    const ended = this.socketClosed ? Promise.resolve() : endClient(this.client);
    this.closing ??= ended.then(this.closeJumps);
    return this.closing;
  }

  private closedError(detail: string): TransportError {
    return new TransportError(
      "transport.closed",
      this.host,
      `the SSH connection to ${this.host} is gone (${detail})`,
      "check the host is up; the next run reconnects",
    );
  }

  private run(
    command: string,
    argv: readonly string[],
    timeoutMs: number,
    stdin: string | Buffer | undefined,
  ): Promise<ExecResult> {
    if (this.closing !== undefined) return Promise.reject(this.closedError("closed by Baton"));
    if (this.lost !== undefined) return Promise.reject(this.closedError(this.lost.message));
    return this.execChannel(command, argv, timeoutMs, stdin).catch((failure: unknown) => {
      if (failure === TIMED_OUT) {
        throw new TransportError(
          "transport.timeout",
          this.host,
          `${argv.join(" ").slice(0, 200)} did not finish on ${this.host} within ${timeoutMs} ms`,
          "raise ssh.commandTimeoutMs if the command is just slow",
        );
      }
      if (failure instanceof TransportError) throw failure;
      const detail = failure instanceof Error ? `: ${failure.message}` : "";
      throw this.closedError(`${argv[0]} ended without an exit status${detail}`);
    });
  }

  private async execChannel(
    command: string,
    argv: readonly string[],
    timeoutMs: number,
    stdin: string | Buffer | undefined,
  ): Promise<ExecResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        // collect() is attached inside the callback, synchronously: a quick command's
        // output, exit status and close can arrive in the same packet batch as the channel,
        // and an `exit` emitted before a listener exists is lost.
        return await new Promise<ExecResult>((resolve, reject) => {
          this.client.exec(command, (error, channel) => {
            if (error) reject(error);
            else collect(channel, timeoutMs, stdin).then(resolve, reject);
          });
        });
      } catch (error) {
        if (error === TIMED_OUT || error instanceof TransportError) throw error;
        if (error instanceof NoExitStatus) throw error;
        const message = (error as Error).message;
        const refused = /open failed|administratively prohibited/i.test(message);
        if (!refused || attempt >= OPEN_ATTEMPTS || this.lost !== undefined) {
          throw this.closedError(`no channel for ${argv[0]}: ${message}`);
        }
        // The refusal is sshd's session limit, briefly exceeded while it frees finished ones.
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
      }
    }
  }

  private async acquire(): Promise<void> {
    if (this.active < MAX_CHANNELS) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next();
    else this.active--;
  }
}

const TIMED_OUT = Symbol("timed out");

/** The channel closed without the command's exit status (the connection went away). */
class NoExitStatus extends Error {}

/** Reads the channel to its end; rejects with TIMED_OUT (after killing it) or without a status. */
function collect(
  channel: ClientChannel,
  timeoutMs: number,
  stdin: string | Buffer | undefined,
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let code: number | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // For a non-root login sshd delivers the signal at once (root's commands are left to
      // the timeout backstop). sshd closes the channel only once the command is gone: the
      // caller does not wait for that.
      sendKill(channel);
      channel.close();
      reject(TIMED_OUT);
    }, timeoutMs);
    channel.on("data", (chunk: Buffer) => stdout.push(chunk));
    channel.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    channel.on("exit", (exitCode: number | null, signal?: string) => {
      if (exitCode !== null) code = exitCode;
      else {
        // ssh2 reports `SIGTERM`; the protocol carries `TERM`.
        const name = (signal ?? "").replace(/^(SIG)?/, "SIG") as NodeJS.Signals;
        code = 128 + (constants.signals[name] ?? 0);
      }
    });
    channel.on("close", () => {
      clearTimeout(timer);
      if (timedOut) return;
      if (code === undefined) {
        const said = Buffer.concat(stderr).toString("utf8").trim().slice(0, 300);
        reject(
          new NoExitStatus(said === "" ? "no exit status" : `no exit status; stderr: ${said}`),
        );
      } else resolve({ code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) });
    });
    channel.end(stdin);
  });
}

/**
 * ssh2's `channel.signal()` sends nothing once our side of the channel is ended (stdin
 * closed), which is how every command here runs; the protocol layer underneath sends the
 * request regardless, so it is called directly. sshd (OpenSSH ≥ 7.9) then kills the
 * command's process group.
 */
function sendKill(channel: ClientChannel): void {
  const internals = channel as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal?: (id: number, signal: string) => void } };
  };
  const id = internals.outgoing?.id;
  const protocol = internals._client?._protocol;
  if (
    id === undefined ||
    (internals.outgoing?.state !== "open" && internals.outgoing?.state !== "eof") ||
    protocol?.signal === undefined
  )
    return;
  try {
    protocol.signal(id, "KILL");
  } catch {
    // the connection is going away: nothing left to kill through it
  }
}

/** Ends the connection and waits until its socket is closed. */
export function endClient(client: Client): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2_000);
    timer.unref();
    client.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    client.end();
  });
}
