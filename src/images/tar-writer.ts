/**
 * A POSIX tar (ustar, with pax headers for long names) written to memory: what the Engine
 * API takes as a build context. Entries carry no owner and a fixed time, so the same files
 * give the same bytes, hence the same content digest.
 */
import { copyMode } from "../util/file-mode.js";

const BLOCK = 512;

export type TarEntry =
  | { readonly type: "file"; readonly path: string; readonly mode: number; readonly data: Buffer }
  | { readonly type: "directory"; readonly path: string; readonly mode: number }
  | { readonly type: "symlink"; readonly path: string; readonly target: string };

export class TarWriter {
  private readonly chunks: Buffer[] = [];

  add(entry: TarEntry): void {
    const name = entry.type === "directory" ? `${entry.path}/` : entry.path;
    const linkname = entry.type === "symlink" ? entry.target : "";
    const pax: Record<string, string> = {};
    const split = splitName(name);
    if (split === undefined) pax.path = name;
    if (Buffer.byteLength(linkname) > 100) pax.linkpath = linkname;
    if (Object.keys(pax).length > 0) {
      const body = Buffer.from(
        Object.entries(pax)
          .map(([k, v]) => paxRecord(k, v))
          .join(""),
      );
      this.chunks.push(
        header({ name: "././@PaxHeader", mode: 0o644, size: body.length, type: "x" }),
      );
      this.pushData(body);
    }
    const size = entry.type === "file" ? entry.data.length : 0;
    this.chunks.push(
      header({
        name: split?.name ?? name.slice(-100),
        prefix: split?.prefix ?? "",
        mode: entry.type === "symlink" ? 0o777 : entry.mode,
        size,
        type: entry.type === "file" ? "0" : entry.type === "directory" ? "5" : "2",
        linkname: pax.linkpath === undefined ? linkname : "",
      }),
    );
    if (entry.type === "file") this.pushData(entry.data);
  }

  /** The archive, closed by its two zero blocks. */
  finish(): Buffer {
    return Buffer.concat([...this.chunks, Buffer.alloc(BLOCK * 2)]);
  }

  private pushData(data: Buffer): void {
    this.chunks.push(data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad > 0) this.chunks.push(Buffer.alloc(pad));
  }
}

/** ustar splits a long name into prefix (≤155) and name (≤100) at a slash, when it can. */
function splitName(path: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" };
  for (let i = path.indexOf("/"); i !== -1; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== "") {
      return { name, prefix };
    }
  }
  return undefined;
}

/** "LEN key=value\n", LEN counting itself. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(rest) + 1;
  while (String(length).length + Buffer.byteLength(rest) !== length) length++;
  return `${length}${rest}`;
}

function header(fields: {
  name: string;
  prefix?: string;
  mode: number;
  size: number;
  type: string;
  linkname?: string;
}): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(fields.name, 0, 100, "utf8");
  // A build context carries no setuid, setgid or sticky bit into an image (util/file-mode.ts).
  octal(block, 100, 8, copyMode(fields.mode));
  octal(block, 108, 8, 0);
  octal(block, 116, 8, 0);
  octal(block, 124, 12, fields.size);
  octal(block, 136, 12, 0);
  block.write("        ", 148, 8, "ascii");
  block.write(fields.type, 156, 1, "ascii");
  block.write(fields.linkname ?? "", 157, 100, "utf8");
  block.write("ustar\u000000", 257, 8, "ascii");
  block.write(fields.prefix ?? "", 345, 155, "utf8");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "ascii");
  return block;
}

function octal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, "0")}\u0000`, offset, width, "ascii");
}
