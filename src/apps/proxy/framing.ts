/**
 * Incremental HTTP/1.1 message framing.
 *
 * The proxy forwards raw bytes and never re-serialises a message: this parser only finds
 * where messages begin and end, and reads the few headers that decide framing
 * (Content-Length, Transfer-Encoding, Connection, Upgrade). Knowing the boundaries is what
 * lets the proxy count in-flight requests, move a keep-alive client to another backend
 * between two requests, and replay a request that a backend refused.
 *
 * `execute(chunk, start)` consumes bytes and stops right after a head completes and right
 * after a message completes, so the caller can route the bytes that follow independently.
 * It never copies body bytes; only a head split across chunks is accumulated (bounded).
 */

/** Set in `events` when the bytes just consumed completed a message head. */
export const HEAD_COMPLETE = 1;
/** Set in `events` when the bytes just consumed completed a whole message. */
export const MESSAGE_COMPLETE = 2;

export type MessageKind = "request" | "response";

/**
 * How a message body is delimited. `close`: until the peer closes (responses only);
 * `tunnel`: the connection stops being HTTP after this message (101, CONNECT 2xx).
 */
export type BodyKind = "none" | "length" | "chunked" | "close" | "tunnel";

export interface MessageHead {
  /** Request method as sent (requests); "" for responses. */
  readonly method: string;
  /** Status code (responses); 0 for requests. */
  readonly status: number;
  /** Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minor: 0 | 1;
  /** The connection may carry another message after this one, per version and Connection. */
  readonly keepAlive: boolean;
  /** Request: asks to switch protocols (Connection: upgrade + Upgrade). Response: 101. */
  readonly upgrade: boolean;
  readonly body: BodyKind;
  /** Declared Content-Length, or -1. */
  readonly contentLength: number;
  /** Bytes of the head, start line to the blank line included. */
  readonly headLength: number;
}

export type FramingErrorCode = "malformed" | "head_too_large";

export interface FramingError {
  readonly code: FramingErrorCode;
  readonly reason: string;
}

export interface FramerOptions {
  /** Largest head (start line + headers) accepted; larger is `head_too_large`. */
  readonly maxHeadBytes?: number;
}

export const DEFAULT_MAX_HEAD_BYTES = 64 * 1024;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;
const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1");
/** Longest chunk-size line (size + extensions) accepted: extensions are rare and short. */
const MAX_CHUNK_LINE = 4096;
/** A chunk size above 2^48 is nonsense and would lose precision. */
const MAX_CHUNK_SIZE = 2 ** 48;

const S_HEAD = 0;
const S_LENGTH = 1;
const S_CHUNK_SIZE = 2;
const S_CHUNK_EXT = 3;
const S_CHUNK_SIZE_LF = 4;
const S_CHUNK_DATA = 5;
const S_CHUNK_DATA_CR = 6;
const S_CHUNK_DATA_LF = 7;
const S_TRAILER_START = 8;
const S_TRAILER_LINE = 9;
const S_TRAILER_LINE_LF = 10;
const S_TRAILER_END_LF = 11;
const S_UNTIL_CLOSE = 12;
const S_TUNNEL = 13;
const S_ERROR = 14;

/** RFC 9110 tchar, as a lookup table: the characters of methods and header names. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}

const NAME_CONTENT_LENGTH = Buffer.from("content-length", "latin1");
const NAME_TRANSFER_ENCODING = Buffer.from("transfer-encoding", "latin1");
const NAME_CONNECTION = Buffer.from("connection", "latin1");
const NAME_UPGRADE = Buffer.from("upgrade", "latin1");

/** Methods seen on nearly every request: returned as interned strings, no allocation. */
const COMMON_METHODS = ["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH"].map((m) => ({
  name: m,
  bytes: Buffer.from(`${m} `, "latin1"),
}));

/** Case-insensitive comparison of buf[off, off+lower.length) with an ASCII lower-case name. */
function equalsLower(buf: Buffer, off: number, lower: Buffer): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = buf[off + i] as number;
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== lower[i]) return false;
  }
  return true;
}

function methodAt(buf: Buffer, start: number, length: number): string {
  for (const m of COMMON_METHODS) {
    const bytes = m.bytes;
    if (bytes.length !== length + 1) continue;
    let i = 0;
    while (i < length && buf[start + i] === bytes[i]) i++;
    if (i === length) return m.name;
  }
  return buf.toString("latin1", start, start + length);
}

