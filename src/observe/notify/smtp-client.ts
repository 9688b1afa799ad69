import { connect, type Socket } from "node:net";

export interface SmtpEnvelope {
  readonly host: string;
  readonly port: number;
  /** The name we greet with (EHLO). */
  readonly helo: string;
  readonly from: string;
  readonly to: readonly string[];
  /** A complete RFC 5322 message (headers, blank line, body); line endings are normalised. */
  readonly message: string;
  /** For the whole conversation. */
  readonly timeoutMs: number;
  /** Sent with AUTH when the server offers it after EHLO; never when it does not. */
  readonly auth?: SmtpAuth;
}

export interface SmtpAuth {
  readonly username: string;
  readonly password: string;
}

/** An SMTP step that failed: the command and the server's reply (never the message). */
export class SmtpError extends Error {
  constructor(
    message: string,
    /** The reply code, 0 when the connection failed; 5xx will not get better by retrying. */
    readonly code: number,
  ) {
    super(message);
    this.name = "SmtpError";
  }
}

/**
 * Sends one message over plain SMTP (RFC 5321): EHLO, AUTH when credentials are given and the
 * server offers PLAIN or LOGIN, MAIL FROM, RCPT TO, DATA, QUIT. No TLS: it is meant for a
 * relay on loopback or a trusted network (a local Postfix, smtp-sink in tests).
 */
export async function sendMail(envelope: SmtpEnvelope): Promise<void> {
  const conversation = await SmtpConversation.open(envelope);
  try {
    await conversation.expect("greeting", [220]);
    const offered = await conversation.hello(envelope.helo);
    if (envelope.auth !== undefined) await authenticate(conversation, offered, envelope.auth);
    await conversation.command(`MAIL FROM:<${address(envelope.from)}>`, [250]);
    for (const to of envelope.to)
      await conversation.command(`RCPT TO:<${address(to)}>`, [250, 251]);
    await conversation.command("DATA", [354]);
    await conversation.data(dotStuffed(envelope.message), [250]);
    await conversation.command("QUIT", [221]);
  } finally {
    conversation.close();
  }
}

/**
 * AUTH PLAIN (RFC 4616) in one line, else LOGIN, whichever the EHLO answer lists. A server
 * that lists neither gets no credentials: sending them unasked would only expose them.
 */
async function authenticate(
  conversation: SmtpConversation,
  ehlo: readonly string[],
  auth: SmtpAuth,
): Promise<void> {
  const mechanisms = new Set(
    ehlo
      .map((line) => /^\d{3}[ -]AUTH[ =](.*)$/i.exec(line)?.[1] ?? "")
      .flatMap((list) => list.toUpperCase().split(/\s+/)),
  );
  const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
  if (mechanisms.has("PLAIN")) {
    const initial = b64(`\0${auth.username}\0${auth.password}`);
    // 235 per RFC 4954; Postfix's smtp-sink answers 250.
    await conversation.secretCommand("AUTH PLAIN", initial, [235, 250]);
  } else if (mechanisms.has("LOGIN")) {
    await conversation.command("AUTH LOGIN", [334]);
    await conversation.secretCommand("AUTH LOGIN username", b64(auth.username), [334]);
    await conversation.secretCommand("AUTH LOGIN password", b64(auth.password), [235, 250]);
  }
}

/**
 * The message as DATA carries it: CRLF line endings, a leading "." doubled on every line
 * (so a line holding only "." cannot end the message early), then the terminating ".".
 */
export function dotStuffed(message: string): string {
  const lines = message.replace(/\r\n|\r|\n/g, "\n").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return `${lines.map((l) => (l.startsWith(".") ? `.${l}` : l)).join("\r\n")}\r\n.\r\n`;
}

/** An address without the characters that would let it inject an SMTP command. */
function address(text: string): string {
  if (/[\r\n<>]/.test(text)) {
    throw new SmtpError(`mail address ${JSON.stringify(text)} contains <, > or a line break`, 0);
  }
  return text.trim();
}

class SmtpConversation {
  private buffer = "";
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;
  private failure: SmtpError | undefined;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly socket: Socket,
    private readonly where: string,
    timeoutMs: number,
  ) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      let end = this.buffer.indexOf("\r\n");
      while (end >= 0) {
        this.lines.push(this.buffer.slice(0, end));
        this.buffer = this.buffer.slice(end + 2);
        end = this.buffer.indexOf("\r\n");
      }
      this.wake();
    });
    socket.on("error", (error: NodeJS.ErrnoException) =>
      this.fail(new SmtpError(`SMTP ${where}: ${error.code ?? error.message}`, 0)),
    );
    socket.on("close", () => this.fail(new SmtpError(`SMTP ${where} closed the connection`, 0)));
    this.timer = setTimeout(() => {
      this.fail(new SmtpError(`SMTP ${where}: no answer within ${timeoutMs} ms`, 0));
      socket.destroy();
    }, timeoutMs);
  }

  static open(envelope: SmtpEnvelope): Promise<SmtpConversation> {
    const where = `${envelope.host}:${envelope.port}`;
    return new Promise((resolve, reject) => {
      const socket = connect({ host: envelope.host, port: envelope.port });
      const onError = (error: NodeJS.ErrnoException) =>
        reject(new SmtpError(`could not connect to SMTP ${where} (${error.code ?? "error"})`, 0));
      socket.once("error", onError);
      socket.once("connect", () => {
        socket.off("error", onError);
        resolve(new SmtpConversation(socket, where, envelope.timeoutMs));
      });
    });
  }

  async command(line: string, accept: readonly number[]): Promise<string[]> {
    this.socket.write(`${line}\r\n`);
    return this.expect(line.split(/[ :]/)[0] ?? line, accept);
  }

  /**
   * `step` then `payload` on one line (or the payload alone when `step` names a continuation):
   * an error names the step only, never the credentials.
   */
  async secretCommand(step: string, payload: string, accept: readonly number[]): Promise<void> {
    const line = step.startsWith("AUTH LOGIN ") ? payload : `${step} ${payload}`;
    this.socket.write(`${line}\r\n`);
    await this.expect(step, accept);
  }

  /**
   * EHLO, or HELO for a server from before ESMTP (it answers EHLO with 500/502); the reply's
   * lines, which list the extensions (AUTH) the server offers.
   */
  async hello(name: string): Promise<string[]> {
    try {
      return await this.command(`EHLO ${name}`, [250]);
    } catch (error) {
      if (!(error instanceof SmtpError) || (error.code !== 500 && error.code !== 502)) throw error;
      return this.command(`HELO ${name}`, [250]);
    }
  }

  async data(stuffed: string, accept: readonly number[]): Promise<void> {
    this.socket.write(stuffed);
    await this.expect("end of DATA", accept);
  }

  /** Reads one reply (multi-line replies continue with "NNN-") and checks its code. */
  async expect(step: string, accept: readonly number[]): Promise<string[]> {
    const reply: string[] = [];
    for (;;) {
      const line = await this.nextLine();
      reply.push(line);
      if (!/^\d{3}-/.test(line)) break;
    }
    const last = reply.at(-1) ?? "";
    const code = Number(last.slice(0, 3));
    if (!accept.includes(code)) {
      throw new SmtpError(`SMTP ${this.where} refused ${step}: ${last.slice(0, 200)}`, code);
    }
    return reply;
  }

  close(): void {
    clearTimeout(this.timer);
    this.socket.destroy();
  }

  private async nextLine(): Promise<string> {
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return line;
      if (this.failure !== undefined) throw this.failure;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  private fail(error: SmtpError): void {
    this.failure ??= error;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
