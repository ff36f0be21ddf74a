/** Token bucket: `ratePerSec` sustained, bursts up to one second's worth. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = ratePerSec;
    this.last = this.now();
  }

  tryTake(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.ratePerSec, this.tokens + ((t - this.last) / 1000) * this.ratePerSec);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
