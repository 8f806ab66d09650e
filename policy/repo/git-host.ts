// The git host behind pull requests: an interface, and its GitHub REST adapter
// (POST /repos/{owner}/{repo}/pulls). fetch is injected; every call has a timeout and a bounded body.
// @see https://docs.github.com/en/rest/pulls/pulls#create-a-pull-request

import { PolicyRepoError } from './errors.js';

export interface PullRequestSpec {
  /** The branch with the change (`grant/<id>`). */
  readonly head: string;
  /** The branch it merges into (`main`). */
  readonly base: string;
  readonly title: string;
  readonly body: string;
}

export type PullRequestResult =
  | { readonly outcome: 'opened'; readonly number: number; readonly url: string }
  /** A pull request for this head is already open (the branch push updated it). */
  | { readonly outcome: 'exists' };

export interface GitHost {
  openPullRequest(spec: PullRequestSpec): Promise<PullRequestResult>;
}

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface GitHubHostOptions {
  /** A token allowed to create pull requests (fine-grained: pull_requests write). */
  readonly token: string;
  /** `owner/name`. */
  readonly repo: string;
  /** Default https://api.github.com (GitHub Enterprise: https://HOST/api/v3). */
  readonly apiUrl?: string;
  readonly fetch?: FetchLike;
  readonly timeoutMs?: number;
  readonly userAgent?: string;
}

const SLUG = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const MAX_RESPONSE_BYTES = 1024 * 1024;
export const GITHUB_API_VERSION = '2022-11-28';

const failed = (message: string, cause?: unknown): PolicyRepoError =>
  new PolicyRepoError('PGW_REPO_GIT_HOST_FAILED', message, cause === undefined ? {} : { cause });

export function createGitHubHost(options: GitHubHostOptions): GitHost {
  if (!SLUG.test(options.repo))
    throw failed(`GitHub repository "${options.repo}" is not owner/name`);
  if (options.token.trim() === '') throw failed('the GitHub token is empty');
  const api = (options.apiUrl ?? 'https://api.github.com').replace(/\/+$/, '');
  const doFetch: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));
  const timeoutMs = options.timeoutMs ?? 30_000;

  return {
    async openPullRequest(spec) {
      const url = `${api}/repos/${options.repo}/pulls`;
      let response: Response;
      try {
        response = await doFetch(url, {
          method: 'POST',
          headers: {
            accept: 'application/vnd.github+json',
            // SECURITY: the token goes only into this header, never into a message or a log.
            authorization: `Bearer ${options.token}`,
            'content-type': 'application/json',
            'user-agent': options.userAgent ?? 'pgward',
            'x-github-api-version': GITHUB_API_VERSION,
          },
          body: JSON.stringify({
            title: spec.title,
            head: spec.head,
            base: spec.base,
            body: spec.body,
            maintainer_can_modify: false,
          }),
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
      } catch (err) {
        throw failed(`POST ${url} failed: ${(err as Error).message}`, err);
      }
      const body = await readJson(response);
      if (response.status === 201) {
        const { number, html_url } = (body ?? {}) as { number?: unknown; html_url?: unknown };
        if (typeof number !== 'number' || typeof html_url !== 'string')
          throw failed(`POST ${url} answered 201 without number and html_url`);
        return { outcome: 'opened', number, url: html_url };
      }
      if (response.status === 422 && alreadyExists(body)) return { outcome: 'exists' };
      throw failed(`POST ${url} answered ${response.status}: ${describe(body)}`);
    },
  };
}

async function readJson(response: Response): Promise<unknown> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_RESPONSE_BYTES) {
    await response.body?.cancel();
    return undefined;
  }
  const reader = response.body?.getReader();
  if (reader === undefined) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** GitHub's 422 for a second pull request from the same head. */
function alreadyExists(body: unknown): boolean {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  return (
    Array.isArray(errors) &&
    errors.some(
      (e) => typeof e?.message === 'string' && /pull request already exists/i.test(e.message),
    )
  );
}

function describe(body: unknown): string {
  const message = (body as { message?: unknown } | undefined)?.message;
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  const details = Array.isArray(errors)
    ? errors.map((e) => (typeof e?.message === 'string' ? e.message : JSON.stringify(e))).join('; ')
    : '';
  const text = [typeof message === 'string' ? message : 'no message', details]
    .filter((s) => s !== '')
    .join(': ');
  return text.slice(0, 500);
}