const TOKEN_CLOSE = Buffer.from("close", "latin1");
const TOKEN_KEEP_ALIVE = Buffer.from("keep-alive", "latin1");
const TOKEN_UPGRADE = Buffer.from("upgrade", "latin1");

const CONN_CLOSE = 1;
const CONN_KEEP_ALIVE = 2;
const CONN_UPGRADE = 4;

/** The Connection options in buf[start, end), as CONN_* flags. */
function connectionOptions(buf: Buffer, start: number, end: number): number {
  // Fast path, no allocation: a single option, which is what nearly every message has.
  const length = end - start;
  if (length === 5 && equalsLower(buf, start, TOKEN_CLOSE)) return CONN_CLOSE;
  if (length === 10 && equalsLower(buf, start, TOKEN_KEEP_ALIVE)) return CONN_KEEP_ALIVE;
  if (length === 7 && equalsLower(buf, start, TOKEN_UPGRADE)) return CONN_UPGRADE;
  let flags = 0;
  for (const raw of buf.toString("latin1", start, end).split(",")) {
    const token = raw.trim().toLowerCase();
    if (token === "close") flags |= CONN_CLOSE;
    else if (token === "keep-alive") flags |= CONN_KEEP_ALIVE;
    else if (token === "upgrade") flags |= CONN_UPGRADE;
  }
  return flags;
}

function isOws(c: number): boolean {
  return c === SP || c === HT;
}

class HeadSyntaxError {
  constructor(readonly reason: string) {}
}

/**
 * Parses one complete head in buf[start, end) (end is just after the blank line).
 * Throws HeadSyntaxError; the caller turns it into a framing error.
 */
function parseHead(
  kind: MessageKind,
  buf: Buffer,
  start: number,
  end: number,
  requestMethod: string,
): MessageHead {
  const lineEnd = lineEndAt(buf, start);
  let method = "";
  let status = 0;
  let minor: 0 | 1;
  if (kind === "request") {
    let i = start;
    while (i < lineEnd && TCHAR[buf[i] as number] === 1) i++;
    if (i === start || buf[i] !== SP) throw new HeadSyntaxError("invalid request line");
    method = methodAt(buf, start, i - start);
    const targetStart = i + 1;
    let j = targetStart;
    while (j < lineEnd && (buf[j] as number) > SP && buf[j] !== 0x7f) j++;
    if (j === targetStart || buf[j] !== SP || lineEnd - (j + 1) !== 8) {
      throw new HeadSyntaxError("invalid request line");
    }
    minor = versionAt(buf, j + 1);
  } else {
    if (lineEnd - start < 12) throw new HeadSyntaxError("invalid status line");
    minor = versionAt(buf, start);
    const s = start + 8;
    const d0 = (buf[s + 1] as number) - 0x30;
    const d1 = (buf[s + 2] as number) - 0x30;
    const d2 = (buf[s + 3] as number) - 0x30;
    if (buf[s] !== SP || d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) {
      throw new HeadSyntaxError("invalid status line");
    }
    if (s + 4 < lineEnd && buf[s + 4] !== SP) throw new HeadSyntaxError("invalid status line");
    status = d0 * 100 + d1 * 10 + d2;
  }

  let contentLength = -1;
  let transferEncoding: string | null = null;
  let connClose = false;
  let connKeepAlive = false;
  let connUpgrade = false;
  let upgradeHeader = false;

  let pos = lineEnd + 2;
  const headersEnd = end - 2;
  while (pos < headersEnd) {
    const eol = lineEndAt(buf, pos);
    const first = buf[pos] as number;
    if (isOws(first)) throw new HeadSyntaxError("obsolete line folding is not accepted");
    let colon = pos;
    while (colon < eol && TCHAR[buf[colon] as number] === 1) colon++;
    if (colon === pos || colon === eol || buf[colon] !== COLON) {
      throw new HeadSyntaxError("invalid header line");
    }
    const nameLength = colon - pos;
    let vs = colon + 1;
    let ve = eol;
    while (vs < ve && isOws(buf[vs] as number)) vs++;
    while (ve > vs && isOws(buf[ve - 1] as number)) ve--;
    switch (nameLength) {
      case 14:
        if (equalsLower(buf, pos, NAME_CONTENT_LENGTH)) {
          const value = parseContentLength(buf, vs, ve);
          if (contentLength !== -1 && contentLength !== value) {
            throw new HeadSyntaxError("conflicting Content-Length headers");
          }
          contentLength = value;
        }
        break;
      case 17:
        if (equalsLower(buf, pos, NAME_TRANSFER_ENCODING)) {
          const value = buf.toString("latin1", vs, ve).toLowerCase();
          transferEncoding = transferEncoding === null ? value : `${transferEncoding},${value}`;
        }
        break;
      case 10:
        if (equalsLower(buf, pos, NAME_CONNECTION)) {
          const flags = connectionOptions(buf, vs, ve);
          if ((flags & CONN_CLOSE) !== 0) connClose = true;
          if ((flags & CONN_KEEP_ALIVE) !== 0) connKeepAlive = true;
          if ((flags & CONN_UPGRADE) !== 0) connUpgrade = true;
        }
        break;
      case 7:
        if (equalsLower(buf, pos, NAME_UPGRADE)) upgradeHeader = true;
        break;
    }
    pos = eol + 2;
  }

  const keepAlive = minor === 1 ? !connClose : connKeepAlive && !connClose;
  let body: BodyKind;
  let upgrade = false;
  if (kind === "request") {
    if (transferEncoding !== null) {
      if (contentLength !== -1) {
        throw new HeadSyntaxError("both Transfer-Encoding and Content-Length are present");
      }
      if (!isChunkedLast(transferEncoding)) {
        throw new HeadSyntaxError("request Transfer-Encoding must end with chunked");
      }
      body = "chunked";
    } else if (contentLength > 0) {
      body = "length";
    } else {
      body = "none";
    }
    upgrade = method !== "CONNECT" && connUpgrade && upgradeHeader;
  } else if (status === 101) {
    body = "tunnel";
    upgrade = true;
  } else if (status < 200 || status === 204 || status === 304 || requestMethod === "HEAD") {
    body = "none";
  } else if (requestMethod === "CONNECT" && status < 300) {
    body = "tunnel";
  } else if (transferEncoding !== null) {
    // RFC 9112 6.3: Transfer-Encoding overrides Content-Length; a coding other than a
    // final chunked means the body runs until the server closes.
    body = isChunkedLast(transferEncoding) ? "chunked" : "close";
  } else if (contentLength >= 0) {
    body = contentLength > 0 ? "length" : "none";
  } else {
    body = "close";
  }
  return {
    method,
    status,
    minor,
    keepAlive: body === "close" ? false : keepAlive,
    upgrade,
    body,
    contentLength,
    headLength: end - start,
  };
}

