// Logs never carry secrets: a CLI gateway at log level debug sees good and bad logins, queries, errors,
// a failed upstream login (wrong upstream password in the config) and a shutdown; no stderr line may
// contain a client password, the upstream password or the wrong passwords that were tried.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { describe, expect, inject, it } from 'vitest';
import { startCliGateway } from '../harness/cli-gateway.js';
import { gatewayConfigDoc, TEST_USERS } from '../harness/gateway.js';
import { frame, RawConnection } from '../harness/raw-wire.js';

const info = inject('pg');

async function connectError(config: pg.ClientConfig): Promise<{ code?: string }> {
  const client = new pg.Client(config);
  try {
    await client.connect();
  } catch (error) {
    return error as { code?: string };
  } finally {
    await client.end().catch(() => undefined);
  }
  throw new Error('the connection was accepted');
}

describe('logs never contain secrets', () => {
  it('keeps client, upstream and wrong passwords out of every debug log line', async () => {
    const wrongClientPassword = `wrong-client-${randomBytes(9).toString('hex')}`;
    const wrongUpstreamPassword = `wrong-upstream-${randomBytes(9).toString('hex')}`;
    const good = (gatewayConfigDoc(info).upstreams as Record<string, unknown>[])[0]!;
    await using gw = await startCliGateway(info, {
      config: {
        log: { level: 'debug' },
        upstreams: [
          good,
          { ...good, name: 'broken', password: { env: 'TEST_WRONG_UPSTREAM_PASSWORD' } },
        ],
      },
      env: { TEST_WRONG_UPSTREAM_PASSWORD: wrongUpstreamPassword },
    });

    // A good login with queries, an error and the extended protocol.
    const client = new pg.Client({ connectionString: gw.url('agent') });
    await client.connect();
    expect((await client.query('select $1::text as v', ['x'])).rows).toEqual([{ v: 'x' }]);
    await expect(client.query('select * from no_such_table')).rejects.toMatchObject({
      code: '42P01',
    });
    await client.end();

    // Bad logins: wrong password for a known identity, any password for an unknown one.
    const base = { host: '127.0.0.1', port: gw.port, database: 'app' };
    expect(
      await connectError({ ...base, user: TEST_USERS.ops.name, password: wrongClientPassword }),
    ).toMatchObject({ code: '28P01' });
    expect(
      await connectError({ ...base, user: 'nobody', password: TEST_USERS.agent.password }),
    ).toMatchObject({ code: '28P01' });

    // The upstream refuses the gateway's (wrong) credential: the client sees 08006, nothing more.
    const upstreamFailure = await connectError({
      ...base,
      database: 'broken',
      user: TEST_USERS.agent.name,
      password: TEST_USERS.agent.password,
    });
    expect(upstreamFailure).toMatchObject({ code: '08006' });

    // A password message without its terminator is refused; its content must not be echoed.
    await using raw = await RawConnection.connect(gw.port);
    raw.write(serialize.startup({ user: TEST_USERS.ops.name, database: 'app' }));
    expect((await raw.next())?.type).toBe('R');
    raw.write(frame('p', Buffer.from(TEST_USERS.ops.password)));
    expect(await raw.expectError()).toMatchObject({ code: '08P01' });

    await gw.waitForLog((r) => r.msg === 'upstream login failed', 'the upstream failure line');
    await gw.waitForLog((r) => r.msg === 'authentication failed', 'the auth failure line');
    await gw[Symbol.asyncDispose]();

    const secrets = [
      ...Object.values(TEST_USERS).map((u) => u.password),
      info.scramPassword,
      info.md5Password,
      wrongClientPassword,
      wrongUpstreamPassword,
    ];
    expect(gw.lines.length).toBeGreaterThan(5);
    for (const line of gw.lines) {
      for (const secret of secrets) {
        expect(line.includes(secret), `log line leaks a secret: ${line}`).toBe(false);
      }
    }
  });
});
