import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ingestionGate, requestActivity } from "../../packages/local/src/yielding.ts";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("request activity (gateway side)", () => {
  it("is busy from the first request until none has been under way for the settle time", () => {
    const changes: boolean[] = [];
    const activity = requestActivity((busy) => changes.push(busy), 20);
    activity.started();
    activity.started();
    activity.finished();
    vi.advanceTimersByTime(100);
    expect(changes).toEqual([true]);
    activity.finished();
    vi.advanceTimersByTime(19);
    expect(changes).toEqual([true]);
    vi.advanceTimersByTime(1);
    expect(changes).toEqual([true, false]);
  });

  it("stays busy when a request arrives during the settle time", () => {
    const changes: boolean[] = [];
    const activity = requestActivity((busy) => changes.push(busy), 20);
    activity.started();
    activity.finished();
    vi.advanceTimersByTime(10);
    activity.started();
    vi.advanceTimersByTime(50);
    expect(changes).toEqual([true]);
  });
});

describe("ingestion gate (worker side)", () => {
  it("lets every batch run at once while the API is idle", async () => {
    const gate = ingestionGate();
    const leaves = await Promise.all([gate.enter(), gate.enter(), gate.enter()]);
    expect(leaves).toHaveLength(3);
  });

  it("runs one batch at a time while the API is busy, each followed by a rest twice as long as its work", async () => {
    const gate = ingestionGate();
    gate.setBusy(true);
    const started: number[] = [];
    const batch = async (index: number) => {
      const leave = await gate.enter();
      started.push(index);
      await new Promise((resolve) => setTimeout(resolve, 100));
      leave(100);
    };
    const batches = [batch(0), batch(1), batch(2)];
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([0]);
    await vi.advanceTimersByTimeAsync(299);
    expect(started).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toEqual([0, 1]);
    gate.setBusy(false);
    await vi.advanceTimersByTimeAsync(101);
    expect(started).toEqual([0, 1, 2]);
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all(batches);
  });

  it("doesn't rest after a turn that found nothing to do", async () => {
    const gate = ingestionGate();
    gate.setBusy(true);
    (await gate.enter())(0);
    const next = gate.enter();
    await vi.advanceTimersByTimeAsync(0);
    await expect(next).resolves.toBeTypeOf("function");
  });

  it("never stops ingestion under sustained load", async () => {
    const gate = ingestionGate();
    gate.setBusy(true);
    let done = 0;
    const work = async () => {
      for (;;) {
        const leave = await gate.enter();
        await new Promise((resolve) => setTimeout(resolve, 50));
        done++;
        leave(50);
        if (done >= 10) return;
      }
    };
    const pollers = [work(), work(), work(), work()];
    await vi.advanceTimersByTimeAsync(10 * 150);
    expect(done).toBeGreaterThanOrEqual(10);
    gate.setBusy(false);
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(pollers);
  });
});