/** Index of the CR of the line starting at `pos`; rejects bare CR, bare LF and NUL. */
function lineEndAt(buf: Buffer, pos: number): number {
  // A bare LF or CR would be read as a line break by some servers and not by others: the
  // classic request smuggling. A head always ends with CRLFCRLF, so the loop ends.
  for (let i = pos; i < buf.length; i++) {
    const c = buf[i] as number;
    if (c > CR) continue;
    if (c === CR) {
      if (buf[i + 1] !== LF) throw new HeadSyntaxError("bare CR in head");
      return i;
    }
    if (c === LF) throw new HeadSyntaxError("bare LF in head");
    if (c === 0) throw new HeadSyntaxError("NUL in head");
  }
  throw new HeadSyntaxError("unterminated line");
}

function versionAt(buf: Buffer, pos: number): 0 | 1 {
  // "HTTP/1." then 0 or 1.
  if (
    buf[pos] !== 0x48 ||
    buf[pos + 1] !== 0x54 ||
    buf[pos + 2] !== 0x54 ||
    buf[pos + 3] !== 0x50 ||
    buf[pos + 4] !== 0x2f ||
    buf[pos + 5] !== 0x31 ||
    buf[pos + 6] !== 0x2e
  ) {
    throw new HeadSyntaxError("unsupported HTTP version");
  }
  const m = buf[pos + 7];
  if (m === 0x31) return 1;
  if (m === 0x30) return 0;
  throw new HeadSyntaxError("unsupported HTTP version");
}

/** Digits, or a list of identical digit values ("5, 5") as some intermediaries produce. */
function parseContentLength(buf: Buffer, start: number, end: number): number {
  if (end > start && end - start <= 15) {
    // Fast path: plain digits, which is what nearly every message carries.
    let value = 0;
    let i = start;
    for (; i < end; i++) {
      const d = (buf[i] as number) - 0x30;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
    }
    if (i === end) return value;
  }
  let value = -1;
  for (const part of buf.toString("latin1", start, end).split(",")) {
    const digits = part.trim();
    if (!/^[0-9]{1,15}$/.test(digits)) throw new HeadSyntaxError("invalid Content-Length");
    const n = Number(digits);
    if (value !== -1 && n !== value) throw new HeadSyntaxError("conflicting Content-Length values");
    value = n;
  }
  return value;
}

