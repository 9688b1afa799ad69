/**
 * Trees of a step's files that the controller keeps under the state directory (caches,
 * artifacts) are the controller's alone: group and other bits go on the way in. A cache
 * restored into a checkout gets them back as a umask of 022 would have made them (readable,
 * executables and folders searchable), for a step in a container whose image runs as
 * another user.
 */
import { execFile } from "node:child_process";

/**
 * Drops every group and other bit under `dir` (links untouched) and, for a root controller,
 * takes the files back from the step's user (`cp -a` kept it).
 */
export async function closeTree(dir: string): Promise<void> {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) await run("chown", ["-R", "-P", "-h", "0:0", "--", dir]);
  await run("chmod", ["-R", "go-rwxst", "--", dir]);
}

/** Lets group and others read `dir`'s files and search its folders, as a fresh checkout does. */
export function openTreeForReading(dir: string): Promise<void> {
  return run("chmod", ["-R", "go+rX", "--", dir]);
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((done, fail) => {
    execFile(command, args, { timeout: 120_000 }, (error, _out, stderr) =>
      error === null
        ? done()
        : fail(new Error(`${command} ${args.join(" ")}: ${stderr.trim() || error.message}`)),
    );
  });
}
