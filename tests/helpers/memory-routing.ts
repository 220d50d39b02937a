import type { Alert, Escalation, HistoryEntry, OutgoingMessage, SpeedToLeadStore } from "@leadflow/core";

/**
 * The speed-to-lead store in memory, with the table's conditional semantics: cursors count
 * the slots taken, daily counts stop at the cap, escalations and alerts move only from
 * the expected version or status.
 */
export function memoryRoutingStore() {
  const positions = new Map<string, number>();
  const counts = new Map<string, number>();
  const escalations = new Map<string, Escalation>();
  const alerts = new Map<string, Alert>();
  const history: HistoryEntry[] = [];
  const copy = <T>(value: T): T => structuredClone(value);

  const store: SpeedToLeadStore = {
    cursors: {
      async take(team) {
        const position = positions.get(team) ?? 0;
        positions.set(team, position + 1);
        return position;
      },
    },
    dailyCounts: {
      async take(team, rep, date, cap) {
        const key = `${team}#${rep}#${date}`;
        const count = counts.get(key) ?? 0;
        if (count >= cap) return false;
        counts.set(key, count + 1);
        return true;
      },
    },
    async getEscalation(leadId) {
      const escalation = escalations.get(leadId);
      return escalation && copy(escalation);
    },
    async saveEscalation(escalation, expectedVersion) {
      if (escalations.get(escalation.leadId)?.version !== expectedVersion) return false;
      escalations.set(escalation.leadId, copy(escalation));
      return true;
    },
    async createAlert(alert) {
      if (!alerts.has(alert.token)) alerts.set(alert.token, copy(alert));
    },
    async getAlert(token) {
      const alert = alerts.get(token);
      return alert && copy(alert);
    },
    async moveAlert(token, from, to, fields = {}) {
      const alert = alerts.get(token);
      if (!alert || !from.includes(alert.status)) return undefined;
      const moved = { ...alert, ...fields, status: to };
      alerts.set(token, moved);
      return copy(moved);
    },
    async keepTaskToken(token, taskToken) {
      const alert = alerts.get(token);
      if (!alert) return undefined;
      alert.taskToken = taskToken;
      return copy(alert);
    },
    async recordHistory(entry) {
      const index = history.findIndex((existing) => existing.leadId === entry.leadId && existing.id === entry.id);
      if (index >= 0) history.splice(index, 1);
      history.push(copy(entry));
    },
  };
  return { store, positions, counts, escalations, alerts, history };
}

/** Messages handed to the outbound queue, and workflow tasks answered. */
export function recordingOutbox() {
  const sent: OutgoingMessage[] = [];
  const answered: { taskToken: string; output: Record<string, unknown> }[] = [];
  return {
    sent,
    answered,
    send: async (messages: readonly OutgoingMessage[]) => {
      sent.push(...messages);
    },
    tasks: {
      succeed: async (taskToken: string, output: Record<string, unknown>) => {
        answered.push({ taskToken, output });
      },
    },
  };
}
