import { type IncomingMessage, request } from "node:http";

/** API version every call pins: 1.41 is Docker 20.10, Debian 12's engine; newer ones serve it. */
const API_VERSION = "v1.41";

export class DockerError extends Error {
  override name = "DockerError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The Docker Engine API over its unix socket: `DOCKER_HOST=unix:///path` when set, else
 * /var/run/docker.sock. A thin client — JSON in and out, or the raw response for the
 * streams (events, logs) — so the runtime speaks the API the engine documents, with no
 * CLI in between to parse.
 */
export class DockerEngine {
  readonly socketPath: string;

  constructor(socketPath = socketFromEnv()) {
    this.socketPath = socketPath;
  }

  /** A JSON call; non-2xx answers throw DockerError with the engine's own message. */
  async call<T>(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
    const res = await this.open(method, path, body, timeoutMs);
    const text = await readAll(res);
    if ((res.statusCode ?? 500) >= 300) throw engineError(res.statusCode ?? 500, text, path);
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  /** The raw response of a streaming endpoint (events, logs with follow); non-2xx throws. */
  async stream(path: string, signal?: AbortSignal): Promise<IncomingMessage> {
    const res = await this.open("GET", path, undefined, 0, signal);
    if ((res.statusCode ?? 500) >= 300) {
      throw engineError(res.statusCode ?? 500, await readAll(res), path);
    }
    return res;
  }

  private open(
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          socketPath: this.socketPath,
          method,
          path: `/${API_VERSION}${path}`,
          headers: payload
            ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
            : {},
          ...(signal ? { signal } : {}),
        },
        resolve,
      );
      if (timeoutMs > 0) {
        req.setTimeout(timeoutMs, () =>
          req.destroy(new DockerError(504, `the Docker engine did not answer ${method} ${path}`)),
        );
      }
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT" || error.code === "ECONNREFUSED") {
          reject(
            new DockerError(
              503,
              `no Docker engine answers on ${this.socketPath} (${error.code}); start dockerd, or set DOCKER_HOST`,
            ),
          );
        } else reject(error);
      });
      req.end(payload);
    });
  }
}

function socketFromEnv(): string {
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith("unix://")) return host.slice("unix://".length);
  return "/var/run/docker.sock";
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", reject);
  });
}

function engineError(status: number, text: string, path: string): DockerError {
  let message = text.trim();
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch {
    // not JSON: the text as it came
  }
  return new DockerError(status, `Docker engine: ${message} (${path})`);
}
