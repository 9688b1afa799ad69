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

/** sshd's MaxSessions is 10 by default; a channel more is refused, so we queue instead. */
const MAX_CHANNELS = 8;

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
    const command = quoteArgv(this.become ? ["sudo", "-n", "--", ...argv] : argv);
    await this.acquire();
    try {
      return await this.run(command, argv, options);
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

  private run(command: string, argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
    if (this.closing !== undefined) return Promise.reject(this.closedError("closed by Baton"));
    if (this.lost !== undefined) return Promise.reject(this.closedError(this.lost.message));
    const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, channel) => {
        if (error) {
          reject(this.closedError(`no channel for ${argv[0]}: ${error.message}`));
          return;
        }
        collect(channel, timeoutMs, options.stdin).then(
          (result) => resolve(result),
          (failure: unknown) => {
            if (failure === TIMED_OUT) {
              reject(
                new TransportError(
                  "transport.timeout",
                  this.host,
                  `${argv.join(" ").slice(0, 200)} did not finish on ${this.host} within ${timeoutMs} ms`,
                  "raise ssh.commandTimeoutMs if the command is just slow",
                ),
              );
            } else reject(this.closedError(`${argv[0]} ended without an exit status`));
          },
        );
      });
    });
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
      // sshd (OpenSSH ≥ 7.9) delivers the signal; closing the channel alone would leave a
      // command that reads no stdin running on the host.
      try {
        channel.signal("KILL");
      } catch {
        // the channel may already be closing
      }
      channel.close();
    }, timeoutMs);
    channel.on("data", (chunk: Buffer) => stdout.push(chunk));
    channel.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    channel.on("exit", (exitCode: number | null, signal?: string) => {
      if (exitCode !== null) code = exitCode;
      else code = 128 + (constants.signals[`SIG${signal}` as NodeJS.Signals] ?? 0);
    });
    channel.on("close", () => {
      clearTimeout(timer);
      if (timedOut) reject(TIMED_OUT);
      else if (code === undefined) reject(new Error("no exit status"));
      else resolve({ code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) });
    });
    channel.end(stdin);
  });
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
