/**
 * Interleaves sources read as they go (each in its own order) by time, holding one pending
 * record per source: the same rule as `mergeByTime` — a source's own order is kept even where
 * its times step back, and of equal times the earlier source comes first — without any source
 * read whole first.
 */
export async function* mergeByTimeAsync<T extends { readonly at: number }>(
  sources: readonly AsyncIterable<T>[],
): AsyncGenerator<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const open = new Set(iterators);
  const heads: (T | undefined)[] = iterators.map(() => undefined);
  const advance = async (i: number): Promise<void> => {
    const iterator = iterators[i] as AsyncIterator<T>;
    const result = await iterator.next();
    if (result.done === true) open.delete(iterator);
    heads[i] = result.done === true ? undefined : result.value;
  };
  try {
    await Promise.all(iterators.map((_, i) => advance(i)));
    for (;;) {
      let best = -1;
      let bestAt = 0;
      for (let i = 0; i < heads.length; i++) {
        const head = heads[i];
        if (head === undefined) continue;
        if (best === -1 || head.at < bestAt) {
          best = i;
          bestAt = head.at;
        }
      }
      const record = heads[best];
      if (record === undefined) return;
      yield record;
      await advance(best);
    }
  } finally {
    // Stopped early (an error, or a consumer that broke off): unfinished sources close their
    // files and streams.
    await Promise.allSettled([...open].map((iterator) => iterator.return?.()));
  }
}
