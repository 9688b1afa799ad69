import { type ChildProcess, spawn } from "node:child_process";
import {
  accessSync,
  chmodSync,
  constants,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./cli.js";
import { eventually } from "./wait.js";

/** A real SMTP server on loopback (Postfix's smtp-sink) that keeps every message in a file. */
export interface SmtpSink {
  readonly port: number;
  /** Each mail transaction as smtp-sink dumped it (its X- headers, then the message). */
  messages(): string[];
  /** The commands it received, as `-v` logs them (only when started with `verbose`). */
  conversation(): string;
  stop(): Promise<void>;
}

const SMTP_SINK = "/usr/sbin/smtp-sink";

/**
 * Starts `smtp-sink -d DIR/%M. 127.0.0.1:PORT 10`. Run as root, it must drop privileges (-u),
 * so the dump directory is made writable for that user. Installing postfix does not start
 * Postfix itself where policy-rc.d denies services (containers); only this process listens.
 */
export async function startSmtpSink(
  options: {
    /** Log each command received (`-v`), AUTH lines included. */
    readonly verbose?: boolean;
    /** Do not offer AUTH after EHLO (`-a`). */
    readonly noAuth?: boolean;
  } = {},
): Promise<SmtpSink> {
  try {
    accessSync(SMTP_SINK, constants.X_OK);
  } catch {
    throw new Error(
      `${SMTP_SINK} not found: DEBIAN_FRONTEND=noninteractive apt-get install -y postfix (it provides smtp-sink)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "baton-smtp-sink-"));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const asRoot = process.getuid?.() === 0 ? ["-u", "nobody"] : [];
  const child: ChildProcess = spawn(
    SMTP_SINK,
    [
      ...asRoot,
      ...(options.verbose === true ? ["-v"] : []),
      ...(options.noAuth === true ? ["-a"] : []),
      "-d",
      join(dir, "%M."),
      `127.0.0.1:${port}`,
      "10",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async () => {
    if (!exited) child.kill("SIGTERM");
    await exit;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      `smtp-sink answers on 127.0.0.1:${port}`,
      () => {
        if (exited) throw new Error(`smtp-sink exited: ${stderr.trim()}`);
        return greets(port);
      },
      (ok) => ok,
      10_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    messages: () =>
      readdirSync(dir)
        .sort()
        .map((name) => readFileSync(join(dir, name), "utf8")),
    conversation: () => stderr,
    stop,
  };
}

/** Whether something on the port sends an SMTP greeting. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.setTimeout(1_000);
    socket.once("data", (chunk) => {
      socket.end("QUIT\r\n");
      resolve(chunk.toString().startsWith("220"));
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}
