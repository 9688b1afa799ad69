import { closeSync, constants, openSync } from "node:fs";
import { Socket } from "node:net";

/**
 * Learns that a replica exited without polling and without being its parent: the replica
 * inherits the write end of a FIFO it never writes to; when its last process exits the
 * kernel closes that end and our reader sees end-of-file. A controller restarted long after
 * the replica started opens the FIFO again and is told the same way.
 */
export function watchFifo(fifoPath: string, onClosed: () => void): () => void {
  let fd: number;
  try {
    fd = openSync(fifoPath, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    queueMicrotask(onClosed);
    return () => {};
  }
  const socket = new Socket({ fd, readable: true, writable: false });
  let fired = false;
  const fire = (): void => {
    if (fired) return;
    fired = true;
    socket.destroy();
    onClosed();
  };
  socket.on("end", fire);
  socket.on("close", fire);
  socket.on("error", fire);
  socket.resume();
  // The watch must not keep a controller alive that is otherwise done.
  socket.unref();
  return () => {
    fired = true;
    socket.destroy();
  };
}

/** Opens a FIFO for the child to inherit; O_RDWR so the open does not block on Linux. */
export function openFifoForChild(fifoPath: string): number {
  return openSync(fifoPath, constants.O_RDWR);
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
