import { Logger } from "@aws-lambda-powertools/logger";

/**
 * Keys whose values are personal data. Logs carry lead ids, never these; this is the safety net
 * should a payload ever reach a log. (`name` is left out: it is also every error's name.)
 */
const personalKeys = new Set([
  "email",
  "emails",
  "phone",
  "phones",
  "fullName",
  "firstName",
  "lastName",
  "full_name",
  "first_name",
  "last_name",
  "phone_number",
  "field_data",
  "user_column_data",
]);

export function redactPersonalData(key: string, value: unknown): unknown {
  return personalKeys.has(key) ? "[redacted]" : value;
}

export const logger = new Logger({ serviceName: "leadflow", jsonReplacerFn: redactPersonalData });
