// Framer at the byte level: every fixture also split at every offset and in 1-byte chunks must reproduce the
// input exactly (forwarded runs + inspected messages, in order); limits, faults, pause/resume and stop.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PgwardError } from '../../lib/errors.js';
import {
  chunks,
  concat,
  everySplit,
  msg,
  msgByte,
  query,
  sync,
  terminate,
} from '../../test/harness/bytes.js';
import { Disposition, dispositionTable, Framer, type FramerLimits } from './framer.js';

const F = Disposition.forward;
const I = Disposition.inspect;
const TABLE = dispositionTable({ Q: I, S: I, X: I, P: F, B: F, E: F, D: F, H: F, d: F });
const LIMITS: FramerLimits = { maxInspectLength: 1 << 20, maxForwardLength: 1 << 24 };

type Event =
  | { kind: 'forward'; bytes: Buffer }
  | { kind: 'message'; type: number; raw: Buffer; bodyOk: boolean }
  | { kind: 'fault'; error: PgwardError };

function harness(
  limits: FramerLimits = LIMITS,
  onMessage?: (framer: Framer, type: number) => void,
): { framer: Framer; events: Event[] } {
  const events: Event[] = [];
  const framer: Framer = new Framer(TABLE, limits, {
    forward: (bytes) => events.push({ kind: 'forward', bytes: Buffer.from(bytes) }),
    message: (type, body, raw) => {
      const bodyOk =
        raw[0] === type &&
        raw.readInt32BE(1) === raw.length - 1 &&
        body.equals(raw.subarray(5)) &&
        body.buffer === raw.buffer;
      // Copies: both views are only valid during the call.
      events.push({ kind: 'message', type, raw: Buffer.from(raw), bodyOk });
      onMessage?.(framer, type);
    },
    fault: (error) => events.push({ kind: 'fault', error }),
  });
  return { framer, events };
}

/** Splits well-formed input into its messages (test-side reference framing). */
function messagesOf(input: Buffer): { type: number; raw: Buffer }[] {
  const out: { type: number; raw: Buffer }[] = [];
  for (let pos = 0; pos < input.length; ) {
    const end = pos + 1 + input.readInt32BE(pos + 1);
    out.push({ type: input[pos]!, raw: input.subarray(pos, end) });
    pos = end;
  }
  return out;
}

const inspectedOf = (input: Buffer) => messagesOf(input).filter((m) => TABLE[m.type] === I);

/** Describes the first way `events` fail to reproduce `input`, or returns null. */
function mismatch(input: Buffer, events: readonly Event[]): string | null {
  const expected = inspectedOf(input);
  let offset = 0;
  let nth = 0;
  for (const e of events) {
    if (e.kind === 'fault') return `unexpected fault ${e.error.code}: ${e.error.message}`;
    const bytes = e.kind === 'forward' ? e.bytes : e.raw;
    if (!bytes.equals(input.subarray(offset, offset + bytes.length))) {
      return `${e.kind} at input offset ${offset} differs from the input`;
    }
    offset += bytes.length;
    if (e.kind === 'message') {
      const want = expected[nth++];
      if (want === undefined || !want.raw.equals(e.raw)) return `inspected message ${nth} differs`;
      if (!e.bodyOk) return `inspected message ${nth} has an inconsistent body view`;
    }
  }
  if (offset !== input.length) return `reproduced ${offset} of ${input.length} bytes`;
  if (nth !== expected.length) return `delivered ${nth} of ${expected.length} inspected messages`;
  return null;
}

function feed(input: Buffer, parts: readonly Buffer[]): string | null {
  const { framer, events } = harness();
  for (const part of parts) framer.push(part);
  const problem = mismatch(input, events);
  if (problem === null && !framer.atBoundary) return 'framer not at a message boundary at the end';
  return problem;
}

/** Feeds `input` whole, split at every byte offset, and in 1-byte chunks; collects failures. */
function everyWay(input: Buffer): string[] {
  const failures: string[] = [];
  const whole = feed(input, [input]);
  if (whole !== null) failures.push(`whole: ${whole}`);
  for (const [head, tail] of everySplit(input)) {
    const problem = feed(input, [head, tail]);
    if (problem !== null) failures.push(`split at ${head.length}: ${problem}`);
    if (failures.length > 5) break;
  }
  const bytewise = feed(input, chunks(input, 1));
  if (bytewise !== null) failures.push(`1-byte chunks: ${bytewise}`);
  return failures;
}

