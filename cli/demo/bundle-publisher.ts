// The demo's stand-in for the policy repository's CI: it watches the demo remote, reports approval
// requests as the gateway files them, and when main moves (an approval merged, a grant pushed) builds
// the data-only bundle from it, publishes it to the bundle branch and has the gateway pull it now.

import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Approval } from '../../policy/contracts.js';
import { DEFAULT_BRANCH_PREFIX } from '../../policy/repo/approval-request.js';
import { gitAt } from '../../policy/repo/git.js';
import type { PullOutcome } from '../../policy/repo/git-bundle-source.js';
import { publishBundle } from '../../policy/repo/publish.js';
import { buildDataBundle } from './data-bundle.js';
import { BUNDLE_BRANCH } from './demo-config.js';
import { remoteHeads } from './policy-repo.js';

export type PolicyEvent =
  | { readonly type: 'requested'; readonly id: string; readonly approval: Approval | null }
  | {
      readonly type: 'served';
      readonly commit: string;
      readonly outcome: PullOutcome;
      /** Approvals the new bundle carries that the previous one did not. */
      readonly newApprovals: readonly string[];
    }
  | { readonly type: 'refused'; readonly commit: string; readonly message: string }
  | { readonly type: 'error'; readonly message: string };

export interface PolicyPublisher {
  /** Builds the remote's main and publishes it to the bundle branch; its commit. */
  publishMain(): Promise<string>;
  /** Polls the remote every `intervalMs`; `pull` makes the gateway fetch the bundle branch now. */
  watch(pull: () => Promise<PullOutcome>, onEvent: (e: PolicyEvent) => void): void;
  close(): Promise<void>;
}

export async function createPolicyPublisher(options: {
  readonly stateDir: string;
  /** The bare demo repository. */
  readonly remote: string;
  readonly intervalMs: number;
}): Promise<PolicyPublisher> {
  const checkout = path.join(options.stateDir, 'policy-build');
  const bundles = path.join(options.stateDir, 'bundles');
  await gitAt(options.stateDir).raw(['clone', '--quiet', options.remote, checkout]);
  const git = gitAt(checkout, { timeoutMs: 30_000 });
  let published: string | null = null;
  let approvals = new Set<string>();
  const seenRequests = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let tick: Promise<void> = Promise.resolve();
  let closed = false;

  const build = async (commit: string): Promise<string> => {
    await git.raw(['fetch', '--quiet', 'origin']);
    await git.raw(['checkout', '--quiet', '--force', '--detach', commit]);
    const outDir = path.join(bundles, commit);
    await buildDataBundle({ sourceDir: checkout, outDir, revision: commit });
    await publishBundle({ repoDir: checkout, bundleDir: outDir, branch: BUNDLE_BRANCH });
    await rm(outDir, { recursive: true, force: true });
    return commit;
  };

  const approvalIds = async (): Promise<Set<string>> => {
    const names = await git.raw(['ls-tree', '--name-only', 'HEAD', 'approvals/']).catch(() => '');
    return new Set(
      names
        .split('\n')
        .map((n) => path.basename(n.trim()))
        .filter((n) => n.endsWith('.json'))
        .map((n) => n.slice(0, -'.json'.length)),
    );
  };

  const publishMain = async (): Promise<string> => {
    const main = (await remoteHeads(options.remote)).get('main');
    if (main === undefined) throw new Error('the demo policy repository has no main branch');
    await build(main);
    published = main;
    approvals = await approvalIds();
    return main;
  };

  const poll = async (pull: () => Promise<PullOutcome>, onEvent: (e: PolicyEvent) => void) => {
    const heads = await remoteHeads(options.remote);
    for (const [branch, commit] of heads) {
      if (!branch.startsWith(DEFAULT_BRANCH_PREFIX) || seenRequests.has(branch)) continue;
      seenRequests.add(branch);
      const id = branch.slice(DEFAULT_BRANCH_PREFIX.length);
      const text = await gitAt(options.remote)
        .raw(['show', `${commit}:approvals/${id}.json`])
        .catch(() => '');
      let approval: Approval | null = null;
      try {
        approval = JSON.parse(text) as Approval;
      } catch {
        // A branch without a readable request file is still reported, by its id.
      }
      onEvent({ type: 'requested', id, approval });
    }
    const main = heads.get('main');
    if (main === undefined || main === published) return;
    published = main;
    try {
      await build(main);
    } catch (err) {
      onEvent({ type: 'refused', commit: main, message: (err as Error).message });
      return;
    }
    const now = await approvalIds();
    const newApprovals = [...now].filter((id) => !approvals.has(id));
    approvals = now;
    onEvent({ type: 'served', commit: main, outcome: await pull(), newApprovals });
  };

  return {
    publishMain,
    watch(pull, onEvent) {
      const schedule = () => {
        if (closed) return;
        timer = setTimeout(() => {
          tick = poll(pull, onEvent)
            .catch((err: unknown) =>
              onEvent({ type: 'error', message: (err as Error).message ?? String(err) }),
            )
            .finally(schedule);
        }, options.intervalMs);
      };
      schedule();
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await tick;
    },
  };
}
