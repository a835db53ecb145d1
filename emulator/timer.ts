// The interval timer: an interrupt request on a configurable vector every `interval` cycles (of the machine's cycle
// count, so it follows the cost profile). The request stays pending while IF=0, like an edge latched by an interrupt
// controller, and ticks missed meanwhile merge into one. interval 0 disables it.

export class Timer {
  interval = 0;
  vector = 0x20;
  /** Cycle count at which the next request is raised. */
  nextAt = Infinity;
  pending = false;
  ticks = 0;

  configure(interval: number, vector: number, now: number): void {
    if (!(interval >= 0) || !Number.isFinite(interval)) throw new RangeError(`timer interval ${interval}`);
    if (!Number.isInteger(vector) || vector < 0 || vector > 255) throw new RangeError(`timer vector ${vector}`);
    this.interval = interval;
    this.vector = vector;
    this.pending = false;
    this.nextAt = interval > 0 ? now + interval : Infinity;
  }

  /** The cycle count reached nextAt: raise the request and schedule the next one. */
  expire(now: number): void {
    this.pending = true;
    this.ticks++;
    this.nextAt += this.interval;
    if (this.nextAt <= now) this.nextAt = now + this.interval;
  }
}
