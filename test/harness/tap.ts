// A recording TCP relay for tests: every byte the server sends to the client is kept, so a test can
// assert that a secret never reached the client in any encoding the driver might hide it behind.

import net, { type AddressInfo } from 'node:net';

export interface Tap extends AsyncDisposable {
  readonly port: number;
  /** Everything sent towards clients since the last reset. */
  received(): Buffer;
  reset(): void;
}

export async function startTap(targetPort: number, targetHost = '127.0.0.1'): Promise<Tap> {
  let chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('data', (d: Buffer) => chunks.push(Buffer.from(d)));
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received: () => Buffer.concat(chunks),
    reset: () => {
      chunks = [];
    },
    [Symbol.asyncDispose]: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
