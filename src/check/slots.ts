// The check pool's in-flight limit: tasks start at once while a slot is free, the rest wait in order. It replaces
// p-limit on the per-check path, which built about ten promises and closures per task and started each one a
// microtask later; here a task costs one array slot while it waits and one `finally` while it runs.

export class Slots {
  private limit: number;
  private running = 0;
  private readonly waiting: (() => Promise<void>)[] = [];
  /** The next waiting task: the array is consumed from the front and compacted only once it is half read. */
  private head = 0;
  private readonly release = (): void => {
    this.running--;
    this.fill();
  };

  constructor(limit: number) {
    this.limit = limit;
  }

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length - this.head;
  }

  get concurrency(): number {
    return this.limit;
  }

  /** A lower limit lets running tasks finish; a higher one starts waiting tasks at once. */
  set concurrency(limit: number) {
    this.limit = limit;
    this.fill();
  }

  /** Starts `task` now if a slot is free, else when one frees. A task that rejects rejects unhandled, as before. */
  run(task: () => Promise<void>): void {
    if (this.running < this.limit && this.queued === 0) this.start(task);
    else this.waiting.push(task);
  }

  private fill(): void {
    while (this.running < this.limit && this.head < this.waiting.length) {
      const task = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined as never;
      if (this.head === this.waiting.length) {
        this.waiting.length = 0;
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      this.start(task);
    }
  }

  private start(task: () => Promise<void>): void {
    this.running++;
    void task().finally(this.release);
  }
}
