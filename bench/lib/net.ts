/** Free ports from the OS, for servers a benchmark starts. */
import { type AddressInfo, createServer } from "node:net";

export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once("error", rej);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => res(port));
    });
  });
}

export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  // Hold them all open while choosing, so the OS cannot hand the same port twice.
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((res, rej) => {
          const s = createServer();
          s.once("error", rej);
          s.listen(0, host, () => res(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
