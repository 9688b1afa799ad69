import { spawn } from "node:child_process";
import { basename } from "node:path";
import { signalGroup } from "../../util/proc.js";
import type { Notification } from "../alerts/types.js";
import { type Notifier, NotifierError } from "./notifier.js";
import { webhookPayload } from "./webhook-payload.js";

export interface CommandOptions {
  /** Program and arguments, run without a shell. */
  readonly argv: readonly string[];
  /** Killed (SIGKILL, with every process it started) after this long. */
  readonly timeoutMs?: number;
  readonly cwd?: string;
  /**
   * Its whole environment. By default only PATH, HOME and LANG: the controller's own
   * environment may hold secrets a notification script has no business seeing.
   */
  readonly env?: NodeJS.ProcessEnv;
}

/** The last bytes of a failed command's stderr, kept apart from the message (it may hold secrets). */
export class CommandNotifierError extends NotifierError {
  constructor(
    receiver: string,
    target: string,
    reason: string,
    readonly stderrTail: string,
  ) {
    super(receiver, target, reason);
  }
}

/**
 * Runs a program per batch with the webhook JSON on its stdin; exit 0 is delivered. Its
 * arguments may carry tokens, so only the program's name appears in errors.
 */
export class CommandNotifier implements Notifier {
  readonly target: string;
  private readonly timeoutMs: number;

  constructor(
    readonly receiver: string,
    private readonly options: CommandOptions,
  ) {
    const program = options.argv[0];
    if (program === undefined || program === "") {
      throw new Error(
        `notifier "${receiver}": command needs a program, e.g. [/usr/local/bin/page, --team, ops]`,
      );
    }
    this.target = `command ${basename(program)}`;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  send(batch: Notification): Promise<void> {
    const [program, ...args] = this.options.argv as [string, ...string[]];
    return new Promise((resolve, reject) => {
      const child = spawn(program, args, {
        stdio: ["pipe", "ignore", "pipe"],
        cwd: this.options.cwd,
        env: this.options.env ?? minimalEnv(),
        // Its own process group, so a timeout also ends what a script started in the background.
        detached: true,
      });
      let stderr = "";
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        if (child.pid === undefined || !signalGroup(child.pid, "SIGKILL")) child.kill("SIGKILL");
      }, this.timeoutMs);
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (chunk: string) => {
        stderr = (stderr + chunk).slice(-2000);
      });
      // A program that exits without reading its stdin closes the pipe: not our failure.
      child.stdin.on("error", () => {});
      child.stdin.end(JSON.stringify(webhookPayload(batch)));
      const fail = (reason: string) =>
        reject(new CommandNotifierError(this.receiver, this.target, reason, stderr));
      child.on("error", (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        fail(
          `could not start (${error.code ?? error.message}); check the path and that it is executable`,
        );
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        if (timedOut) fail(`killed after ${this.timeoutMs} ms without finishing`);
        else if (code === 0) resolve();
        else fail(code === null ? `ended by ${signal}` : `exited with status ${code}`);
      });
    });
  }
}

function minimalEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ["PATH", "HOME", "LANG"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