const parse = msg('P').cstring('').cstring('select $1::int').int16(1).int32(23).build();
const bind = msg('B')
  .cstring('')
  .cstring('')
  .int16(0)
  .int16(1)
  .int32(1)
  .string('7')
  .int16(0)
  .build();
const execute = msg('E').cstring('').int32(0).build();
const describeMsg = msg('D').byte(0x50).cstring('').build();
const flush = msg('H').build();
const copyData = (n: number) => msg('d').fill(n, 0x78).build();

const FIXTURES: Record<string, Buffer> = {
  'inspected Query': query('select 1'),
  'inspected empty-body Sync': sync(),
  'inspected Terminate': terminate(),
  'forwarded Parse': parse,
  'forwarded empty-body Flush': flush,
  'forwarded CopyData': copyData(10),
  'extended pipeline': concat(parse, bind, describeMsg, execute, sync()),
  'mixed run': concat(
    query('begin'),
    parse,
    bind,
    execute,
    flush,
    sync(),
    copyData(3),
    query('x'),
    terminate(),
  ),
  'inspected messages back to back': concat(query('a'), sync(), query('bb'), sync(), terminate()),
  'forwarded messages back to back': concat(flush, copyData(0), parse, flush, execute),
  'large forwarded message': concat(query('copy'), copyData(20_000), sync()),
  'large inspected message': concat(flush, query('x'.repeat(20_000)), flush),
};

