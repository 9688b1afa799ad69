/**
 * Just enough XML for JUnit reports: elements, attributes in either quote, self-closing
 * tags, text with entities and CDATA; declarations, comments, processing instructions and a
 * DOCTYPE are skipped. No namespaces, no DTD-defined entities (reporters use none).
 */

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** The element's own text (CDATA included), children's text excluded. */
  text: string;
}

export class XmlError extends Error {
  override name = "XmlError";
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  lt: "<",
  gt: ">",
  amp: "&",
  quot: '"',
  apos: "'",
};

/** The document's root element; throws XmlError naming line:col on malformed input. */
export function parseXml(text: string): XmlElement {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let at = 0;

  const fail = (message: string, position = at): never => {
    const before = source.slice(0, position).split("\n");
    throw new XmlError(`${message} at line ${before.length}, column ${before.at(-1)!.length + 1}`);
  };
  const skipPast = (terminator: string, what: string): void => {
    const end = source.indexOf(terminator, at);
    if (end < 0) fail(`unterminated ${what}`);
    at = end + terminator.length;
  };

  while (at < source.length) {
    const lt = source.indexOf("<", at);
    const textEnd = lt < 0 ? source.length : lt;
    if (textEnd > at) {
      const chunk = source.slice(at, textEnd);
      const current = stack.at(-1);
      if (current) current.text += decodeEntities(chunk, () => fail("unknown entity", at));
      else if (chunk.trim() !== "") fail("text outside the root element");
      at = textEnd;
    }
    if (lt < 0) break;

    if (source.startsWith("<!--", at)) skipPast("-->", "comment");
    else if (source.startsWith("<![CDATA[", at)) {
      const end = source.indexOf("]]>", at);
      if (end < 0) fail("unterminated CDATA section");
      const current = stack.at(-1) ?? fail("CDATA outside the root element");
      current.text += source.slice(at + 9, end);
      at = end + 3;
    } else if (source.startsWith("<?", at)) skipPast("?>", "processing instruction");
    else if (source.startsWith("<!", at)) skipDoctype();
    else if (source.startsWith("</", at)) {
      const match = /^<\/([^\s>]+)\s*>/.exec(source.slice(at, at + 512));
      if (!match) fail("malformed end tag");
      const open = stack.pop();
      if (open === undefined || open.name !== match![1]) {
        fail(`</${match![1]}> does not close <${open?.name ?? "nothing"}>`);
      }
      at += match![0].length;
    } else {
      readStartTag();
    }
  }
  if (stack.length > 0) fail(`<${stack.at(-1)!.name}> is never closed`);
  return root ?? fail("no root element");

  function skipDoctype(): void {
    // <!DOCTYPE x [ ... ]> may hold '>' inside its internal subset.
    let depth = 0;
    for (let i = at + 2; i < source.length; i++) {
      const char = source[i];
      if (char === "[") depth++;
      else if (char === "]") depth--;
      else if (char === ">" && depth <= 0) {
        at = i + 1;
        return;
      }
    }
    fail("unterminated declaration");
  }

  function readStartTag(): void {
    const start = at;
    const nameMatch = /^<([A-Za-z_:][\w:.-]*)/.exec(source.slice(at, at + 256));
    if (!nameMatch) fail("malformed start tag");
    at += nameMatch![0].length;
    const attributes: Record<string, string> = {};
    for (;;) {
      const space = /^\s*/.exec(source.slice(at, at + 4096))![0].length;
      at += space;
      if (source.startsWith("/>", at) || source.startsWith(">", at)) break;
      if (space === 0) fail("expected a space before an attribute");
      const attribute = /^([A-Za-z_:][\w:.-]*)\s*=\s*(["'])/.exec(source.slice(at, at + 512));
      if (!attribute) fail(`malformed attribute in <${nameMatch![1]}>`);
      const valueStart = at + attribute![0].length;
      const valueEnd = source.indexOf(attribute![2]!, valueStart);
      if (valueEnd < 0) fail("unterminated attribute value", start);
      const raw = source.slice(valueStart, valueEnd);
      if (raw.includes("<")) fail(`"<" in the value of ${attribute![1]}`, valueStart);
      // Attribute-value normalisation: literal whitespace becomes spaces, &#10; stays a newline.
      attributes[attribute![1]!] = decodeEntities(raw.replace(/[\t\n\r]/g, " "), () =>
        fail("unknown entity", valueStart),
      );
      at = valueEnd + 1;
    }
    const element: XmlElement = { name: nameMatch![1]!, attributes, children: [], text: "" };
    const parent = stack.at(-1);
    if (parent) parent.children.push(element);
    else if (root) fail("a second root element", start);
    else root = element;
    if (source.startsWith("/>", at)) at += 2;
    else {
      at += 1;
      stack.push(element);
    }
  }
}

function decodeEntities(text: string, unknown: () => never): string {
  if (!text.includes("&")) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);|&/g, (_whole, body?: string) => {
    if (body === undefined) return unknown();
    if (body.startsWith("#x")) return String.fromCodePoint(Number.parseInt(body.slice(2), 16));
    if (body.startsWith("#")) return String.fromCodePoint(Number.parseInt(body.slice(1), 10));
    return NAMED_ENTITIES[body] ?? unknown();
  });
}

/** Every element named `name` in the tree, depth first, the root included. */
export function descendants(root: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  const visit = (element: XmlElement): void => {
    if (element.name === name) found.push(element);
    for (const child of element.children) visit(child);
  };
  visit(root);
  return found;
}
