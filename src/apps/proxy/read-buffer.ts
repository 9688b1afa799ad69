/**
 * One reusable read buffer per upstream socket, for `net.connect({ onread })`.
 *
 * Reading into a buffer of our own skips what Node does for every chunk of a stream
 * (allocate a backing store, wrap it, push it through the Readable machinery, emit
 * 'data'): on a proxy that is half of all reads. The catch is ownership: the bytes are
 * only ours until the next read. Whoever forwards them marks the buffer `held` when a
 * write could not complete at once (the socket keeps a reference to the memory), and the
 * next read then gets a fresh buffer.
 */
const SIZE = 64 * 1024;

export class ReadBuffer {
  /** Set by the consumer when the bytes just read are still referenced. */
  held = false;
  private buffer = Buffer.allocUnsafe(SIZE);

  /** The `onread.buffer` generator: called by Node after every read callback. */
  readonly next = (): Buffer => {
    if (this.held) {
      this.held = false;
      this.buffer = Buffer.allocUnsafe(SIZE);
    }
    return this.buffer;
  };
}
