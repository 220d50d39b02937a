import { Logger } from "@aws-lambda-powertools/logger";

/**
 * Keys whose values are personal data, compared the way field names are (case, spaces, `_` and
 * `-` ignored). The code logs lead ids, never payloads; this is the safety net should a lead's
 * fields ever reach a log: whole `custom`, `fields` and `values` objects are redacted too, as they
 * hold whatever a form sent. (`name` is left out: it is also every error's name.)
 */
const personalKeys = new Set([
  "email",
  "emails",
  "workemail",
  "phone",
  "phones",
  "phonenumber",
  "mobile",
  "fullname",
  "firstname",
  "lastname",
  "custom",
  "fields",
  "values",
  "fielddata",
  "usercolumndata",
]);

export function redactPersonalData(key: string, value: unknown): unknown {
  return personalKeys.has(key.toLowerCase().replace(/[^a-z0-9]/g, "")) ? "[redacted]" : value;
}

export const logger = new Logger({ serviceName: "leadflow", jsonReplacerFn: redactPersonalData });
