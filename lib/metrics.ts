// A tiny dependency-free Prometheus registry: counters, gauges and histograms with labels, rendered in
// the text exposition format. Label sets are bounded per metric so a bad label cannot grow memory.
// @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format

export type Labels = Readonly<Record<string, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Default histogram buckets in seconds (Prometheus client defaults). */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** Distinct label sets kept per metric; past it, new sets are folded into one overflow series. */
export const MAX_SERIES = 1000;
const OVERFLOW = '__overflow__';

export interface MetricOptions {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
}

export interface Counter {
  inc(labels?: Labels, by?: number): void;
  get(labels?: Labels): number;
  /** The series of these labels, looked up once: for a hot path that counts the same labels often. */
  bind(labels?: Labels): BoundCounter;
}

export interface BoundCounter {
  inc(by?: number): void;
}

export interface Gauge {
  set(value: number, labels?: Labels): void;
  inc(labels?: Labels, by?: number): void;
  dec(labels?: Labels, by?: number): void;
  /** Drops every series (a gauge such as an info metric that names the current value only). */
  reset(): void;
  get(labels?: Labels): number;
}

export interface Histogram {
  observe(value: number, labels?: Labels): void;
  /** Starts a timer; the returned function observes the elapsed seconds. */
  startTimer(labels?: Labels): () => number;
}

export interface MetricsRegistry {
  counter(options: MetricOptions): Counter;
  /** `collect` runs before each exposition, so a gauge can read a live value (a queue depth). */
  gauge(options: MetricOptions & { readonly collect?: (gauge: Gauge) => void }): Gauge;
  histogram(options: MetricOptions & { readonly buckets?: readonly number[] }): Histogram;
  /** The text exposition (Content-Type: text/plain; version=0.0.4). */
  text(): string;
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeHelp = (s: string) => s.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
const escapeValue = (s: string) =>
  s.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}

function renderLabels(pairs: readonly (readonly [string, string])[]): string {
  if (pairs.length === 0) return '';
  return `{${pairs.map(([k, v]) => `${k}="${escapeValue(v)}"`).join(',')}}`;
}

/** Series of one metric keyed by their label values in labelNames order. */
class SeriesMap<T> {
  private readonly series = new Map<string, { values: string[]; state: T }>();
  /** The one series of a metric without labels, once looked up. */
  private unlabelled: T | null = null;
  constructor(
    private readonly name: string,
    private readonly labelNames: readonly string[],
    private readonly init: () => T,
  ) {}

  get(labels?: Labels): T {
    if (labels === undefined && this.labelNames.length === 0) {
      this.unlabelled ??= this.lookup({});
      return this.unlabelled;
    }
    return this.lookup(labels ?? {});
  }

  private lookup(labels: Labels): T {
    const values = this.labelNames.map((n) => {
      const v = labels[n];
      if (v === undefined) throw new Error(`metric ${this.name}: label "${n}" is missing`);
      return v;
    });
    for (const key of Object.keys(labels))
      if (!this.labelNames.includes(key))
        throw new Error(`metric ${this.name}: unknown label "${key}"`);
    let key = values.join('\u0000');
    let entry = this.series.get(key);
    if (entry === undefined && this.series.size >= MAX_SERIES) {
      const overflow = this.labelNames.map(() => OVERFLOW);
      key = overflow.join('\u0000');
      entry = this.series.get(key);
      if (entry === undefined) {
        entry = { values: overflow, state: this.init() };
        this.series.set(key, entry);
      }
    }
    if (entry === undefined) {
      entry = { values, state: this.init() };
      this.series.set(key, entry);
    }
    return entry.state;
  }

  clear(): void {
    this.series.clear();
    this.unlabelled = null;
  }

  entries(): { pairs: [string, string][]; state: T }[] {
    return [...this.series.values()].map((e) => ({
      pairs: this.labelNames.map((n, i): [string, string] => [n, e.values[i]!]),
      state: e.state,
    }));
  }
}

interface Registered {
  readonly name: string;
  render(): string[];
}

function checkNames(options: MetricOptions, reserved: readonly string[] = []): readonly string[] {
  if (!METRIC_NAME.test(options.name)) throw new Error(`invalid metric name "${options.name}"`);
  const labelNames = options.labelNames ?? [];
  for (const l of labelNames)
    if (!LABEL_NAME.test(l) || l.startsWith('__') || reserved.includes(l))
      throw new Error(`metric ${options.name}: invalid label name "${l}"`);
  return labelNames;
}