describe('Framer reproduces its input', () => {
  for (const [name, input] of Object.entries(FIXTURES)) {
    it(`${name}: whole, at every split offset and byte by byte`, () => {
      expect(everyWay(input)).toEqual([]);
    });
  }

  it('forwards a run of forwarded messages in one chunk as one zero-copy slice', () => {
    const input = concat(parse, bind, execute, flush);
    const seen: Buffer[] = [];
    const framer = new Framer(TABLE, LIMITS, {
      forward: (b) => seen.push(b),
      message: () => expect.unreachable('no inspected message'),
      fault: (e) => expect.unreachable(e.message),
    });
    framer.push(input);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.buffer).toBe(input.buffer);
    expect(seen[0]!.equals(input)).toBe(true);
  });

  it('a 1 MiB forwarded message is streamed, never buffered', () => {
    const big = copyData(1 << 20);
    const { framer, events } = harness();
    for (const part of chunks(big, 65_536)) {
      framer.push(part);
      expect(framer.buffered).toBeLessThan(5);
    }
    expect(mismatch(big, events)).toBeNull();
  });

  it('property: random valid messages split at random points reproduce the input', () => {
    const types = ['Q', 'S', 'X', 'P', 'B', 'E', 'D', 'H', 'd'];
    const message = fc
      .record({
        type: fc.constantFrom(...types),
        body: fc.uint8Array({ maxLength: 300 }),
      })
      .map(({ type, body }) => msg(type).bytes(body).build());
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (messages, cuts) => {
          const input = concat(...messages);
          const offsets = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort(
            (a, b) => a - b,
          );
          const parts: Buffer[] = [];
          let from = 0;
          for (const cut of offsets) {
            parts.push(input.subarray(from, cut));
            from = cut;
          }
          parts.push(input.subarray(from));
          expect(feed(input, parts)).toBeNull();
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Framer pause and resume', () => {
  const input = concat(query('one'), parse, sync(), bind, execute, query('two'), terminate());

  it('pausing in every message handler delivers the rest one message per resume, in order', () => {
    const failures: string[] = [];
    const splits = [...everySplit(input)].map(([a, b]) => [a, b]);
    for (const parts of [[input], chunks(input, 1), ...splits]) {
      const { framer, events } = harness(LIMITS, (f) => f.pause());
      for (const part of parts) framer.push(part);
      let resumes = 0;
      let lastCount = events.filter((e) => e.kind === 'message').length;
      if (lastCount > 1) failures.push('more than one message before the first resume');
      while (framer.paused && resumes < 100) {
        framer.resume();
        resumes++;
        const count = events.filter((e) => e.kind === 'message').length;
        if (count - lastCount > 1)
          failures.push(`resume ${resumes} delivered ${count - lastCount}`);
        lastCount = count;
      }
      const problem = mismatch(input, events);
      if (problem !== null) failures.push(`${parts.length} parts: ${problem}`);
      if (failures.length > 5) break;
    }
    expect(failures).toEqual([]);
  });

  it('chunks pushed while paused wait, then arrive in order after resume', () => {
    const { framer, events } = harness(LIMITS, (f, type) => {
      if (type === 0x51) f.pause();
    });
    const parts = chunks(input, 7);
    framer.push(parts[0]!);
    framer.push(parts[1]!);
    expect(framer.paused).toBe(true);
    const before = events.length;
    for (const part of parts.slice(2)) framer.push(part);
    expect(events.length).toBe(before);
    expect(framer.buffered).toBeGreaterThan(0);
    for (let i = 0; i < 10 && framer.paused; i++) framer.resume();
    expect(mismatch(input, events)).toBeNull();
  });
});

describe('Framer limits', () => {
  const limits: FramerLimits = { maxInspectLength: 100, maxForwardLength: 200 };
  const withBody = (type: string, length: number) =>
    msg(type)
      .fill(length - 4)
      .build();

  function outcome(input: Buffer, split?: number) {
    const { framer, events } = harness(limits);
    if (split === undefined) framer.push(input);
    else {
      framer.push(input.subarray(0, split));
      framer.push(input.subarray(split));
    }
    return { framer, events, faults: events.filter((e) => e.kind === 'fault') };
  }

  it.each([
    ['inspected', 'Q', 100],
    ['forwarded', 'd', 200],
  ])('accepts an %s message whose length is exactly the limit', (_kind, type, limit) => {
    const input = withBody(type, limit);
    expect(everyWay(input)).toEqual([]);
    expect(outcome(input).faults).toEqual([]);
  });

  it.each([
    ['inspected', 'Q', 101],
    ['forwarded', 'd', 201],
  ])('refuses an %s message of limit + 1 before buffering it', (_kind, type, length) => {
    const input = concat(sync(), withBody(type, length));
    for (let split = 0; split <= 10; split++) {
      const { events, faults, framer } = outcome(input, split);
      expect(faults).toHaveLength(1);
      expect(faults[0]).toMatchObject({ error: { code: 'PGW_WIRE_MESSAGE_TOO_LARGE' } });
      expect(events.at(-1)?.kind).toBe('fault');
      expect(events.filter((e) => e.kind === 'message')).toHaveLength(1);
      expect(framer.buffered).toBe(0);
    }
  });

  it.each(['Q', 'd'])('refuses a declared length of 2^31-1 (%s) from the header alone', (type) => {
    const header = msg(type).declareLength(0x7fffffff).build();
    for (let split = 0; split <= header.length; split++) {
      const { events, framer } = outcome(header, split);
      expect(events.map((e) => e.kind)).toEqual(['fault']);
      expect(events[0]).toMatchObject({ error: { code: 'PGW_WIRE_MESSAGE_TOO_LARGE' } });
      expect(framer.buffered).toBe(0);
    }
  });

  it('streams a declared 2^31-1 forwarded message when the forward limit allows it', () => {
    const { framer, events } = harness({ maxInspectLength: 100, maxForwardLength: 0x7fffffff });
    const head = msg('d').declareLength(0x7fffffff).fill(1000).build();
    for (const part of chunks(head, 3)) framer.push(part);
    expect(events.every((e) => e.kind === 'forward')).toBe(true);
    expect(
      concat(...events.map((e) => (e.kind === 'forward' ? e.bytes : Buffer.alloc(0)))),
    ).toEqual(head);
    expect(framer.atBoundary).toBe(false);
    expect(framer.buffered).toBe(0);
  });

  it.each([-1, -0x80000000, 0, 3])(
    'refuses a declared length of %i as a protocol violation',
    (length) => {
      const input = concat(query('ok'), msg('Q').declareLength(length).build(), sync());
      for (let split = 0; split <= input.length; split++) {
        const { events, faults } = outcome(input, split);
        expect(faults).toHaveLength(1);
        expect(faults[0]).toMatchObject({ error: { code: 'PGW_WIRE_PROTOCOL_VIOLATION' } });
        expect(events.filter((e) => e.kind === 'message')).toHaveLength(1);
        expect(events.at(-1)?.kind).toBe('fault');
      }
    },
  );
});

describe('Framer faults and stop', () => {
  const before = concat(query('first'), parse, bind, execute, sync());
  const after = concat(query('after'), parse, sync());

  it.each([0x00, 0x70, 0xff, 0x4b])(
    'type byte 0x%s: fault, earlier messages kept, nothing after',
    (bad) => {
      const input = concat(before, msgByte(bad).cstring('zz').build(), after);
      for (const parts of [
        [input],
        chunks(input, 1),
        ...[...everySplit(input)].map(([a, b]) => [a, b]),
      ]) {
        const { framer, events } = harness();
        for (const part of parts) framer.push(part);
        const faultAt = events.findIndex((e) => e.kind === 'fault');
        expect(faultAt).toBe(events.length - 1);
        expect(events[faultAt]).toMatchObject({ error: { code: 'PGW_WIRE_PROTOCOL_VIOLATION' } });
        expect(mismatch(before, events.slice(0, faultAt))).toBeNull();
        framer.push(after);
        expect(events.length).toBe(faultAt + 1);
      }
    },
  );

  it('stop() in a message handler prevents all further delivery', () => {
    const input = concat(query('one'), parse, query('two'), sync());
    for (const [head, tail] of everySplit(input)) {
      const { framer, events } = harness(LIMITS, (f) => f.stop());
      framer.push(head);
      framer.push(tail);
      framer.push(input);
      expect(events.filter((e) => e.kind !== 'forward')).toHaveLength(1);
      expect(events.filter((e) => e.kind === 'message')[0]).toMatchObject({ type: 0x51 });
      framer.resume();
      expect(events.filter((e) => e.kind === 'message')).toHaveLength(1);
    }
  });

  it('stop() while paused drops the queued bytes', () => {
    const { framer, events } = harness(LIMITS, (f) => f.pause());
    framer.push(concat(query('one'), query('two'), sync()));
    expect(framer.buffered).toBeGreaterThan(0);
    framer.stop();
    framer.resume();
    expect(events).toHaveLength(1);
    expect(framer.buffered).toBe(0);
  });
});

describe('Framer rewrite runs', () => {
  const R = Disposition.rewrite;
  // As in a masking session: DataRows ('D') rewritten, results and ReadyForQuery inspected.
  const REWRITE_TABLE = dispositionTable({ D: R, T: I, C: I, Z: I, N: F, d: F });
  const row = (value: string) =>
    msg('D').int16(1).int32(Buffer.byteLength(value)).string(value).build();
  const rows = (n: number, from = 0) =>
    concat(...Array.from({ length: n }, (_, i) => row(`v${from + i}`)));
  const rowDescription = msg('T')
    .int16(1)
    .cstring('c')
    .int32(0)
    .int16(0)
    .int32(25)
    .int16(-1)
    .int32(-1)
    .int16(0)
    .build();
  const complete = msg('C').cstring('SELECT 3').build();
  const ready = msg('Z').byte(0x49).build();
  const notice = msg('N').byte(0).build();
  const result = concat(rowDescription, rows(3), notice, rows(2, 3), complete, ready);

  type RunEvent =
    | { kind: 'forward'; bytes: Buffer }
    | { kind: 'run'; type: number; bytes: Buffer }
    | { kind: 'message'; type: number; bytes: Buffer }
    | { kind: 'fault'; error: PgwardError };

  function runHarness(
    withRewrite = true,
    onRun?: (framer: Framer) => void,
    limits: FramerLimits = LIMITS,
  ): { framer: Framer; events: RunEvent[] } {
    const events: RunEvent[] = [];
    const framer: Framer = new Framer(REWRITE_TABLE, limits, {
      forward: (bytes) => events.push({ kind: 'forward', bytes: Buffer.from(bytes) }),
      message: (type, _body, raw) =>
        events.push({ kind: 'message', type, bytes: Buffer.from(raw) }),
      ...(withRewrite
        ? {
            rewrite: (type: number, src: Buffer, start: number, end: number) => {
              events.push({ kind: 'run', type, bytes: Buffer.from(src.subarray(start, end)) });
              onRun?.(framer);
            },
          }
        : {}),
      fault: (error) => events.push({ kind: 'fault', error }),
    });
    return { framer, events };
  }

  /** The first way the events fail to reproduce `input` with runs of whole same-type messages. */
  function runMismatch(input: Buffer, events: readonly RunEvent[]): string | null {
    let offset = 0;
    for (const e of events) {
      if (e.kind === 'fault') return `unexpected fault ${e.error.message}`;
      if (!e.bytes.equals(input.subarray(offset, offset + e.bytes.length)))
        return `${e.kind} at input offset ${offset} differs from the input`;
      if (e.kind === 'run') {
        const inner = messagesOf(e.bytes);
        if (inner.length === 0 || inner.some((m) => m.type !== e.type))
          return `run at ${offset} is not whole messages of its type`;
      }
      if (e.kind === 'message' && REWRITE_TABLE[e.type] !== I)
        return `a rewrite or forwarded message came alone at ${offset}`;
      offset += e.bytes.length;
    }
    return offset === input.length ? null : `reproduced ${offset} of ${input.length} bytes`;
  }

  it('hands back-to-back rewrite messages over as one run, by offsets into the chunk', () => {
    const { framer, events } = runHarness();
    framer.push(result);
    expect(runMismatch(result, events)).toBeNull();
    expect(events.map((e) => e.kind)).toEqual([
      'message',
      'run',
      'forward',
      'run',
      'message',
      'message',
    ]);
    expect(events.filter((e) => e.kind === 'run').map((e) => messagesOf(e.bytes).length)).toEqual([
      3, 2,
    ]);
  });

  it('reproduces the input whole, at every split offset and byte by byte', () => {
    const failures: string[] = [];
    const splits = [...everySplit(result)].map(([a, b]) => [a, b]);
    for (const parts of [[result], chunks(result, 1), ...splits]) {
      const { framer, events } = runHarness();
      for (const part of parts) framer.push(part);
      const problem = runMismatch(result, events);
      if (problem !== null) failures.push(`${parts.length} parts: ${problem}`);
      if (!framer.atBoundary) failures.push(`${parts.length} parts: not at a boundary`);
    }
    expect(failures).toEqual([]);
  });

  it('a row split across chunks comes alone, reassembled', () => {
    const input = rows(2);
    const { framer, events } = runHarness();
    framer.push(input.subarray(0, 3));
    framer.push(input.subarray(3));
    expect(events.map((e) => (e.kind === 'run' ? messagesOf(e.bytes).length : e.kind))).toEqual([
      1, 1,
    ]);
  });

  it('without a rewrite handler the messages are delivered one by one as inspected', () => {
    const { framer, events } = runHarness(false);
    framer.push(result);
    expect(events.filter((e) => e.kind === 'message' && e.type === 0x44)).toHaveLength(5);
    expect(events.filter((e) => e.kind === 'run')).toHaveLength(0);
  });

  it('pausing in the rewrite handler holds the rest of the chunk until resume, in order', () => {
    const failures: string[] = [];
    for (const parts of [[result], ...[...everySplit(result)].map(([a, b]) => [a, b])]) {
      const { framer, events } = runHarness(true, (f) => f.pause());
      for (const part of parts) framer.push(part);
      const runs = () => events.filter((e) => e.kind === 'run').length;
      let seen = runs();
      for (let i = 0; i < 20 && framer.paused; i++) {
        framer.resume();
        if (runs() - seen > 1) failures.push(`${parts.length} parts: two runs in one resume`);
        seen = runs();
      }
      const problem = runMismatch(result, events);
      if (problem !== null) failures.push(`${parts.length} parts: ${problem}`);
    }
    expect(failures).toEqual([]);
  });

  it('stop() in the rewrite handler ends delivery', () => {
    const { framer, events } = runHarness(true, (f) => f.stop());
    framer.push(result);
    expect(events.map((e) => e.kind)).toEqual(['message', 'run']);
  });

  it('a rewrite message over the inspect limit is refused after the run before it', () => {
    const limits: FramerLimits = { maxInspectLength: 40, maxForwardLength: 1000 };
    const input = concat(rows(2), row('x'.repeat(40)), rows(1));
    for (let split = 0; split <= input.length; split++) {
      const { framer, events } = runHarness(true, undefined, limits);
      framer.push(input.subarray(0, split));
      framer.push(input.subarray(split));
      expect(events.at(-1)).toMatchObject({
        kind: 'fault',
        error: { code: 'PGW_WIRE_MESSAGE_TOO_LARGE' },
      });
      const delivered = concat(...events.filter((e) => e.kind === 'run').map((e) => e.bytes));
      expect(delivered).toEqual(rows(2));
    }
  });
});

describe('Framer observed messages', () => {
  const O = Disposition.observe;
  // As in a policy session: the messages that start or end a request are observed, Terminate inspected.
  const OBSERVE_TABLE = dispositionTable({ Q: O, S: O, X: I, P: F, B: F, E: F, D: F, H: F, d: F });
  const taken = query('take over');
  const input = concat(
    parse,
    bind,
    describeMsg,
    execute,
    sync(),
    query('pass'),
    taken,
    flush,
    sync(),
    terminate(),
  );

  type ObserveEvent =
    | { kind: 'forward'; bytes: Buffer; same: boolean }
    | { kind: 'observe'; type: number; bytes: Buffer }
    | { kind: 'message'; type: number; bytes: Buffer; bodyOk: boolean }
    | { kind: 'fault'; error: PgwardError };

  interface ObserveHarness {
    readonly framer: Framer;
    readonly events: ObserveEvent[];
    /** Pushes a chunk, remembering it so a forwarded slice can be told to be that very chunk. */
    push(part: Buffer): void;
  }

  /** `pass` decides per observed message (its raw bytes) whether it stays in the forwarded run. */
  function observeHarness(
    pass: (raw: Buffer) => boolean,
    onMessage?: (framer: Framer) => void,
    withObserve = true,
    limits: FramerLimits = LIMITS,
  ): ObserveHarness {
    const events: ObserveEvent[] = [];
    const pushed: Buffer[] = [];
    const framer: Framer = new Framer(OBSERVE_TABLE, limits, {
      forward: (bytes) =>
        events.push({
          kind: 'forward',
          bytes: Buffer.from(bytes),
          same: pushed.some((p) => p === bytes),
        }),
      message: (type, body, raw) => {
        const bodyOk = body.equals(raw.subarray(5)) && raw.readInt32BE(1) === raw.length - 1;
        events.push({ kind: 'message', type, bytes: Buffer.from(raw), bodyOk });
        onMessage?.(framer);
      },
      ...(withObserve
        ? {
            observe: (type: number, src: Buffer, start: number, end: number) => {
              const raw = Buffer.from(src.subarray(start, end));
              events.push({ kind: 'observe', type, bytes: raw });
              return pass(raw);
            },
          }
        : {}),
      fault: (error) => events.push({ kind: 'fault', error }),
    });
    return {
      framer,
      events,
      push(part) {
        pushed.push(part);
        framer.push(part);
      },
    };
  }

  /**
   * The first way the events fail the observe contract: the forwarded and delivered bytes reproduce the
   * input in order, every observed message is seen once and in order, and a message comes to `message`
   * exactly when it is inspected or was taken over (after its own observation, before any other).
   */
  function observeMismatch(events: readonly ObserveEvent[], takes: (raw: Buffer) => boolean) {
    const expected = messagesOf(input);
    const observedWant = expected.filter((m) => OBSERVE_TABLE[m.type] === O);
    const messagesWant = expected.filter(
      (m) => OBSERVE_TABLE[m.type] === I || (OBSERVE_TABLE[m.type] === O && takes(m.raw)),
    );
    let offset = 0;
    let observed = 0;
    let delivered = 0;
    let lastObserved: Buffer | null = null;
    for (const e of events) {
      if (e.kind === 'fault') return `unexpected fault ${e.error.message}`;
      if (e.kind === 'observe') {
        if (!observedWant[observed++]?.raw.equals(e.bytes)) return `observed ${observed} differs`;
        lastObserved = e.bytes;
        continue;
      }
      if (!e.bytes.equals(input.subarray(offset, offset + e.bytes.length)))
        return `${e.kind} at input offset ${offset} differs from the input`;
      offset += e.bytes.length;
      if (e.kind === 'message') {
        if (!messagesWant[delivered++]?.raw.equals(e.bytes)) return `message ${delivered} differs`;
        if (!e.bodyOk) return `message ${delivered} has an inconsistent body view`;
        if (OBSERVE_TABLE[e.type] === O && lastObserved?.equals(e.bytes) !== true)
          return `taken-over message ${delivered} did not follow its observation`;
      }
    }
    if (offset !== input.length) return `reproduced ${offset} of ${input.length} bytes`;
    if (observed !== observedWant.length) return `observed ${observed} of ${observedWant.length}`;
    if (delivered !== messagesWant.length)
      return `delivered ${delivered} of ${messagesWant.length}`;
    return null;
  }

  const partsOf = (buf: Buffer) => [
    [buf],
    chunks(buf, 1),
    ...[...everySplit(buf)].map(([a, b]) => [a, b]),
  ];
  const takesTheOne = (raw: Buffer) => raw.equals(taken);

  function run(
    pass: (raw: Buffer) => boolean,
    parts: readonly Buffer[],
    onMessage?: (f: Framer) => void,
  ): ObserveHarness {
    const h = observeHarness(pass, onMessage);
    for (const part of parts) h.push(part);
    return h;
  }

  it('keeps passed observed messages in the forwarded run: a chunk leaves as it came, zero-copy', () => {
    const chunk = concat(parse, bind, describeMsg, execute, sync(), query('pass'));
    const { events } = run(() => true, [chunk]);
    const forwards = events.filter((e) => e.kind === 'forward');
    expect(forwards).toHaveLength(1);
    expect(forwards[0]).toMatchObject({ same: true });
    expect(
      events.filter((e) => e.kind === 'observe').map((e) => (e as { type: number }).type),
    ).toEqual([0x53, 0x51]);
  });

  it('passing everything reproduces the input whole, at every split offset and byte by byte', () => {
    const failures: string[] = [];
    for (const parts of partsOf(input)) {
      const { framer, events } = run(() => true, parts);
      const problem = observeMismatch(events, () => false);
      if (problem !== null) failures.push(`${parts.length} parts: ${problem}`);
      if (!framer.atBoundary) failures.push(`${parts.length} parts: not at a boundary`);
    }
    expect(failures).toEqual([]);
  });

  it('a message taken over comes to message after its observation and the bytes before it', () => {
    const failures: string[] = [];
    for (const parts of partsOf(input)) {
      const { events } = run((raw) => !takesTheOne(raw), parts);
      const problem = observeMismatch(events, takesTheOne);
      if (problem !== null) failures.push(`${parts.length} parts: ${problem}`);
    }
    expect(failures).toEqual([]);
  });

  it('pausing for a taken-over message holds the rest until resume, in order', () => {
    const failures: string[] = [];
    for (const parts of partsOf(input)) {
      const { framer, events } = run(
        () => false,
        parts,
        (f) => f.pause(),
      );
      for (let i = 0; i < 50 && framer.paused; i++) framer.resume();
      const problem = observeMismatch(events, () => true);
      if (problem !== null) failures.push(`${parts.length} parts: ${problem}`);
    }
    expect(failures).toEqual([]);
  });

  it('stop() in the handler of a taken-over message ends delivery', () => {
    for (const parts of partsOf(input)) {
      const { framer, events } = run(
        (raw) => !takesTheOne(raw),
        parts,
        (f) => f.stop(),
      );
      framer.push(input);
      const delivered = concat(
        ...events.flatMap((e) => (e.kind === 'forward' || e.kind === 'message' ? [e.bytes] : [])),
      );
      expect(delivered.equals(input.subarray(0, input.indexOf(taken) + taken.length))).toBe(true);
      expect(events.at(-1)).toMatchObject({ kind: 'message', type: 0x51 });
    }
  });

  it('without an observe handler the messages are delivered as inspected', () => {
    const h = observeHarness(() => true, undefined, false);
    h.push(input);
    expect(h.events.filter((e) => e.kind === 'observe')).toHaveLength(0);
    expect(h.events.filter((e) => e.kind === 'message')).toHaveLength(5);
  });

  it('an observed message over the inspect limit is refused after the bytes before it', () => {
    const limits: FramerLimits = { maxInspectLength: 20, maxForwardLength: 1000 };
    const big = query('x'.repeat(40));
    const head = concat(parse, query('ok'));
    const all = concat(head, big, sync());
    for (let split = 0; split <= all.length; split++) {
      const h = observeHarness(() => true, undefined, true, limits);
      h.push(all.subarray(0, split));
      h.push(all.subarray(split));
      expect(h.events.at(-1)).toMatchObject({
        kind: 'fault',
        error: { code: 'PGW_WIRE_MESSAGE_TOO_LARGE' },
      });
      const forwarded = concat(...h.events.flatMap((e) => (e.kind === 'forward' ? [e.bytes] : [])));
      expect(forwarded.equals(head)).toBe(true);
    }
  });
});
