import { execFile } from "node:child_process";
import { DeliveryError } from "../errors.js";

export interface GitResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunGitOptions {
  /** Killed after this long (a remote that never answers must not hold a run forever). */
  readonly timeoutMs?: number;
  readonly cwd?: string;
  /**
   * Git must not look for a repository above this folder: a plain folder given as a
   * repository would otherwise be read as whatever repository contains it.
   */
  readonly ceiling?: string;
}

/**
 * Variables git sets for the hooks it runs; inherited (the controller started from a hook, a
 * test run from one), they would point every `git -C` here at some other repository.
 */
const REPOSITORY_VARIABLES = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_QUARANTINE_PATH",
  "GIT_NAMESPACE",
  "GIT_COMMON_DIR",
  "GIT_PREFIX",
];

function gitEnvironment(ceiling: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of REPOSITORY_VARIABLES) delete env[name];
  if (ceiling !== undefined) env.GIT_CEILING_DIRECTORIES = ceiling;
  // Nobody is there to type a password: fail at once instead of waiting on a prompt.
  env.GIT_TERMINAL_PROMPT = "0";
  env.GCM_INTERACTIVE = "never";
  if (env.GIT_SSH_COMMAND === undefined && env.GIT_SSH === undefined) {
    env.GIT_SSH_COMMAND = "ssh -o BatchMode=yes";
  }
  env.LC_ALL = "C";
  return env;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * Runs real git and returns its exit code and output; callers turn failures into
 * DeliveryErrors, since only they know which repository and branch it was about.
 */
export function runGit(args: readonly string[], options: RunGitOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      {
        env: gitEnvironment(options.ceiling),
        cwd: options.cwd,
        timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
        encoding: "utf8",
      },
      (error, stdout, stderr) => {
        if (error === null) return resolve({ code: 0, stdout, stderr });
        const cause = error as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
        if (cause.code === "ENOENT") {
          return reject(
            new DeliveryError(
              "git-missing",
              "git is not installed on the controller's host: pipelines need it to read their repositories",
              "install git (Debian: apt-get install git)",
            ),
          );
        }
        if (cause.killed === true) {
          return resolve({
            code: 124,
            stdout,
            stderr: `${stderr}\n(git ${args[0] ?? ""} did not finish within ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms)`,
          });
        }
        resolve({ code: typeof cause.code === "number" ? cause.code : 1, stdout, stderr });
      },
    );
  });
}
