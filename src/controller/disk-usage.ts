import type { Labels, SeriesSource } from "../observe/series.js";

const SERIES = "baton_host_filesystem_bytes";
const LOOKBACK_MS = 5 * 60_000;

/**
 * Used / size of every filesystem the host collectors sampled, from their newest samples:
 * `baton_host_filesystem_bytes{kind="used"} / baton_host_filesystem_bytes{kind="size"}`
 * matched on the other labels (the expression subset has no `ignoring`).
 */
export function diskUsage(
  source: SeriesSource,
  at: number,
): Array<{ labels: Labels; ratio: number }> {
  const newest = (kind: string): Map<string, { labels: Labels; value: number }> => {
    const out = new Map<string, { labels: Labels; value: number }>();
    const series = source.select(
      { name: SERIES, matchers: [{ label: "kind", op: "=", value: kind }] },
      at - LOOKBACK_MS,
      at,
    );
    for (const s of series) {
      const last = s.samples.at(-1);
      if (last === undefined) continue;
      const { kind: _kind, ...labels } = s.labels;
      out.set(JSON.stringify(Object.entries(labels).sort()), { labels, value: last.value });
    }
    return out;
  };
  const used = newest("used");
  const size = newest("size");
  const result: Array<{ labels: Labels; ratio: number }> = [];
  for (const [key, u] of used) {
    const total = size.get(key)?.value;
    if (total !== undefined && total > 0) result.push({ labels: u.labels, ratio: u.value / total });
  }
  return result;
}
