/**
 * Finds a cycle in a directed graph, as the path that closes it: `[a, b, a]` for a → b → a.
 * Nodes are explored in the order given, so the same graph always reports the same cycle.
 */
export function findCycle(
  nodes: readonly string[],
  edges: (node: string) => readonly string[],
): string[] | undefined {
  const done = new Set<string>();
  // The current DFS path; a node on it reached again closes a cycle.
  const path: string[] = [];
  const onPath = new Set<string>();

  const visit = (node: string): string[] | undefined => {
    if (onPath.has(node)) return [...path.slice(path.indexOf(node)), node];
    if (done.has(node)) return undefined;
    path.push(node);
    onPath.add(node);
    for (const next of edges(node)) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    onPath.delete(node);
    done.add(node);
    return undefined;
  };

  for (const node of nodes) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}
