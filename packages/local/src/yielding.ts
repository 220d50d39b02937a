/**
 * On one machine the API and the queue workers share the CPU; the acknowledgement is what
 * platforms see, so the workers yield to it. The gateway reports when it is answering requests,
 * and while it is, the worker runs one batch at a time and rests between batches: ingestion slows
 * down under load but never stops.
 */

/** Gateway side: signals busy on the first request, idle once none has been under way for `settleMs`. */
export function requestActivity(onChange: (busy: boolean) => void, settleMs = 20) {
  let inFlight = 0;
  let busy = false;
  let settling: NodeJS.Timeout | undefined;
  return {
    started(): void {
      inFlight++;
      clearTimeout(settling);
      if (!busy) {
        busy = true;
        onChange(true);
      }
    },
    finished(): void {
      if (--inFlight > 0) return;
      settling = setTimeout(() => {
        busy = false;
        onChange(false);
      }, settleMs);
    },
  };
}

/** While the API is busy, a batch is followed by a rest this many times as long as itself. */
const restFactor = 2;

/**
 * Worker side. While the API is idle, batches run freely, as many at once as there are pollers.
 * While it is busy, they run one at a time, each followed by a rest twice as long as itself:
 * ingestion goes on at about a third of the pace of one poller, and the rest of the CPU is left
 * to the API (docs/benchmarks.md measures the trade).
 */
export function ingestionGate() {
  let busy = false;
  let turn: Promise<void> = Promise.resolve();
  return {
    setBusy(value: boolean): void {
      busy = value;
    },
    /** Waits for this batch's turn; the returned function ends it. */
    async enter(): Promise<() => void> {
      if (!busy) return () => undefined;
      const previous = turn;
      let leave: () => void = () => undefined;
      turn = new Promise<void>((resolve) => {
        leave = resolve;
      });
      await previous;
      const started = Date.now();
      return () => {
        setTimeout(leave, busy ? restFactor * (Date.now() - started) : 0);
      };
    },
  };
}
