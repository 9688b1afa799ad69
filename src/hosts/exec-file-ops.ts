/**
 * readFile, writeFile and stat done with commands on the host (sh, cat, stat, mktemp, mv), so
 * they go through the same channel — and the same `sudo` — as every other command. The
 * scripts are fixed text; paths and names reach them only as positional arguments.
 */
import type { ExecOptions, ExecResult, FileStat, WriteOptions } from "./transport.js";

export type Exec = (argv: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

/** The exit code the scripts below use for "nothing is there". */
const ABSENT = 3;

const READ = `[ -e "$1" ] || exit ${ABSENT}; exec cat -- "$1"`;
const STAT = `[ -e "$1" ] || [ -L "$1" ] || exit ${ABSENT}; exec stat -c '%f %u %g %s' -- "$1"`;
// The temporary file sits beside the target, so mv is a rename on one filesystem: readers
// see the old content or the new, never a part. The trap removes it when a step fails.
// install sets owner, group and mode on the file it makes (no chown or chmod by name, which a
// link swapped in would redirect); a link at the target is replaced by mv, never followed.
const WRITE = [
  "set -e",
  'tmp=$(mktemp "$1.baton-XXXXXX")',
  "trap 'rm -f \"$tmp\"' EXIT",
  'install ${3:+-o "$3"} ${4:+-g "$4"} -m "$2" /dev/stdin "$tmp"',
  'mv -f -- "$tmp" "$1"',
  "trap - EXIT",
].join("\n");

export class FileOpError extends Error {
  override readonly name = "FileOpError";
}

function failure(host: string, what: string, path: string, result: ExecResult): FileOpError {
  const stderr = result.stderr.toString("utf8").trim();
  return new FileOpError(
    `${host}: cannot ${what} ${path}: ${stderr || `exit code ${result.code}`}`,
  );
}

export async function readFileByExec(
  exec: Exec,
  host: string,
  path: string,
): Promise<Buffer | undefined> {
  const result = await exec(["sh", "-c", READ, "sh", path]);
  if (result.code === ABSENT) return undefined;
  if (result.code !== 0) throw failure(host, "read", path, result);
  return result.stdout;
}

export async function writeFileByExec(
  exec: Exec,
  host: string,
  path: string,
  data: string | Buffer,
  options: WriteOptions = {},
): Promise<void> {
  const mode = (options.mode ?? 0o644).toString(8).padStart(4, "0");
  const argv = ["sh", "-c", WRITE, "sh", path, mode, options.owner ?? "", options.group ?? ""];
  const result = await exec(argv, { stdin: data });
  if (result.code !== 0) throw failure(host, "write", path, result);
}

export async function statByExec(
  exec: Exec,
  host: string,
  path: string,
): Promise<FileStat | undefined> {
  const result = await exec(["sh", "-c", STAT, "sh", path]);
  if (result.code === ABSENT) return undefined;
  if (result.code !== 0) throw failure(host, "stat", path, result);
  return parseStat(result.stdout.toString("utf8"), host, path);
}

/** `%f %u %g %s` of GNU stat: the raw mode in hex, uid, gid, size. */
export function parseStat(line: string, host: string, path: string): FileStat {
  const [rawMode, uid, gid, size] = line.trim().split(" ");
  const mode = Number.parseInt(rawMode ?? "", 16);
  if (Number.isNaN(mode) || uid === undefined || gid === undefined || size === undefined) {
    throw new FileOpError(`${host}: unexpected stat output for ${path}: ${line.trim()}`);
  }
  return {
    type: fileType(mode),
    mode: mode & 0o7777,
    uid: Number(uid),
    gid: Number(gid),
    size: Number(size),
  };
}

/** The S_IFMT bits of a mode. */
export function fileType(mode: number): FileStat["type"] {
  switch (mode & 0o170000) {
    case 0o100000:
      return "file";
    case 0o040000:
      return "directory";
    case 0o120000:
      return "symlink";
    default:
      return "other";
  }
}
