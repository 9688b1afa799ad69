import { request as httpRequest } from "node:http";

export interface ApiAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * One call to a controller's API: JSON in, JSON out, bearer token. Rejects only when the
 * controller cannot be reached; any HTTP status is an answer. An answer that is not JSON
 * becomes `{ error: { code: "api.bad_answer" } }`.
 */
// node:http, not fetch: fetch loads undici on first use, ~0.1 s of every CLI call here.
export function apiRequest(
  api: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${api}${path}`,
      {
        method,
        // No keep-alive: an idle pooled socket would hold the CLI's exit for seconds.
        agent: false,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: Record<string, unknown> = {};
          try {
            parsed = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
          } catch {
            parsed = { error: { code: "api.bad_answer", message: text.slice(0, 200) } };
          }
          resolve({ status: res.statusCode ?? 500, body: parsed });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}
