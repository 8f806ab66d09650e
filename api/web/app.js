// The auditor web view: recent sessions, one session's timeline, and blocked/masked statements over time
// as an inline SVG chart. It calls the JSON API with the auditor's bearer token (from the login box or a
// #token= fragment, kept in sessionStorage for this tab only). Data is only ever set as text, never HTML.

const TOKEN_KEY = 'pgward.audit.token';
const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);

let token = null;
let sessionsCursor = null;

function takeToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromFragment = fragment.get('token');
  if (fromFragment) {
    sessionStorage.setItem(TOKEN_KEY, fromFragment);
    // SECURITY: the token leaves the address bar (and history) at once.
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function api(path) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body?.detail ?? res.statusText);
  return body;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const time = (iso) => new Date(iso).toISOString().replace('T', ' ').slice(0, 19);

function showLogin(message) {
  $('main').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message ?? '';
}

function failed(err) {
  if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(`${err.status === 401 ? 'Not signed in' : 'Not allowed'}: ${err.message}`);
    return;
  }
  $('status').textContent = `Error: ${err.message}`;
}

async function loadSessions(more) {
  const params = new URLSearchParams({ limit: '50' });
  if (more && sessionsCursor) params.set('cursor', sessionsCursor);
  const page = await api(`v1/sessions?${params}`);
  const body = $('sessions').tBodies[0];
  if (!more) body.replaceChildren();
  for (const s of page.items) {
    const row = el('tr', undefined, 'session');
    row.dataset.sessionId = s.session_id;
    row.tabIndex = 0;
    const state = s.closed_at === null ? 'open' : `closed (${s.reason ?? 'ended'})`;
    for (const cell of [
      time(s.opened_at),
      s.identity_sub,
      s.database,
      s.application_name,
      s.statement_count ?? '…',
      state,
    ])
      row.append(el('td', cell));
    const open = () => showSession(s.session_id).catch(failed);
    row.addEventListener('click', open);
    row.addEventListener('keydown', (e) => e.key === 'Enter' && open());
    body.append(row);
  }
  sessionsCursor = page.next;
  $('more-sessions').hidden = page.next === null;
}

async function showSession(id) {
  const timeline = await api(`v1/sessions/${encodeURIComponent(id)}`);
  for (const row of $('sessions').tBodies[0].rows)
    row.classList.toggle('selected', row.dataset.sessionId === id);
  const s = timeline.session;
  $('timeline-title').textContent = `Session ${id}`;
  const meta = $('session-meta');
  meta.replaceChildren();
  const facts = s
    ? [
        ['Identity', `${s.identity_sub} (${s.identity_groups.join(', ') || 'no groups'})`],
        ['Issuer', `${s.identity_issuer} via ${s.identity_via}`],
        ['Database', s.database],
        ['Client', `${s.client_addr} ${s.application_name}`],
        ['Opened', time(s.opened_at)],
        ['Closed', s.closed_at ? `${time(s.closed_at)} (${s.reason ?? ''})` : 'open'],
      ]
    : [];
  for (const [k, v] of facts) meta.append(el('dt', k), el('dd', v));
  const body = $('timeline').tBodies[0];
  body.replaceChildren();
  const start = Date.parse(timeline.statements[0]?.ts ?? s?.opened_at ?? 0);
  for (const r of timeline.statements) {
    const row = el('tr', undefined, 'statement');
    row.dataset.outcome = r.outcome;
    const statement = el('td');
    statement.append(el('code', r.statement || r.command));
    row.append(
      el('td', r.seq, 'num'),
      el('td', `+${((Date.parse(r.ts) - start) / 1000).toFixed(3)} s`, 'at'),
      el('td', r.outcome.replace('_', ' '), `outcome ${r.outcome}`),
      el('td', r.command),
      el('td', [...r.tables_read, ...r.tables_written].join(', ')),
      el('td', r.rows ?? '', 'num'),
      el('td', r.duration_ms.toFixed(2), 'num'),
      statement,
      el('td', [...r.rule_ids, ...r.masked_columns.map((c) => `mask ${c}`)].join(', ')),
    );
    body.append(row);
  }
  $('timeline-section').hidden = false;
}

