import type { Definition } from "../definition/index.js";
import type { HttpTransport } from "./http.js";

/**
 * What a plan or apply body carries besides the definition's text: placeholder until the
 * definition's folders travel as content (issue 17, point 4).
 */
export async function uploadContent(
  _http: HttpTransport,
  _definition: Definition,
  _progress?: (line: string) => void,
): Promise<Record<string, never>> {
  return {};
}
