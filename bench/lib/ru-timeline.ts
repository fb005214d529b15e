/**
 * How the RU budget was used over a run: while a sync runs in another process, the bench
 * samples the simulator's counters and, at the end, splits the run into budget windows (one
 * time-scaled minute each). A window that spent well under the budget is time the sync lost
 * against the RU-bound limit; the endpoints it called tell which phase left it idle.
 */
import type { SimAdminClient } from '../../sim/admin-client.ts';

interface Sample {
  at: number;
  ru: number;
  byEndpoint: Record<string, number>;
}

export interface RuWindow {
  /** Seconds since the watch started, at the window's start. */
  startS: number;
  ru: number;
  /** The endpoints called most in this window (template → requests). */
  top: Array<[string, number]>;
}

export interface RuTimeline {
  windows: RuWindow[];
  /** Share of the budget left unused over the whole run (0 = every window full). */
  idleShare: number;
  /** Windows that spent under half the budget. */
  lowWindows: number;
}

export interface RuTimelineWatch {
  stop(): Promise<RuTimeline>;
}

export function watchRuTimeline(
  admin: SimAdminClient,
  budgetPerWindow: number,
  windowMs: number,
  everyMs = Math.max(50, Math.round(windowMs / 4)),
): RuTimelineWatch {
  const samples: Sample[] = [];
  const started = Date.now();
  let stopped = false;
  const poll = async () => {
    while (!stopped) {
      const at = Date.now();
      try {
        const c = await admin.counters();
        samples.push({ at, ru: c.ruSpent, byEndpoint: c.requestsByEndpoint });
      } catch {
        // The simulator is busy or closing: the next sample covers this one.
      }
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - at))));
    }
  };
  const running = poll();
  return {
    async stop() {
      stopped = true;
      await running;
      return summarise(samples, started, budgetPerWindow, windowMs);
    },
  };
}

/** Cuts the samples at window boundaries (the sample nearest each boundary stands for it). */
export function summarise(samples: Sample[], started: number, budget: number, windowMs: number): RuTimeline {
  const windows: RuWindow[] = [];
  if (samples.length < 2) return { windows, idleShare: 0, lowWindows: 0 };
  // The run: from the first sample that spent anything to the last that added RU.
  const first = samples.findIndex((s, i) => i > 0 && s.ru > samples[0].ru);
  const lastRu = samples[samples.length - 1].ru;
  const last = samples.findIndex((s) => s.ru === lastRu);
  if (first < 0) return { windows, idleShare: 0, lowWindows: 0 };
  let from = samples[first - 1];
  for (let i = first; i <= last; i++) {
    const s = samples[i];
    if (s.at - from.at < windowMs && i !== last) continue;
    windows.push({ startS: (from.at - started) / 1000, ru: s.ru - from.ru, top: topEndpoints(from, s) });
    from = s;
  }
  const spanMs = samples[last].at - samples[first - 1].at;
  const spent = lastRu - samples[first - 1].ru;
  const capacity = (budget * spanMs) / windowMs;
  return {
    windows,
    idleShare: capacity > 0 ? Math.max(0, 1 - spent / capacity) : 0,
    lowWindows: windows.filter((w) => w.ru < budget / 2).length,
  };
}

function topEndpoints(a: Sample, b: Sample, n = 3): Array<[string, number]> {
  const delta: Array<[string, number]> = [];
  for (const [k, v] of Object.entries(b.byEndpoint)) {
    const d = v - (a.byEndpoint[k] ?? 0);
    if (d > 0) delta.push([k, d]);
  }
  return delta.sort((x, y) => y[1] - x[1]).slice(0, n);
}

export function formatTimeline(t: RuTimeline): string {
  return t.windows
    .map(
      (w) =>
        `  t=${w.startS.toFixed(1).padStart(6)} s  ${String(w.ru).padStart(6)} RU  ${w.top
          .map(([k, v]) => `${k}×${v}`)
          .join(', ')}`,
    )
    .join('\n');
}
