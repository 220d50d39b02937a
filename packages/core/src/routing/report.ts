import type { Alert } from "./alerts.ts";

/** One row of the speed-to-lead report: a rep (or a whole team) over a period. */
export interface SpeedToLeadRow {
  team: string;
  rep?: string;
  alerts: number;
  accepted: number;
  declined: number;
  timedOut: number;
  /** Alerts this person received because someone before them did not accept. */
  escalated: number;
  /** Seconds from the event that started the escalation to the acceptance. */
  p50AcceptSeconds: number | null;
  p90AcceptSeconds: number | null;
}

export interface SpeedToLeadReport {
  from: string;
  to: string;
  reps: SpeedToLeadRow[];
  teams: SpeedToLeadRow[];
}

/** Counts and acceptance times of the alerts sent in [from, to), per rep and per team. */
export function speedToLeadReport(alerts: readonly Alert[], from: Date, to: Date): SpeedToLeadReport {
  const inPeriod = alerts.filter((alert) => {
    const sent = Date.parse(alert.sentAt);
    return sent >= from.getTime() && sent < to.getTime();
  });
  const rows = (keyOf: (alert: Alert) => string) => {
    const groups = new Map<string, Alert[]>();
    for (const alert of inPeriod) groups.set(keyOf(alert), [...(groups.get(keyOf(alert)) ?? []), alert]);
    return [...groups.values()].map((group) => summarize(group));
  };
  const byName = (a: SpeedToLeadRow, b: SpeedToLeadRow) =>
    a.team.localeCompare(b.team) || (a.rep ?? "").localeCompare(b.rep ?? "");
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    reps: rows((alert) => `${alert.team}\u0000${alert.recipient.id}`).sort(byName),
    teams: rows((alert) => alert.team)
      .map(({ rep: _rep, ...row }) => row)
      .sort(byName),
  };
}

function summarize(alerts: readonly Alert[]): SpeedToLeadRow {
  const [first] = alerts as [Alert];
  const count = (status: Alert["status"]) => alerts.filter((alert) => alert.status === status).length;
  const acceptSeconds = alerts
    .filter((alert) => alert.status === "accepted" && alert.answeredAt)
    .map((alert) => (Date.parse(alert.answeredAt as string) - Date.parse(alert.triggeredAt)) / 1000)
    .sort((a, b) => a - b);
  return {
    team: first.team,
    rep: first.recipient.id,
    alerts: alerts.length,
    accepted: count("accepted"),
    declined: count("declined"),
    timedOut: count("timed-out"),
    escalated: alerts.filter((alert) => alert.tier > 1).length,
    p50AcceptSeconds: percentile(acceptSeconds, 0.5),
    p90AcceptSeconds: percentile(acceptSeconds, 0.9),
  };
}

/** Nearest-rank percentile of sorted values, in whole seconds; null for none. */
export function percentile(sorted: readonly number[], share: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(share * sorted.length));
  return Math.round(sorted[rank - 1] as number);
}
