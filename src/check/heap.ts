// A binary min-heap of (time, id) pairs: the scheduler's timer queue, so finding the next due check among tens of
// thousands stays O(log n) instead of a scan per tick.

export class TimerHeap {
  private readonly times: number[] = [];
  private readonly ids: number[] = [];

  get size(): number {
    return this.times.length;
  }

  peekTime(): number | undefined {
    return this.times[0];
  }

  peekId(): number | undefined {
    return this.ids[0];
  }

  push(time: number, id: number): void {
    this.times.push(time);
    this.ids.push(id);
    let i = this.times.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.times[parent]! <= time) break;
      this.move(parent, i);
      i = parent;
    }
    this.times[i] = time;
    this.ids[i] = id;
  }

  /** Removes and returns the id with the smallest time. */
  pop(): number | undefined {
    const n = this.times.length;
    if (n === 0) return undefined;
    const top = this.ids[0]!;
    const lastTime = this.times.pop()!;
    const lastId = this.ids.pop()!;
    if (n > 1) {
      let i = 0;
      const size = n - 1;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= size) break;
        const right = left + 1;
        const child = right < size && this.times[right]! < this.times[left]! ? right : left;
        if (this.times[child]! >= lastTime) break;
        this.move(child, i);
        i = child;
      }
      this.times[i] = lastTime;
      this.ids[i] = lastId;
    }
    return top;
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from]!;
    this.ids[to] = this.ids[from]!;
  }
}
