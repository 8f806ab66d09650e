// PacketReader over a real loopback socket pair (in-process server on port 0): whole packets from any
// chunking, limits checked from the length field alone, faults that end the reader, detach.
import { once } from 'node:events';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { chunks, concat, msg, packet, password, query, startup } from '../../test/harness/bytes.js';
import { PacketReader } from './packet-reader.js';

interface Pair extends AsyncDisposable {
  /** The client's end, where the test writes. */
  readonly client: Socket;
  /** The gateway's end, read by the PacketReader. */
  readonly server: Socket;
}

async function socketPair(): Promise<Pair> {
  const listener = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const address = listener.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const client = tcpConnect(address.port, '127.0.0.1');
  client.setNoDelay(true);
  const [server] = await accepted;
  await (client.connecting ? once(client, 'connect') : Promise.resolve());
  return {
    client,
    server,
    async [Symbol.asyncDispose]() {
      client.destroy();
      server.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}

/** Writes parts one after another, each flushed to the kernel before the next. */
async function writeParts(socket: Socket, parts: readonly Buffer[]): Promise<void> {
  for (const part of parts)
    await new Promise<void>((r, j) => socket.write(part, (e) => (e ? j(e) : r())));
}

/** Collects what `socket` still delivers until `total` bytes are there. */
async function collect(socket: Socket, first: Buffer, total: number): Promise<Buffer> {
  let got = first;
  if (got.length >= total) return got;
  socket.resume();
  for await (const chunk of socket) {
    got = concat(got, chunk as Buffer);
    if (got.length >= total) break;
  }
  return got;
}

const STARTUP = startup({ user: 'alice', database: 'app', application_name: 'unit' });

describe('PacketReader', () => {
  it('returns the startup packet whole however the client chunks it', async () => {
    for (const size of [1, 3, STARTUP.length]) {
      await using pair = await socketPair();
      const reader = new PacketReader(pair.server);
      const read = reader.readStartup(10_000);
      await writeParts(pair.client, chunks(STARTUP, size));
      expect(await read).toEqual(STARTUP);
      expect(pair.server.isPaused()).toBe(true);
    }
  });

  it('reads startup then a typed message from one write, and detach hands over the rest', async () => {
    await using pair = await socketPair();
    const reader = new PacketReader(pair.server);
    const early = concat(query('select 1'), query('select 2'));
    await writeParts(pair.client, [concat(STARTUP, password('s3cret'), early)]);
    expect(await reader.readStartup(10_000)).toEqual(STARTUP);
    expect(await reader.readTyped(100)).toEqual(password('s3cret'));
    const rest = reader.detach();
    expect(pair.server.isPaused()).toBe(true);
    expect(await collect(pair.server, rest, early.length)).toEqual(early);
  });

  it('returns back-to-back packets from one write one at a time', async () => {
    await using pair = await socketPair();
    const reader = new PacketReader(pair.server);
    await writeParts(pair.client, [concat(STARTUP, STARTUP)]);
    expect(await reader.readStartup(10_000)).toEqual(STARTUP);
    expect(await reader.readStartup(10_000)).toEqual(STARTUP);
    expect(reader.buffered).toBe(0);
  });

  it('accepts a packet whose length is exactly the limit, refuses limit + 1', async () => {
    await using pair = await socketPair();
    const reader = new PacketReader(pair.server);
    const atLimit = packet()
      .int32(196608)
      .fill(100 - 9)
      .byte(0)
      .build();
    expect(atLimit.length).toBe(100);
    await writeParts(pair.client, [atLimit]);
    expect(await reader.readStartup(100)).toEqual(atLimit);
    const typed = msg('p').fill(46).byte(0).build();
    expect(typed.readInt32BE(1)).toBe(51);
    const read = reader.readTyped(50);
    await writeParts(pair.client, [typed]);
    await expect(read).rejects.toMatchObject({ code: 'PGW_WIRE_MESSAGE_TOO_LARGE' });
    // The reader is finished for good.
    await expect(reader.readTyped(1000)).rejects.toMatchObject({
      code: 'PGW_WIRE_MESSAGE_TOO_LARGE',
    });
  });

  it('refuses a declared 2^31-1 length from the length field alone', async () => {
    await using pair = await socketPair();
    const reader = new PacketReader(pair.server);
    const read = reader.readStartup(10_000);
    await writeParts(pair.client, [Buffer.from([0x7f, 0xff, 0xff, 0xff])]);
    await expect(read).rejects.toMatchObject({ code: 'PGW_WIRE_MESSAGE_TOO_LARGE' });
    expect(reader.buffered).toBe(4);
  });

  it.each([
    ['startup length 7', false, Buffer.from([0, 0, 0, 7, 0, 0, 0])],
    ['startup length -1', false, Buffer.from([0xff, 0xff, 0xff, 0xff])],
    ['typed length 3', true, Buffer.from([0x70, 0, 0, 0, 3])],
    ['typed length -2^31', true, Buffer.from([0x70, 0x80, 0, 0, 0])],
  ])('refuses %s as a protocol violation', async (_name, typed, bytes) => {
    await using pair = await socketPair();
    const reader = new PacketReader(pair.server);
    const read = typed ? reader.readTyped(1000) : reader.readStartup(1000);
    await writeParts(pair.client, [bytes]);
    await expect(read).rejects.toMatchObject({ code: 'PGW_WIRE_PROTOCOL_VIOLATION' });
  });

  it('rejects the waiting read when the client closes mid-packet', async () => {
    await using pair = await socketPair();
    const reader = new PacketReader(pair.server);
    const read = reader.readStartup(10_000);
    await writeParts(pair.client, [STARTUP.subarray(0, 10)]);
    pair.client.end();
    await expect(read).rejects.toMatchObject({
      code: 'PGW_WIRE_PROTOCOL_VIOLATION',
      message: expect.stringMatching(/closed/),
    });
    await expect(reader.readTyped(100)).rejects.toMatchObject({
      code: 'PGW_WIRE_PROTOCOL_VIOLATION',
    });
  });

  it('refuses a second read while one is waiting', async () => {
    await using pair = await socketPair();
    const reader = new PacketReader(pair.server);
    const first = reader.readStartup(10_000);
    await expect(reader.readTyped(100)).rejects.toMatchObject({ code: 'PGW_INTERNAL' });
    await writeParts(pair.client, [STARTUP]);
    expect(await first).toEqual(STARTUP);
  });
});
