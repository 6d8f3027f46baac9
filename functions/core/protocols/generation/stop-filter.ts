/** Stop sequences in streamed text: held back until known, never sent to the client. */

/**
 * Holds back the end of streamed text that may still become a stop sequence,
 * so a stop sequence never reaches the client, whatever the token boundaries.
 */
export class StopFilter {
  private pending = '';
  constructor(private readonly stop: readonly string[]) {}

  /** Text safe to send now; `stopped` once a stop sequence completed. */
  push(text: string): { text: string; stopped: boolean } {
    this.pending += text;
    for (const s of this.stop) {
      const at = s.length > 0 ? this.pending.indexOf(s) : -1;
      if (at >= 0) {
        const out = this.pending.slice(0, at);
        this.pending = '';
        return { text: out, stopped: true };
      }
    }
    let hold = 0;
    for (const s of this.stop) {
      for (let k = Math.min(s.length - 1, this.pending.length); k > hold; k--) {
        if (this.pending.endsWith(s.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    const out = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return { text: out, stopped: false };
  }

  flush(): string {
    const out = this.pending;
    this.pending = '';
    return out;
  }
}
