/**
 * The parsed YAML with its positions: the only place that knows YAML's node types. Others ask
 * it where a field path is written ("apps.web.replicas" → line 14, column 15, 7 characters).
 */
import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Pair,
  parseDocument,
  type YAMLMap,
} from "yaml";
import type { Path, PathSegment } from "./phrases.js";

export interface Span {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
  /** Characters to underline; never past the end of the line. */
  readonly length: number;
}

/** Where the values of a definition are written; YamlSource, or an overlay of it. */
export interface Positions {
  valueSpan(path: Path): Span;
  keySpan(path: Path): Span;
  scalarSource(path: Path): string | undefined;
}

/** What a path leads to: the value node, and the pair whose key names it (absent at the root). */
interface Step {
  readonly node: unknown;
  readonly pair?: Pair;
}

interface Ranged {
  readonly range?: readonly [number, number, number] | null;
}

export class YamlSource implements Positions {
  readonly text: string;
  readonly document: Document.Parsed;
  readonly #lines = new LineCounter();

  constructor(text: string) {
    this.text = text;
    this.document = parseDocument(text, {
      lineCounter: this.#lines,
      uniqueKeys: true,
      // `<<: *defaults` is how people share settings between apps in YAML.
      merge: true,
      prettyErrors: false,
    });
  }

  /** Line and column of a character offset. */
  position(offset: number): { line: number; col: number } {
    return this.#lines.linePos(offset);
  }

  /** The span from `start` to `end`, cut at the end of the first line. */
  span(start: number, end: number): Span {
    const { line, col } = this.position(start);
    const newline = this.text.indexOf("\n", start);
    let lineEnd = newline === -1 ? this.text.length : newline;
    if (this.text[lineEnd - 1] === "\r") lineEnd--;
    return { line, col, length: Math.max(1, Math.min(end, lineEnd) - start) };
  }

  /**
   * Where the value at `path` is written. Empty values and block collections point at
   * their key instead, which is where the eye goes; a path that is not in the file (a
   * default, or a key merged in) points at its closest written ancestor.
   */
  valueSpan(path: Path): Span {
    const steps = this.#walk(path);
    for (let i = steps.length - 1; i >= 0; i--) {
      const step = steps[i];
      if (step === undefined) continue;
      const { node, pair } = step;
      const pointAtKey = isEmptyScalar(node) || (isCollection(node) && !node.flow);
      const target = pointAtKey && pair ? pair.key : node;
      const span = this.#nodeSpan(target);
      if (span) return span;
    }
    return this.#fallbackSpan();
  }

  /** Where the key naming `path` is written (e.g. the `replica` of an unknown key). */
  keySpan(path: Path): Span {
    const steps = this.#walk(path);
    const last = steps[steps.length - 1];
    if (steps.length === path.length + 1 && last?.pair) {
      const span = this.#nodeSpan(last.pair.key);
      if (span) return span;
    }
    return this.valueSpan(path);
  }

  /** The text of the scalar at `path` exactly as written (`1.10`, not the number 1.1). */
  scalarSource(path: Path): string | undefined {
    const steps = this.#walk(path);
    if (steps.length !== path.length + 1) return undefined;
    const written = steps[steps.length - 1]?.node;
    const node = isAlias(written) ? written.resolve(this.document) : written;
    return isScalar(node) && typeof node.source === "string" ? node.source : undefined;
  }

  /** The path of the mapping pair whose key starts at `offset`, and that pair's map. */
  pairAt(offset: number): { path: PathSegment[]; pair: Pair; map: YAMLMap } | undefined {
    const search = (node: unknown, path: PathSegment[]): ReturnType<YamlSource["pairAt"]> => {
      if (isMap(node)) {
        for (const pair of node.items) {
          const key = keyText(pair.key);
          if (rangeOf(pair.key)?.[0] === offset && key !== undefined) {
            return { path: [...path, key], pair, map: node };
          }
          const inner = key === undefined ? undefined : search(pair.value, [...path, key]);
          if (inner) return inner;
        }
      } else if (isSeq(node)) {
        for (const [index, item] of node.items.entries()) {
          const inner = search(item, [...path, index]);
          if (inner) return inner;
        }
      }
      return undefined;
    };
    return search(this.document.contents, []);
  }

  /** Every node of the document, depth first. */
  *nodes(): Generator<unknown> {
    const stack: unknown[] = [this.document.contents];
    while (stack.length > 0) {
      const node = stack.pop();
      if (node === null || node === undefined) continue;
      yield node;
      if (isPair(node)) stack.push(node.value, node.key);
      else if (isCollection(node)) stack.push(...[...node.items].reverse());
    }
  }

  #walk(path: Path): Step[] {
    const steps: Step[] = [{ node: this.document.contents }];
    let current: unknown = this.document.contents;
    for (const segment of path) {
      if (isAlias(current)) current = current.resolve(this.document);
      if (isMap(current)) {
        const pair = findPair(current, String(segment), this.document);
        if (!pair) break;
        steps.push({ node: pair.value, pair });
        current = pair.value;
      } else if (isSeq(current) && typeof segment === "number") {
        const item: unknown = current.items[segment];
        if (item === undefined) break;
        steps.push({ node: item });
        current = item;
      } else {
        break;
      }
    }
    return steps;
  }

  #nodeSpan(node: unknown): Span | undefined {
    const range = rangeOf(node);
    if (!range) return undefined;
    const [start, valueEnd] = range;
    return this.span(start, valueEnd);
  }

  #fallbackSpan(): Span {
    return { line: 1, col: 1, length: 1 };
  }
}

function rangeOf(node: unknown): readonly [number, number, number] | undefined {
  if (node === null || typeof node !== "object" || !("range" in node)) return undefined;
  return (node as Ranged).range ?? undefined;
}

/** `web:` with nothing after it: a null scalar with no text. */
function isEmptyScalar(node: unknown): boolean {
  return node === null || (isScalar(node) && node.value === null && !node.source);
}

/** A key as the JS object will have it; undefined for merge keys (`<<`) and complex keys. */
export function keyText(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  const value = key.value;
  if (typeof value === "symbol") return undefined;
  return String(value);
}

function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  const value = key.value;
  return typeof value === "symbol" && value.description === "<<";
}

/** The pair for `key` in `map`, looking into maps merged with `<<` when it is not written. */
function findPair(map: YAMLMap, key: string, doc: Document.Parsed): Pair | undefined {
  const own = map.items.find((pair) => keyText(pair.key) === key);
  if (own) return own;
  for (const pair of map.items) {
    if (!isMergeKey(pair.key)) continue;
    const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
    for (const source of sources) {
      const target = isAlias(source) ? source.resolve(doc) : source;
      const found = isMap(target) ? findPair(target, key, doc) : undefined;
      if (found) return found;
    }
  }
  return undefined;
}
