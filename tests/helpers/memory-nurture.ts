import type { CompiledSequence, ContactLog, Enrolment, NurtureStore, Suppression } from "@leadflow/core";

/**
 * The nurture store contract in memory, with the table's conditional-write semantics (versions,
 * create-if-absent). For unit tests of the runner; the table store is covered on the emulators.
 */
export function memoryNurtureStore() {
  const enrolments = new Map<string, Enrolment>();
  const sequences = new Map<string, CompiledSequence>();
  const cursors = new Map<string, string>();
  const suppressions = new Map<string, Suppression>();
  const logs = new Map<string, ContactLog>();
  const tokens = new Map<string, { leadId: string; email: string }>();
  const copy = <T>(value: T): T => structuredClone(value);
  const key = (leadId: string, sequenceId: string) => `${leadId}:${sequenceId}`;

  const store: NurtureStore = {
    async getEnrolment(leadId, sequenceId) {
      const found = enrolments.get(key(leadId, sequenceId));
      return found && copy(found);
    },
    async saveEnrolment(next, expectedVersion) {
      const current = enrolments.get(key(next.leadId, next.sequenceId));
      if (expectedVersion === undefined ? current !== undefined : current?.version !== expectedVersion) return false;
      enrolments.set(key(next.leadId, next.sequenceId), copy(next));
      return true;
    },
    async enrolmentsOf(leadId) {
      return [...enrolments.values()].filter((enrolment) => enrolment.leadId === leadId).map(copy);
    },
    async keepSequence(sequence) {
      sequences.set(`${sequence.id}#${sequence.digest}`, copy(sequence));
    },
    async getSequence(sequenceId, digest) {
      const found = sequences.get(`${sequenceId}#${digest}`);
      return found && copy(found);
    },
    async enrolCursor(sequenceId) {
      return cursors.get(sequenceId);
    },
    async setEnrolCursor(sequenceId, coldUntil) {
      cursors.set(sequenceId, coldUntil);
    },
    async *dueSteps(upTo) {
      // Active runs by their next step, ended ones by their re-entry, as the due index holds them.
      const due = [...enrolments.values()].filter(
        (enrolment) => enrolment.dueAt !== undefined && enrolment.dueAt <= upTo,
      );
      if (due.length > 0)
        yield due.map(({ leadId, sequenceId, enrolmentId, stepIndex, dueAt }) => ({
          leadId,
          sequenceId,
          enrolmentId,
          stepIndex,
          dueAt: dueAt as string,
        }));
    },
    async suppression(channel, address) {
      return suppressions.get(`${channel}:${address}`);
    },
    async suppress(entry) {
      suppressions.set(`${entry.channel}:${entry.address}`, copy(entry));
    },
    async liftSuppression(channel, address, reasons) {
      const found = suppressions.get(`${channel}:${address}`);
      if (found && reasons.includes(found.reason)) suppressions.delete(`${channel}:${address}`);
    },
    async contactLog(leadId) {
      return copy(logs.get(leadId) ?? { contacts: [], version: 0 });
    },
    async recordContact(leadId, contact, log) {
      if ((logs.get(leadId)?.version ?? 0) !== log.version) return false;
      logs.set(leadId, { contacts: [...log.contacts, contact], version: log.version + 1 });
      return true;
    },
    async createUnsubscribeToken(leadId, email) {
      const token = `token-${tokens.size + 1}`;
      tokens.set(token, { leadId, email });
      return token;
    },
    async findUnsubscribeToken(token) {
      return tokens.get(token);
    },
  };
  /** The maps behind it, keyed `leadId:sequenceId`, `channel:address` and lead id. */
  return { store, enrolments, logs, suppressions };
}
