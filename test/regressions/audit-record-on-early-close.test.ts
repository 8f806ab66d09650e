// A client that sends a statement and Terminate in one write, without waiting for the answer, must still
// leave the statement's record: the session ends with the request in flight.
import net from 'node:net';
import { serialize } from 'pg-protocol';
import { expect, inject, it } from 'vitest';
import type { StatementDone } from '../../proxy/session/requests.js';
import { startGateway, TEST_USERS } from '../harness/gateway.js';
import { createTestPolicy } from '../harness/policy.js';

const info = inject('pg');

it('records a statement whose session ends before its answer', async () => {
  await using policy = await createTestPolicy({ grants: [] });
  const done: StatementDone[] = [];
  const closed: string[] = [];
  await using gw = await startGateway(info, {
    config: { policy: { bundle_dir: policy.bundleDir } },
    observer: {
      statementDone: (_s, d) => done.push(d),
      sessionClosed: (s) => closed.push(s.id),
    },
  });
  const socket = net.connect(gw.port, '127.0.0.1');
  const received: Buffer[] = [];
  socket.on('data', (d: Buffer) => received.push(d));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const u = TEST_USERS.agent;
  socket.write(serialize.startup({ user: u.name, database: 'app' }));
  // wait for the password request ('R' with code 3), answer it, then wait for ReadyForQuery
  const until = (type: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (Buffer.concat(received).includes(type)) {
          socket.off('data', check);
          resolve();
        }
      };
      socket.on('data', check);
      check();
    });
  await until(0x52);
  socket.write(serialize.password(u.password));
  await until(0x5a);
  socket.end(Buffer.concat([serialize.query('select * from audit_early_close'), serialize.end()]));
  await expect.poll(() => closed.length).toBe(1);
  expect(done).toHaveLength(1);
  expect(done[0]!.event?.verdict.outcome).toBe('blocked');
  expect(done[0]!.event?.statements[0]?.facts.command).toBe('SELECT');
});
