// The GitHub adapter's HTTP contract, against recorded request/response fixtures: a fake fetch
// checks the method, URL, headers and JSON body, and answers with the recorded response.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createGitHubHost, type FetchLike } from './git-host.js';

interface Fixture {
  readonly request: {
    readonly method: string;
    readonly url: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: Readonly<Record<string, unknown>>;
  };
  readonly response: {
    readonly status: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: unknown;
  };
}

const fixture = (name: string): Fixture =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as Fixture;

/** A fetch that accepts exactly the recorded request and replays the recorded response. */
function replay(f: Fixture): { fetch: FetchLike; calls: number } {
  const state = {
    calls: 0,
    fetch: (async (url, init) => {
      state.calls++;
      expect(init.method).toBe(f.request.method);
      expect(url).toBe(f.request.url);
      expect(Object.fromEntries(new Headers(init.headers).entries())).toEqual(f.request.headers);
      expect(JSON.parse(String(init.body))).toEqual(f.request.body);
      expect(init.signal).toBeInstanceOf(AbortSignal);
      expect(init.redirect).toBe('error');
      return new Response(JSON.stringify(f.response.body), {
        status: f.response.status,
        headers: f.response.headers,
      });
    }) as FetchLike,
  };
  return state;
}

const TOKEN = 'test-token-not-a-real-secret';

describe('GitHub host: POST /repos/{owner}/{repo}/pulls', () => {
  it('opens a pull request and returns its number and URL (201)', async () => {
    const f = fixture('github-create-pull-201');
    const fake = replay(f);
    const host = createGitHubHost({
      token: TOKEN,
      repo: 'example-org/pgward-policy',
      fetch: fake.fetch,
      userAgent: 'pgward-test',
    });
    const result = await host.openPullRequest({
      head: 'grant/2026-11-24-svc-agent-orders',
      base: 'main',
      title: 'Grant svc-agent select on public.orders in app for 2h',
      body: 'Opened by `pgward request`.',
    });
    expect(result).toEqual({
      outcome: 'opened',
      number: 42,
      url: 'https://github.com/example-org/pgward-policy/pull/42',
    });
    expect(fake.calls).toBe(1);
  });

  it('treats "a pull request already exists" (422) as an open pull request', async () => {
    const f = fixture('github-create-pull-422-exists');
    const host = createGitHubHost({
      token: TOKEN,
      repo: 'example-org/pgward-policy',
      fetch: replay(f).fetch,
      userAgent: 'pgward-test',
    });
    const result = await host.openPullRequest({
      head: 'prune/expired',
      base: 'main',
      title: 'Prune 1 expired grant',
      body: 'Opened by `pgward policy prune`.',
    });
    expect(result).toEqual({ outcome: 'exists' });
  });

  it('reports other answers with GitHub message, never the token (401, Enterprise API URL)', async () => {
    const f = fixture('github-create-pull-401');
    const host = createGitHubHost({
      token: TOKEN,
      repo: 'example-org/pgward-policy',
      apiUrl: 'https://ghe.example.com/api/v3/',
      fetch: replay(f).fetch,
      userAgent: 'pgward-test',
    });
    const err = await host
      .openPullRequest({
        head: 'grant/2026-11-24-svc-agent-orders',
        base: 'main',
        title: 'Grant svc-agent select on public.orders in app for 2h',
        body: 'Opened by `pgward request`.',
      })
      .then(
        () => new Error('no error'),
        (e: unknown) => e as Error,
      );
    expect(err).toMatchObject({ code: 'PGW_REPO_GIT_HOST_FAILED' });
    expect(err.message).toMatch(/answered 401: Bad credentials/);
    expect(err.message).not.toContain(TOKEN);
  });

  it('wraps a network failure and refuses a malformed repository or empty token', async () => {
    const host = createGitHubHost({
      token: TOKEN,
      repo: 'example-org/pgward-policy',
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    await expect(
      host.openPullRequest({ head: 'h', base: 'main', title: 't', body: 'b' }),
    ).rejects.toMatchObject({ code: 'PGW_REPO_GIT_HOST_FAILED', message: /fetch failed/ });
    expect(() => createGitHubHost({ token: TOKEN, repo: 'not a slug' })).toThrow(/owner\/name/);
    expect(() => createGitHubHost({ token: ' ', repo: 'a/b' })).toThrow(/token/);
  });

  it('does not trust a 201 without number and html_url', async () => {
    const host = createGitHubHost({
      token: TOKEN,
      repo: 'a/b',
      fetch: async () => new Response('{"id":1}', { status: 201 }),
    });
    await expect(
      host.openPullRequest({ head: 'h', base: 'main', title: 't', body: 'b' }),
    ).rejects.toMatchObject({ code: 'PGW_REPO_GIT_HOST_FAILED' });
  });
});
