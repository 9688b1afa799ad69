/**
 * A Transport into a running container, for tests of the host modules without SSH:
 * exec(argv) is `docker exec -i CONTAINER argv...` — argv passed as separate arguments, no
 * shell in between, exactly as the modules' commands reach a host.
 */
import { spawn } from "node:child_process";
import type {
  ExecOptions,
  ExecResult,
  FileStat,
  Transport,
  WriteOptions,
} from "../../src/hosts/transport.js";
import { TransportError } from "../../src/hosts/transport.js";

export class ContainerTransport implements Transport {
  constructor(
    readonly container: string,
    readonly host: string = container,
  ) {}

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const child = spawn("docker", ["exec", "-i", this.container, ...argv], {
        stdio: ["pipe", "pipe", "pipe"],
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              child.kill("SIGKILL");
              reject(
                new TransportError(
                  "transport.timeout",
                  this.host,
                  `${argv.join(" ")} did not end within ${options.timeoutMs} ms`,
                ),
              );
            }, options.timeoutMs);
      child.on("error", (error) => {
        if (timer) clearTimeout(timer);
        reject(error);
      });
      child.on("close", (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({
          code: code ?? 128 + (signal === "SIGKILL" ? 9 : 15),
          stdout: Buffer.concat(stdout),
          stderr: Buffer.concat(stderr),
        });
      });
      child.stdin.on("error", () => {}); // a command that exits without reading its stdin
      child.stdin.end(options.stdin ?? "");
    });
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    const result = await this.exec(["sh", "-c", 'test -f "$1" || exit 3; cat -- "$1"', "sh", path]);
    if (result.code === 3) return undefined;
    if (result.code !== 0) throw new Error(`reading ${path}: ${result.stderr.toString()}`);
    return result.stdout;
  }

  async writeFile(path: string, data: string | Buffer, options: WriteOptions = {}): Promise<void> {
    const mode = (options.mode ?? 0o644).toString(8);
    const owner = [options.owner ?? "", options.group ? `:${options.group}` : ""].join("");
    const script =
      't=$(mktemp -- "$1.XXXXXX") && cat > "$t" && chmod "$2" "$t" && { [ -z "$3" ] || chown "$3" "$t"; } && mv -f -- "$t" "$1"';
    const result = await this.exec(["sh", "-c", script, "sh", path, mode, owner], { stdin: data });
    if (result.code !== 0) throw new Error(`writing ${path}: ${result.stderr.toString()}`);
  }

  async stat(path: string): Promise<FileStat | undefined> {
    const result = await this.exec([
      "sh",
      "-c",
      'if [ ! -e "$1" ] && [ ! -L "$1" ]; then exit 3; fi; stat -c "%f %u %g %s" -- "$1"',
      "sh",
      path,
    ]);
    if (result.code === 3) return undefined;
    if (result.code !== 0) throw new Error(`stat ${path}: ${result.stderr.toString()}`);
    const [rawMode = "0", uid = "0", gid = "0", size = "0"] = result.stdout
      .toString()
      .trim()
      .split(" ");
    const bits = Number.parseInt(rawMode, 16);
    const format = bits & 0o170000;
    const type =
      format === 0o100000
        ? "file"
        : format === 0o040000
          ? "directory"
          : format === 0o120000
            ? "symlink"
            : "other";
    return { type, mode: bits & 0o7777, uid: Number(uid), gid: Number(gid), size: Number(size) };
  }

  async close(): Promise<void> {}
}
