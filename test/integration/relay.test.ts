// The transparent relay end to end with node-postgres: login, simple and extended queries, errors.
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { startGateway } from '../harness/gateway.js';

const info = inject('pg');

describe('transparent relay', () => {
  it('relays simple and extended queries over a SCRAM + verify-full upstream', async () => {
    await using gw = await startGateway(info);
    const client = new pg.Client({ connectionString: gw.url() });
    await client.connect();
    const simple = await client.query('select 1 as one, current_user as who');
    expect(simple.rows).toEqual([{ one: 1, who: info.scramUser }]);
    const extended = await client.query('select $1::int + 1 as n', [41]);
    expect(extended.rows).toEqual([{ n: 42 }]);
    await expect(client.query('select * from no_such_table')).rejects.toMatchObject({
      code: '42P01',
    });
    expect((await client.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
    await client.end();
  });
});
