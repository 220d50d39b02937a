/**
 * On one machine the API and the queue workers share the CPU; the acknowledgement is what
 * platforms see, so the workers yield to it. The gateway reports when it is answering requests,
 * and while it is, each worker lets one batch through per interval instead of polling freely:
 * ingestion slows down under a burst but never stops.
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

/** Worker side: `pass()` resolves at once while the API is idle, and once per `busyIntervalMs` while busy. */
export function ingestionGate(busyIntervalMs = 500) {
  let busy = false;
  let lastPass = 0;
  const sleepers = new Set<() => void>();
  return {
    setBusy(value: boolean): void {
      busy = value;
      if (!busy) for (const wake of sleepers) wake();
    },
    async pass(signal?: AbortSignal): Promise<void> {
      for (;;) {
        const wait = lastPass + busyIntervalMs - Date.now();
        if (!busy || wait <= 0 || signal?.aborted) break;
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            sleepers.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, wait);
          sleepers.add(wake);
          signal?.addEventListener("abort", wake, { once: true });
        });
      }
      lastPass = Date.now();
    },
  };
}
