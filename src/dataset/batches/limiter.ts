import { StrataError } from '../../errors.js';

/**
 * A FIFO semaphore whose waiters can be cancelled: `close(reason)` rejects everyone still queued,
 * so an aborted loader stops starting work at once and drops what it was holding.
 */
export class Limiter {
  private active = 0;
  private readonly queue: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private closedWith: Error | undefined;

  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  close(reason: Error = new StrataError('ABORTED', 'loader closed')): void {
    this.closedWith ??= reason;
    for (const w of this.queue.splice(0)) w.reject(reason);
  }

  private acquire(): Promise<void> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.queue.push({ resolve, reject }));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next.resolve();
    else this.active--;
  }
}
