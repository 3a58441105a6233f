// A progress bar on stderr: redrawn in place on a terminal, a line per 10% otherwise
// (logs of CI and of tests stay short).
export class Progress {
  constructor(total, stream = process.stderr) {
    this.total = total;
    this.done = 0;
    this.stream = stream;
    this.label = '';
    this.tty = Boolean(stream.isTTY);
    this.lastDraw = 0;
    this.lastTenth = -1;
    this.start = performance.now();
  }

  phase(label) {
    this.label = label;
    this.draw(true);
  }

  tick(n) {
    this.done = Math.min(this.total, this.done + n);
    this.draw(false);
  }

  draw(force) {
    const fraction = this.total > 0 ? this.done / this.total : 1;
    const now = performance.now();
    const seconds = ((now - this.start) / 1000).toFixed(0);
    if (this.tty) {
      if (!force && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const width = 30;
      const filled = Math.round(fraction * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.stream.write(`\r${bar} ${(fraction * 100).toFixed(0).padStart(3)}% ${seconds}s ${this.label}`.padEnd(100).slice(0, 100));
    } else {
      const tenth = Math.floor(fraction * 10);
      if (tenth === this.lastTenth) return;
      this.lastTenth = tenth;
      this.stream.write(`[${'#'.repeat(tenth)}${'.'.repeat(10 - tenth)}] ${tenth * 10}% ${seconds}s ${this.label}\n`);
    }
  }

  finish() {
    this.done = this.total;
    this.draw(true);
    if (this.tty) this.stream.write('\n');
  }
}
