// The Prometheus registry: exact text exposition for each metric type, label escaping, cumulative
// histogram buckets, live gauges, and the bounds (series cap, name checks, counters only increase).
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, MAX_SERIES } from './metrics.js';

describe('metrics registry', () => {
  it('renders counters and gauges with labels in the text format', () => {
    const r = createMetricsRegistry();
    const statements = r.counter({
      name: 'pgward_statements_total',
      help: 'Statements judged, by outcome.',
      labelNames: ['outcome'],
    });
    statements.inc({ outcome: 'allowed' });
    statements.inc({ outcome: 'allowed' }, 2);
    statements.inc({ outcome: 'blocked' });
    const info = r.gauge({
      name: 'pgward_bundle_revision_info',
      help: 'The serving bundle.',
      labelNames: ['revision'],
    });
    info.set(1, { revision: 'abc' });
    info.reset();
    info.set(1, { revision: 'def' });
    expect(r.text()).toBe(
      [
        '# HELP pgward_statements_total Statements judged, by outcome.',
        '# TYPE pgward_statements_total counter',
        'pgward_statements_total{outcome="allowed"} 3',
        'pgward_statements_total{outcome="blocked"} 1',
        '# HELP pgward_bundle_revision_info The serving bundle.',
        '# TYPE pgward_bundle_revision_info gauge',
        'pgward_bundle_revision_info{revision="def"} 1',
        '',
      ].join('\n'),
    );
    expect(statements.get({ outcome: 'allowed' })).toBe(3);
  });

  it('escapes label values and help text', () => {
    const r = createMetricsRegistry();
    r.counter({ name: 'x_total', help: 'a\\b\nc', labelNames: ['v'] }).inc({ v: 'q"\\\n' });
    expect(r.text()).toContain('# HELP x_total a\\\\b\\nc\n');
    expect(r.text()).toContain('x_total{v="q\\"\\\\\\n"} 1\n');
  });

  it('renders cumulative histogram buckets, +Inf, sum and count', () => {
    const r = createMetricsRegistry();
    const h = r.histogram({ name: 'pgward_decision_seconds', help: 'd', buckets: [0.1, 1] });
    h.observe(0.05);
    h.observe(0.5);
    h.observe(3);
    expect(r.text().split('\n').slice(2, 7)).toEqual([
      'pgward_decision_seconds_bucket{le="0.1"} 1',
      'pgward_decision_seconds_bucket{le="1"} 2',
      'pgward_decision_seconds_bucket{le="+Inf"} 3',
      'pgward_decision_seconds_sum 3.55',
      'pgward_decision_seconds_count 3',
    ]);
    const stop = h.startTimer();
    expect(stop()).toBeGreaterThanOrEqual(0);
    expect(r.text()).toContain('pgward_decision_seconds_count 4');
  });

  it('reads live gauges at exposition time', () => {
    const r = createMetricsRegistry();
    let depth = 7;
    r.gauge({ name: 'pgward_audit_queue_depth', help: 'q', collect: (g) => g.set(depth) });
    expect(r.text()).toContain('pgward_audit_queue_depth 7\n');
    depth = 9;
    expect(r.text()).toContain('pgward_audit_queue_depth 9\n');
  });

  it('bounds the series per metric and refuses bad names, labels and decrements', () => {
    const r = createMetricsRegistry();
    const c = r.counter({ name: 'c_total', help: 'c', labelNames: ['k'] });
    for (let i = 0; i < MAX_SERIES + 5; i++) c.inc({ k: String(i) });
    const lines = r
      .text()
      .split('\n')
      .filter((l) => l.startsWith('c_total{'));
    expect(lines).toHaveLength(MAX_SERIES + 1);
    expect(lines).toContain('c_total{k="__overflow__"} 5');
    expect(() => c.inc({ k: '1' }, -1)).toThrow(/only increase/);
    expect(() => c.inc({})).toThrow(/missing/);
    expect(() => c.inc({ k: 'a', x: 'b' })).toThrow(/unknown label/);
    expect(() => r.counter({ name: 'bad-name', help: '' })).toThrow(/invalid metric name/);
    expect(() => r.counter({ name: 'c_total', help: '' })).toThrow(/twice/);
    expect(() => r.histogram({ name: 'h', help: '', labelNames: ['le'] })).toThrow(/label/);
    expect(() => r.histogram({ name: 'h2', help: '', buckets: [1, 1] })).toThrow(/increasing/);
  });

  it('a bound counter counts into the series of its labels, checked once when bound', () => {
    const r = createMetricsRegistry();
    const c = r.counter({ name: 's_total', help: 's', labelNames: ['outcome'] });
    const allowed = c.bind({ outcome: 'allowed' });
    allowed.inc();
    allowed.inc(2);
    c.inc({ outcome: 'allowed' });
    expect(c.get({ outcome: 'allowed' })).toBe(4);
    expect(r.text()).toContain('s_total{outcome="allowed"} 4\n');
    expect(() => allowed.inc(-1)).toThrow(/only increase/);
    expect(() => c.bind({})).toThrow(/missing/);
    expect(() => c.bind({ outcome: 'a', x: 'b' })).toThrow(/unknown label/);
    const plain = r.counter({ name: 'p_total', help: 'p' }).bind();
    plain.inc();
    expect(r.text()).toContain('p_total 1\n');
  });

  it('a metric without labels keeps one series, also across a gauge reset', () => {
    const r = createMetricsRegistry();
    const h = r.histogram({ name: 'h_seconds', help: 'h', buckets: [1] });
    h.observe(0.5);
    h.observe(2, {});
    expect(r.text()).toContain('h_seconds_count 2\n');
    const g = r.gauge({ name: 'g', help: 'g' });
    g.set(3);
    g.reset();
    expect(r.text()).not.toContain('\ng ');
    g.inc();
    expect(g.get()).toBe(1);
    expect(r.text()).toContain('\ng 1\n');
    expect(() => g.set(1, { x: 'y' })).toThrow(/unknown label/);
  });
});