function isChunkedLast(te: string): boolean {
  const codings = te.split(",").map((c) => c.trim());
  const last = codings[codings.length - 1];
  // "chunked" anywhere but last is invalid (RFC 9112 6.1); treat like a missing chunked.
  return last === "chunked" && codings.indexOf("chunked") === codings.length - 1;
}

/**
 * Frames the messages of one direction of one connection. Create one per direction;
 * it moves on to the next message by itself after each MESSAGE_COMPLETE.
 */
export class HttpFramer {
  /** HEAD_COMPLETE / MESSAGE_COMPLETE flags of the last execute() call. */
  events = 0;
  /** The head of the current (or just completed) message. */
  head: MessageHead | null = null;
  error: FramingError | null = null;

  private state = S_HEAD;
  private remaining = 0;
  /** Head bytes received so far when a head spans several chunks. */
  private partial: Buffer | null = null;
  private lineBytes = 0;
  private trailerBytes = 0;
  private requestMethod = "GET";
  private readonly maxHead: number;

  constructor(
    readonly kind: MessageKind,
    options: FramerOptions = {},
  ) {
    this.maxHead = options.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES;
  }

  /**
   * Responses only: the method of the request the next response answers. A response to
   * HEAD has no body and a 2xx to CONNECT opens a tunnel, which the bytes cannot tell.
   */
  expectResponseTo(method: string): void {
    this.requestMethod = method;
  }

  /** True between messages: nothing of a next message has been seen yet. */
  get idle(): boolean {
    return this.state === S_HEAD && this.partial === null;
  }

  /** True once the connection has switched to a raw tunnel (101, CONNECT 2xx). */
  get tunnel(): boolean {
    return this.state === S_TUNNEL;
  }

