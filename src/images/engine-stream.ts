import { type IncomingMessage, request } from "node:http";

/** The API version the runtime pins too (runtime/docker/engine.ts): Debian 12's engine. */
const API_VERSION = "v1.41";

/** One line of a build or push progress stream. */
export interface ProgressMessage {
  readonly stream?: string;
  readonly status?: string;
  readonly id?: string;
  readonly progress?: string;
  readonly error?: string;
  readonly errorDetail?: { readonly message?: string };
  readonly aux?: { readonly ID?: string; readonly Tag?: string; readonly Digest?: string };
}

/** The engine refused the call itself (non-2xx), before any progress. */
export class EngineCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A POST to the Engine API whose answer is a stream of JSON lines (build, push), each handed
 * to `onMessage` as it arrives, so progress reaches the terminal while the engine works.
 */
export function postProgress(
  socketPath: string,
  path: string,
  options: { body?: Buffer; headers?: Record<string, string>; signal?: AbortSignal },
  onMessage: (message: ProgressMessage) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method: "POST",
        path: `/${API_VERSION}${path}`,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        headers: {
          ...(options.body === undefined ? {} : { "content-length": options.body.length }),
          ...options.headers,
        },
      },
      (res) => {
        void readLines(res, onMessage).then(resolve, reject);
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "ENOENT" || error.code === "ECONNREFUSED"
          ? new EngineCallError(
              503,
              `no Docker engine answers on ${socketPath} (${error.code}); start dockerd, or set DOCKER_HOST`,
            )
          : error,
      );
    });
    req.end(options.body);
  });
}

async function readLines(
  res: IncomingMessage,
  onMessage: (message: ProgressMessage) => void,
): Promise<void> {
  const status = res.statusCode ?? 500;
  if (status >= 300) {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8").trim();
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // not JSON: the text as it came
    }
    throw new EngineCallError(status, message);
  }
  let rest = "";
  for await (const chunk of res) {
    const lines = (rest + (chunk as Buffer).toString("utf8")).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) if (line.trim() !== "") onMessage(parse(line));
  }
  if (rest.trim() !== "") onMessage(parse(rest));
}

function parse(line: string): ProgressMessage {
  try {
    return JSON.parse(line) as ProgressMessage;
  } catch {
    return { stream: `${line}\n` };
  }
}
