/**
 * How Baton reaches a host: over SSH, or the machine it runs on. Everything Baton does to a
 * host goes through this interface, as argv (quoted by `quoteArgv` where a shell is in the
 * way) — never as a command line built by concatenation.
 */
import { BatonError } from "../api/errors.js";

export interface ExecOptions {
  /** Written to the command's stdin, which is then closed. */
  readonly stdin?: string | Buffer;
  /** Kills the command (and fails with `transport.timeout`) after this long. */
  readonly timeoutMs?: number;
}

export interface ExecResult {
  /** The exit code; 128 + n when a signal n ended it. */
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

export interface FileStat {
  readonly type: "file" | "directory" | "symlink" | "other";
  /** Permission bits, e.g. 0o644. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
}

export interface WriteOptions {
  /** Permission bits of the written file; 0o644 by default. */
  readonly mode?: number;
  /** Names (or numeric ids); the transport user's by default. */
  readonly owner?: string;
  readonly group?: string;
}

export interface Transport {
  /** The host's name in the inventory, for messages. */
  readonly host: string;
  /** Runs argv on the host and resolves with its exit code and output, whatever the code. */
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** The file's bytes, or undefined when it does not exist. */
  readFile(path: string): Promise<Buffer | undefined>;
  /** Written atomically: a temporary file beside it, then renamed over it. */
  writeFile(path: string, data: string | Buffer, options?: WriteOptions): Promise<void>;
  /** lstat: a symlink is reported as one. Undefined when nothing is there. */
  stat(path: string): Promise<FileStat | undefined>;
  /** Ends the connection; the transport is not used after. */
  close(): Promise<void>;
}

export type TransportErrorCode =
  | "ssh.unknown_host_key"
  | "ssh.changed_host_key"
  | "ssh.auth_failed"
  | "ssh.unreachable"
  | "ssh.no_identity"
  | "ssh.jump_failed"
  | "transport.timeout"
  | "transport.closed";

/**
 * A host that cannot be reached or used: the user's to fix (trust a key, start sshd, fix the
 * inventory), with the host named and a hint that says how.
 */
export class TransportError extends BatonError {
  override readonly name = "TransportError";
  declare readonly code: TransportErrorCode;

  constructor(
    code: TransportErrorCode,
    readonly host: string,
    message: string,
    hint?: string,
  ) {
    super(code, message, { hint });
  }
}