  /**
   * Consumes bytes of `chunk` from `start`; returns how many. Stops right after a head
   * and right after the end of a message (see `events`). After an error, consumes
   * nothing and `error` is set.
   */
  execute(chunk: Buffer, start: number): number {
    this.events = 0;
    const len = chunk.length;
    let pos = start;
    while (pos < len) {
      switch (this.state) {
        case S_HEAD:
          return this.executeHead(chunk, start);
        case S_LENGTH: {
          const n = Math.min(this.remaining, len - pos);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) return this.complete(pos - start);
          break;
        }
        case S_CHUNK_SIZE: {
          const c = chunk[pos] as number;
          const digit = HEX[c] as number;
          if (digit >= 0) {
            if (++this.lineBytes > 12) return this.fail("malformed", "chunk size is too large");
            this.remaining = this.remaining * 16 + digit;
            pos++;
          } else if (this.lineBytes === 0) {
            return this.fail("malformed", "invalid chunk size");
          } else if (c === CR) {
            this.state = S_CHUNK_SIZE_LF;
            pos++;
          } else if (c === 0x3b || isOws(c)) {
            this.state = S_CHUNK_EXT;
            pos++;
          } else {
            return this.fail("malformed", "invalid chunk size");
          }
          break;
        }
        case S_CHUNK_EXT: {
          const c = chunk[pos] as number;
          if (c === CR) this.state = S_CHUNK_SIZE_LF;
          else if (c === LF || c === 0) return this.fail("malformed", "invalid chunk extension");
          else if (++this.lineBytes > MAX_CHUNK_LINE) {
            return this.fail("malformed", "chunk extension is too long");
          }
          pos++;
          break;
        }
        case S_CHUNK_SIZE_LF:
          if (chunk[pos] !== LF) return this.fail("malformed", "expected LF after chunk size");
          pos++;
          if (this.remaining > MAX_CHUNK_SIZE) return this.fail("malformed", "chunk is too large");
          if (this.remaining === 0) {
            this.state = S_TRAILER_START;
            this.trailerBytes = 0;
          } else {
            this.state = S_CHUNK_DATA;
          }
          break;
        case S_CHUNK_DATA: {
          const n = Math.min(this.remaining, len - pos);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) this.state = S_CHUNK_DATA_CR;
          break;
        }
        case S_CHUNK_DATA_CR:
          if (chunk[pos] !== CR) return this.fail("malformed", "expected CRLF after chunk data");
          this.state = S_CHUNK_DATA_LF;
          pos++;
          break;
        case S_CHUNK_DATA_LF:
          if (chunk[pos] !== LF) return this.fail("malformed", "expected CRLF after chunk data");
          this.state = S_CHUNK_SIZE;
          this.remaining = 0;
          this.lineBytes = 0;
          pos++;
          break;
        case S_TRAILER_START: {
          const c = chunk[pos] as number;
          pos++;
          if (c === CR) this.state = S_TRAILER_END_LF;
          else if (c === LF || isOws(c)) return this.fail("malformed", "invalid trailer line");
          else this.state = S_TRAILER_LINE;
          if (++this.trailerBytes > this.maxHead) {
            return this.fail("head_too_large", "trailers are too large");
          }
          break;
        }
        case S_TRAILER_LINE: {
          const c = chunk[pos] as number;
          pos++;
          if (c === CR) this.state = S_TRAILER_LINE_LF;
          else if (c === LF) return this.fail("malformed", "bare LF in trailer");
          if (++this.trailerBytes > this.maxHead) {
            return this.fail("head_too_large", "trailers are too large");
          }
          break;
        }
        case S_TRAILER_LINE_LF:
          if (chunk[pos] !== LF) return this.fail("malformed", "bare CR in trailer");
          pos++;
          this.state = S_TRAILER_START;
          break;
        case S_TRAILER_END_LF:
          if (chunk[pos] !== LF) return this.fail("malformed", "bare CR in trailer");
          pos++;
          return this.complete(pos - start);
        case S_UNTIL_CLOSE:
        case S_TUNNEL:
          return len - start;
        default:
          return 0;
      }
    }
    return pos - start;
  }

  /**
   * The peer closed its side. Completes a body delimited by the close (sets
   * MESSAGE_COMPLETE in `events` and returns true); false otherwise.
   */
  finish(): boolean {
    this.events = 0;
    if (this.state === S_UNTIL_CLOSE) {
      this.events = MESSAGE_COMPLETE;
      this.state = S_HEAD;
      return true;
    }
    return false;
  }

  private executeHead(chunk: Buffer, start: number): number {
    const len = chunk.length;
    let from = start;
    if (this.partial === null) {
      // RFC 9112 2.2: a server should ignore empty lines received before a request line.
      if (this.kind === "request") {
        while (from < len && (chunk[from] === CR || chunk[from] === LF)) from++;
        if (from === len) return len - start;
      }
      const idx = chunk.indexOf(CRLFCRLF, from);
      if (idx >= 0) {
        const end = idx + 4;
        if (end - from > this.maxHead) return this.fail("head_too_large", "head is too large");
        return this.headParsed(chunk, from, end, end - start);
      }
      if (len - from > this.maxHead) return this.fail("head_too_large", "head is too large");
      this.partial = Buffer.from(chunk.subarray(from));
      return len - start;
    }
    // A head split across chunks: append and search again from just before the seam.
    const prior = this.partial.length;
    const combined = Buffer.concat([this.partial, chunk.subarray(start)]);
    const idx = combined.indexOf(CRLFCRLF, Math.max(0, prior - 3));
    if (idx < 0) {
      if (combined.length > this.maxHead) return this.fail("head_too_large", "head is too large");
      this.partial = combined;
      return len - start;
    }
    const end = idx + 4;
    if (end > this.maxHead) return this.fail("head_too_large", "head is too large");
    this.partial = null;
    return this.headParsed(combined, 0, end, end - prior);
  }

  private headParsed(buf: Buffer, start: number, end: number, consumed: number): number {
    let head: MessageHead;
    try {
      head = parseHead(this.kind, buf, start, end, this.requestMethod);
    } catch (err) {
      if (err instanceof HeadSyntaxError) return this.fail("malformed", err.reason);
      throw err;
    }
    this.head = head;
    this.events = HEAD_COMPLETE;
    switch (head.body) {
      case "none":
        this.events |= MESSAGE_COMPLETE;
        break;
      case "length":
        this.state = S_LENGTH;
        this.remaining = head.contentLength;
        break;
      case "chunked":
        this.state = S_CHUNK_SIZE;
        this.remaining = 0;
        this.lineBytes = 0;
        break;
      case "close":
        this.state = S_UNTIL_CLOSE;
        break;
      case "tunnel":
        this.state = S_TUNNEL;
        this.events |= MESSAGE_COMPLETE;
        break;
    }
    return consumed;
  }

  private complete(consumed: number): number {
    this.events = MESSAGE_COMPLETE;
    this.state = S_HEAD;
    return consumed;
  }

  private fail(code: FramingErrorCode, reason: string): number {
    this.state = S_ERROR;
    this.error = { code, reason };
    this.events = 0;
    return 0;
  }
}
