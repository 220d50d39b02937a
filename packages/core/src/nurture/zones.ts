import { getAllCountries, getTimezonesForCountry } from "countries-and-timezones";
import { parsePhoneNumberFromString } from "libphonenumber-js";
import { canonicalTimeZone } from "../leads/timezone.ts";

/**
 * Which time zones a lead may be in: its own `timezone` field, else the zones of its phone
 * number's country, else those of its `country`, else the account's zone. A phone number gives
 * its country only (libphonenumber-js), never a region: the zones are the country's, all of
 * them (countries-and-timezones), so a US number spans every US zone. See docs/nurture.md.
 */

export { canonicalTimeZone, zoneNamePattern } from "../leads/timezone.ts";

export type ZoneSource = "timezone" | "phone" | "country" | "account";

export interface LeadTimeZones {
  /** One or more IANA zones; a message goes only when its window holds in every one. */
  zones: string[];
  from: ZoneSource;
}

/** The country's zones, current ones only; undefined for a code or name it does not know. */
export function countryTimeZones(country: string): string[] | undefined {
  const trimmed = country.trim();
  const code = /^[a-z]{2}$/i.test(trimmed) ? trimmed.toUpperCase() : countryCodesByName().get(trimmed.toLowerCase());
  if (code === undefined) return undefined;
  const zones = getTimezonesForCountry(code)?.map(({ name }) => name);
  return zones && zones.length > 0 ? zones : undefined;
}

/** The zones of the phone number's country (`+1 212…` → every US zone); undefined when it has none. */
export function phoneTimeZones(phone: string): string[] | undefined {
  const country = parsePhoneNumberFromString(phone)?.country;
  return country ? countryTimeZones(country) : undefined;
}

/**
 * The lead's zones and where they came from. `accountZone` (an account setting, an IANA zone)
 * is used when nothing about the lead gives one; it is checked, and a bad one throws.
 */
export function leadTimeZones(
  lead: { timezone?: string; phone?: string; country?: string },
  accountZone: string,
): LeadTimeZones {
  const own = lead.timezone === undefined ? undefined : canonicalTimeZone(lead.timezone);
  if (own) return { zones: [own], from: "timezone" };
  const byPhone = lead.phone === undefined ? undefined : phoneTimeZones(lead.phone);
  if (byPhone) return { zones: byPhone, from: "phone" };
  const byCountry = lead.country === undefined ? undefined : countryTimeZones(lead.country);
  if (byCountry) return { zones: byCountry, from: "country" };
  const account = canonicalTimeZone(accountZone);
  if (!account) throw new RangeError(`The account time zone is not an IANA zone: ${JSON.stringify(accountZone)}`);
  return { zones: [account], from: "account" };
}

let byName: Map<string, string> | undefined;

/** English country names (`france`, `united states of america`) → ISO codes, built once. */
function countryCodesByName(): Map<string, string> {
  byName ??= new Map(Object.values(getAllCountries()).map(({ id, name }) => [name.toLowerCase(), id]));
  return byName;
}