/** Grouped bars per time bucket: blocked and masked counts, with axis labels and a legend. */
async function drawChart() {
  const rangeS = Number($('range').value);
  const to = new Date();
  const from = new Date(to.getTime() - rangeS * 1000);
  const params = new URLSearchParams({
    by: 'outcome',
    outcome: 'blocked,masked',
    from: from.toISOString(),
    to: to.toISOString(),
  });
  const stats = await api(`v1/stats?${params}`);
  const W = 900;
  const H = 240;
  const pad = { l: 40, r: 10, t: 24, b: 30 };
  const bucketMs = stats.bucket_seconds * 1000;
  const first = Math.floor(Date.parse(stats.from) / bucketMs) * bucketMs;
  const n = Math.max(1, Math.ceil((Date.parse(stats.to) - first) / bucketMs));
  const counts = { blocked: new Array(n).fill(0), masked: new Array(n).fill(0) };
  for (const row of stats.rows) {
    const i = Math.floor((Date.parse(row.bucket) - first) / bucketMs);
    if (counts[row.key] && i >= 0 && i < n) counts[row.key][i] += row.count;
  }
  const max = Math.max(1, ...counts.blocked, ...counts.masked);
  const slot = (W - pad.l - pad.r) / n;
  const barW = Math.max(3, slot / 2 - 1);
  const y = (v) => H - pad.b - (v / max) * (H - pad.t - pad.b);
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'presentation' });
  chart.append(
    svg('line', { class: 'axis', x1: pad.l, y1: H - pad.b, x2: W - pad.r, y2: H - pad.b }),
    svg('line', { class: 'axis', x1: pad.l, y1: pad.t, x2: pad.l, y2: H - pad.b }),
    svg('text', { x: pad.l - 6, y: pad.t + 4, 'text-anchor': 'end' }, String(max)),
    svg('text', { x: pad.l - 6, y: H - pad.b, 'text-anchor': 'end' }, '0'),
    svg('text', { x: pad.l, y: H - 8 }, time(new Date(first).toISOString())),
    svg('text', { x: W - pad.r, y: H - 8, 'text-anchor': 'end' }, time(stats.to)),
  );
  ['blocked', 'masked'].forEach((key, k) => {
    chart.append(
      svg('rect', { class: `legend ${key}`, x: pad.l + 10 + k * 90, y: 6, width: 10, height: 10 }),
      svg('text', { x: pad.l + 24 + k * 90, y: 15 }, key),
    );
    counts[key].forEach((count, i) => {
      if (count === 0) return;
      const bar = svg('rect', {
        class: `bar ${key}`,
        x: pad.l + i * slot + k * (barW + 1),
        y: y(count),
        width: barW,
        height: H - pad.b - y(count),
        'data-count': count,
      });
      bar.append(
        svg(
          'title',
          {},
          `${count} ${key} from ${time(new Date(first + i * bucketMs).toISOString())}`,
        ),
      );
      chart.append(bar);
    });
  });
  $('chart').replaceChildren(chart);
  const total = (key) => counts[key].reduce((a, b) => a + b, 0);
  $('chart-summary').textContent =
    `${total('blocked')} blocked and ${total('masked')} masked statements, ${stats.bucket_seconds} s buckets.`;
}

async function start() {
  $('login').hidden = true;
  $('main').hidden = false;
  $('logout').hidden = false;
  $('status').textContent = 'Loading…';
  try {
    await Promise.all([loadSessions(false), drawChart()]);
    $('status').textContent = '';
  } catch (err) {
    failed(err);
  }
}

function init() {
  token = takeToken();
  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    token = $('token').value.trim();
    $('token').value = '';
    sessionStorage.setItem(TOKEN_KEY, token);
    void start();
  });
  $('logout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    showLogin();
  });
  $('more-sessions').addEventListener('click', () => loadSessions(true).catch(failed));
  $('range').addEventListener('change', () => drawChart().catch(failed));
  if (token) void start();
  else showLogin();
}

init();
