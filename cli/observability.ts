// Metrics and health of one gateway process: a Prometheus registry fed by the gateway observer, and the
// health report the API serves.

import type { HealthReport } from '../api/routes/audit-ops.js';
import type { AuditWriter } from '../audit/writer.js';
import { type BoundCounter, createMetricsRegistry, type MetricsRegistry } from '../lib/metrics.js';
import type { GatewayObserver } from '../proxy/gateway.js';

export interface Observability {
  readonly registry: MetricsRegistry;
  /** Wraps an observer so every record also counts in the metrics. */
  observe(observer: Required<GatewayObserver>): Required<GatewayObserver>;
  health(): HealthReport;
}

export interface ObservabilityDeps {
  readonly sessions: () => number;
  readonly revision: () => string | null;
  readonly writer: Pick<AuditWriter, 'queueDepth' | 'spoolBytes' | 'accepting'> | null;
  readonly policyDisabled: boolean;
}

export function createObservability(deps: ObservabilityDeps): Observability {
  const registry = createMetricsRegistry();
  const statements = registry.counter({
    name: 'pgward_statements_total',
    help: 'Statements judged, by outcome.',
    labelNames: ['outcome'],
  });
  const duration = registry.histogram({
    name: 'pgward_upstream_seconds',
    help: 'Time from the decision to the statement’s last answer from the upstream.',
  });
  registry.gauge({
    name: 'pgward_sessions',
    help: 'Open client sessions.',
    collect: (g) => g.set(deps.sessions()),
  });
  registry.gauge({
    name: 'pgward_bundle_revision_info',
    help: 'The serving policy bundle (value 1, revision in the label).',
    labelNames: ['revision'],
    collect: (g) => {
      g.reset();
      g.set(1, { revision: deps.revision() ?? 'none' });
    },
  });
  registry.gauge({
    name: 'pgward_audit_queue_depth',
    help: 'Audit records waiting in memory.',
    collect: (g) => g.set(deps.writer?.queueDepth ?? 0),
  });
  registry.gauge({
    name: 'pgward_audit_spool_bytes',
    help: 'Bytes of audit records spooled to disk while the store is unavailable.',
    collect: (g) => g.set(deps.writer?.spoolBytes ?? 0),
  });
  /** The statements counter per outcome, bound once (outcomes are a fixed handful). */
  const byOutcome = new Map<string, BoundCounter>();
  const countStatement = (outcome: string) => {
    let counter = byOutcome.get(outcome);
    if (counter === undefined) {
      counter = statements.bind({ outcome });
      byOutcome.set(outcome, counter);
    }
    counter.inc();
  };
  return {
    registry,
    observe: (observer) => ({
      ...observer,
      statementDone(session, done) {
        observer.statementDone(session, done);
        countStatement(done.event?.verdict.outcome ?? 'unjudged');
        duration.observe(done.durationMs / 1000);
      },
    }),
    health() {
      const revision = deps.revision();
      const writer = deps.writer;
      const store =
        writer === null
          ? 'disabled'
          : !writer.accepting()
            ? 'failing'
            : writer.spoolBytes > 0
              ? 'spooling'
              : 'ok';
      const status =
        (revision === null && !deps.policyDisabled) || store === 'failing'
          ? 'down'
          : store === 'spooling'
            ? 'degraded'
            : 'ok';
      return { status, bundle_revision: revision, store };
    },
  };
}
