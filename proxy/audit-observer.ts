// The thin adapter between the gateway and the audit module: observer calls become audit records, sealed
// into each session's hash chain and handed to the writer as table lines. It never throws into a connection.

import { createChainBook } from '../audit/chain.js';
import { sessionLine } from '../audit/encode.js';
import { toSessionClosed, toSessionOpened, toStatementRecords } from '../audit/map.js';
import type { AuditEntry } from '../audit/record.js';
import type { Logger } from '../lib/log.js';
import type { GatewayObserver } from './gateway.js';

export interface AuditObserverOptions {
  readonly writer: {
    write(entry: AuditEntry): void;
    accepting(): boolean;
  };
  /** SECURITY: 'raw' records literals (secrets included); the default is 'normalized'. */
  readonly statementText: 'normalized' | 'raw';
  readonly log: Logger;
  /** Epoch milliseconds for session records; statement records use the gate's own clock. */
  readonly now?: () => number;
}

export interface AuditObserver extends Required<GatewayObserver> {
  /** Sessions whose chain is open in this process. */
  readonly openSessions: number;
  /** False while the writer refuses records (fail_closed with a full spool). */
  accepting(): boolean;
}

export function createAuditObserver(options: AuditObserverOptions): AuditObserver {
  const { writer, log } = options;
  const now = options.now ?? Date.now;
  const chains = createChainBook();
  const tls = new Map<string, boolean>();
  const mapOptions = { statementText: options.statementText };
  const guarded =
    <A extends unknown[]>(what: string, fn: (...args: A) => void) =>
    (...args: A): void => {
      try {
        fn(...args);
      } catch (err) {
        // The audit path must never take a connection down; the fault is logged, never silent.
        log.error('audit record could not be built', { what, err });
      }
    };

  return {
    sessionOpened: guarded('sessionOpened', (info, details) => {
      tls.set(info.id, details.tls);
      writer.write({ table: 'sessions', row: sessionLine(toSessionOpened(info, details, now())) });
    }),
    statementDone: guarded('statementDone', (info, done) => {
      // A chain restarted after close would repeat seq 1: verification then flags it as duplicate.
      if (!tls.has(info.id))
        log.warn('audit: statement of a session not open', { session: info.id });
      for (const row of chains.sealLines(toStatementRecords(info, done, mapOptions)))
        writer.write({ table: 'statements', row });
    }),
    sessionClosed: guarded('sessionClosed', (info, details) => {
      const head = chains.close(info.id);
      const record = toSessionClosed(
        info,
        { ...details, tls: tls.get(info.id) ?? false },
        head,
        now(),
      );
      tls.delete(info.id);
      writer.write({ table: 'sessions', row: sessionLine(record) });
    }),
    get openSessions() {
      return chains.openSessions;
    },
    accepting: () => writer.accepting(),
  };
}
