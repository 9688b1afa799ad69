/** One fresh HTTP GET (no keep-alive, no pooled socket): what a new visitor would see. */
import { request } from "node:http";

export type GetResult =
  | {
      readonly ok: true;
      readonly status: number;
      readonly body: string;
      readonly headers: Readonly<Record<string, string | string[] | undefined>>;
    }
  | { readonly ok: false; readonly error: string };

export function getOnce(port: number, timeoutMs = 6_000, path = "/"): Promise<GetResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: GetResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "GET",
        agent: false,
        headers: { connection: "close" },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          done({
            ok: true,
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            headers: res.headers,
          }),
        );
        res.on("error", (e) => done({ ok: false, error: e.message }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on("error", (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
    req.end();
  });
}