export function createMetricsRegistry(): MetricsRegistry {
  const metrics = new Map<string, Registered>();
  const collectors: (() => void)[] = [];
  const register = (m: Registered) => {
    if (metrics.has(m.name)) throw new Error(`metric ${m.name} is registered twice`);
    metrics.set(m.name, m);
  };
  const header = (o: MetricOptions, type: string) => [
    `# HELP ${o.name} ${escapeHelp(o.help)}`,
    `# TYPE ${o.name} ${type}`,
  ];

  return {
    counter(options) {
      const series = new SeriesMap(options.name, checkNames(options), () => ({ v: 0 }));
      register({
        name: options.name,
        render: () => [
          ...header(options, 'counter'),
          ...series
            .entries()
            .map((e) => `${options.name}${renderLabels(e.pairs)} ${formatNumber(e.state.v)}`),
        ],
      });
      return {
        inc(labels, by = 1) {
          if (!(by >= 0)) throw new Error(`counter ${options.name} can only increase`);
          series.get(labels).v += by;
        },
        get: (labels) => series.get(labels).v,
        bind(labels) {
          // Counters are never cleared, so the series looked up now is the one counted later.
          const state = series.get(labels);
          return {
            inc(by = 1) {
              if (!(by >= 0)) throw new Error(`counter ${options.name} can only increase`);
              state.v += by;
            },
          };
        },
      };
    },

    gauge(options) {
      const series = new SeriesMap(options.name, checkNames(options), () => ({ v: 0 }));
      const gauge: Gauge = {
        set: (value, labels) => {
          series.get(labels).v = value;
        },
        inc: (labels, by = 1) => {
          series.get(labels).v += by;
        },
        dec: (labels, by = 1) => {
          series.get(labels).v -= by;
        },
        reset: () => series.clear(),
        get: (labels) => series.get(labels).v,
      };
      const collect = options.collect;
      if (collect !== undefined) collectors.push(() => collect(gauge));
      register({
        name: options.name,
        render: () => [
          ...header(options, 'gauge'),
          ...series
            .entries()
            .map((e) => `${options.name}${renderLabels(e.pairs)} ${formatNumber(e.state.v)}`),
        ],
      });
      return gauge;
    },

    histogram(options) {
      const buckets = [...(options.buckets ?? DEFAULT_BUCKETS)];
      if (buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!)))
        throw new Error(`histogram ${options.name}: buckets must be finite and increasing`);
      const labelNames = checkNames(options, ['le']);
      const series = new SeriesMap(options.name, labelNames, () => ({
        counts: buckets.map(() => 0),
        sum: 0,
        count: 0,
      }));
      const observe = (value: number, labels?: Labels) => {
        const s = series.get(labels);
        for (let i = 0; i < buckets.length; i++)
          if (value <= buckets[i]!) s.counts[i] = s.counts[i]! + 1;
        s.sum += value;
        s.count += 1;
      };
      register({
        name: options.name,
        render: () => {
          const lines = header(options, 'histogram');
          for (const e of series.entries()) {
            buckets.forEach((b, i) => {
              const pairs = [...e.pairs, ['le', formatNumber(b)] as [string, string]];
              lines.push(`${options.name}_bucket${renderLabels(pairs)} ${e.state.counts[i]}`);
            });
            const inf = [...e.pairs, ['le', '+Inf'] as [string, string]];
            lines.push(`${options.name}_bucket${renderLabels(inf)} ${e.state.count}`);
            lines.push(`${options.name}_sum${renderLabels(e.pairs)} ${formatNumber(e.state.sum)}`);
            lines.push(`${options.name}_count${renderLabels(e.pairs)} ${e.state.count}`);
          }
          return lines;
        },
      });
      return {
        observe,
        startTimer(labels) {
          const start = process.hrtime.bigint();
          return () => {
            const seconds = Number(process.hrtime.bigint() - start) / 1e9;
            observe(seconds, labels);
            return seconds;
          };
        },
      };
    },

    text() {
      for (const collect of collectors) collect();
      const lines: string[] = [];
      for (const m of metrics.values()) lines.push(...m.render());
      return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
    },
  };
}
