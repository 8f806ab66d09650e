// The bytes bound for one socket, in order: slices passed through as they came, and messages the session
// writes itself (masked rows) packed into a shared slab, so a chunk of rewritten rows leaves as one write.
// The slab is written again from its start only once every byte handed out of it is confirmed sent.

const FIRST_SLAB = 4 * 1024;
const MAX_SLAB = 256 * 1024;
const EMPTY = Buffer.alloc(0);
const NOTHING_HELD = (): void => undefined;

/** What take() hands out: the parts, in order, and the call that confirms they have been sent. */
export interface Taken {
  readonly parts: Buffer[];
  /**
   * To call once the socket is done with `parts` (a write callback): until then the slab bytes among them
   * are never written again. Never calling it is safe (the slab is then not reused).
   */
  readonly sent: () => void;
}

export class Outbound {
  #parts: Buffer[] = [];
  #slab: Buffer = EMPTY;
  /** Start of the slab bytes written but not handed out yet. */
  #mark = 0;
  #at = 0;
  #nextSlab = FIRST_SLAB;
  /** Takes that handed out bytes of the current slab and are not confirmed sent yet. */
  #held = 0;
  /** The queued parts include bytes of the current slab. */
  #queuedFromSlab = false;

  /** True when nothing waits to be sent. */
  get empty(): boolean {
    return this.#parts.length === 0 && this.#at === this.#mark;
  }

  /** Queues bytes to send as they are (kept by reference: they must not change until sent). */
  push(bytes: Buffer): void {
    this.#seal();
    this.#parts.push(bytes);
  }

  /** A buffer with at least `n` free bytes from `at` on; reserved, uncommitted bytes are dropped. */
  reserve(n: number): Buffer {
    if (this.#slab.length - this.#at < n) {
      // SECURITY: only when nothing of the slab can still be on its way out is it written over.
      if (this.#held === 0 && !this.#queuedFromSlab && this.#at === this.#mark) {
        this.#mark = 0;
        this.#at = 0;
      }
      if (this.#slab.length - this.#at < n) this.#newSlab(n);
    }
    return this.#slab;
  }

  /** Where in the last reserved buffer the next bytes go. */
  get at(): number {
    return this.#at;
  }

  /** The bytes of the last reserved buffer up to `end` are written: they go out after everything queued. */
  commit(end: number): void {
    this.#at = end;
  }

  /** Everything queued, in order; the queue is empty afterwards. */
  take(): Taken {
    this.#seal();
    const parts = this.#parts;
    this.#parts = [];
    if (!this.#queuedFromSlab) return { parts, sent: NOTHING_HELD };
    this.#queuedFromSlab = false;
    this.#held++;
    const slab = this.#slab;
    let confirmed = false;
    const sent = () => {
      if (confirmed) return;
      confirmed = true;
      if (this.#slab === slab) this.#held--;
    };
    return { parts, sent };
  }

  /** Lets go of the slab between results (an idle session holds none). */
  release(): void {
    this.#seal();
    this.#useSlab(EMPTY);
    this.#nextSlab = FIRST_SLAB;
  }

  #newSlab(n: number): void {
    // Slabs grow with the result, so a short answer does not hold a large one.
    const pending = this.#at - this.#mark;
    const slab = Buffer.allocUnsafe(Math.max(pending + n, this.#nextSlab));
    this.#nextSlab = Math.min(MAX_SLAB, this.#nextSlab * 2);
    // The bytes not handed out yet move along, so what is queued between two takes stays one write.
    this.#slab.copy(slab, 0, this.#mark, this.#at);
    this.#useSlab(slab);
    this.#at = pending;
  }

  #useSlab(slab: Buffer): void {
    this.#slab = slab;
    this.#mark = 0;
    this.#at = 0;
    this.#held = 0;
    // Parts of the old slab still queued do not hold the new one.
    this.#queuedFromSlab = false;
  }

  #seal(): void {
    if (this.#at > this.#mark) {
      this.#parts.push(this.#slab.subarray(this.#mark, this.#at));
      this.#mark = this.#at;
      this.#queuedFromSlab = true;
    }
  }
}
