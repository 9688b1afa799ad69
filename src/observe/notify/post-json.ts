import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { NotifierError } from "./notifier.js";

export interface PostTarget {
  readonly receiver: string;
  /** Safe description for errors (see safeTarget). */
  readonly target: string;
  readonly url: URL;
  readonly timeoutMs: number;
}

/**
 * POSTs a JSON body and resolves on a 2xx. Errors carry only the receiver, the safe target and
 * the status or socket error code — never the URL, whose path may be a token.
 */
export function postJson(to: PostTarget, body: unknown): Promise<void> {
  const payload = Buffer.from(JSON.stringify(body));
  const request = to.url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const fail = (reason: string, retryable = true) =>
      reject(new NotifierError(to.receiver, to.target, reason, retryable));
    const req = request(
      to.url,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": payload.length,
          "user-agent": "baton-alerts",
        },
        timeout: to.timeoutMs,
      },
      (res) => {
        // The answer's body is not needed; drain it so the socket is released.
        res.resume();
        res.on("error", () => fail("the answer broke off"));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else if (status === 408 || status === 429 || status >= 500)
            fail(`answered HTTP ${status}`);
          else
            fail(`answered HTTP ${status}; check the URL and the receiver's configuration`, false);
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error: NodeJS.ErrnoException) => {
      const reason =
        error.message === "timeout"
          ? `no answer within ${to.timeoutMs} ms`
          : `could not deliver (${error.code ?? "connection error"})`;
      fail(reason);
    });
    req.end(payload);
  });
}
