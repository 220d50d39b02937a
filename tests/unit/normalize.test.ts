import { fieldMapper, leadLimits, normalizeLead, ValidationError } from "@leadflow/core";
import { describe, expect, it } from "vitest";

const mapDefault = fieldMapper();

describe("field mapping", () => {
  it("recognises the usual names whatever their spelling", () => {
    const { values } = mapDefault({
      "First Name": "Ada",
      last_name: "Lovelace",
      EMAIL: "ada@example.com",
      phone_number: "+44 20 7946 0958",
      company_name: "Analytical Engines",
      jobTitle: "CTO",
      utm_source: "newsletter",
    });
    expect(values).toEqual({
      firstName: "Ada",
      lastName: "Lovelace",
      email: "ada@example.com",
      phone: "+44 20 7946 0958",
      company: "Analytical Engines",
      jobTitle: "CTO",
      utm_source: "newsletter",
    });
  });

  it("keeps unknown fields as custom fields, under their own names", () => {
    const { custom } = mapDefault({
      email: "a@example.com",
      "What is your budget?": "10-50k",
      favourite_colour: "teal",
    });
    expect(custom).toEqual({ "What is your budget?": "10-50k", favourite_colour: "teal" });
  });

  it("prefers email over work_email and keeps the other as a custom field", () => {
    const { values, custom } = mapDefault({ work_email: "ada@work.example", email: "ada@home.example" });
    expect(values.email).toBe("ada@home.example");
    expect(custom).toEqual({ work_email: "ada@work.example" });
  });

  it("applies a source's overrides before the built-in names", () => {
    const map = fieldMapper({ "Budget range": "custom.budget", title: "ignore", "Work address": "city" });
    const { values, custom } = map({
      "Budget range": "10k",
      title: "Ms",
      "Work address": "Lyon",
      email: "a@example.com",
    });
    expect(custom).toEqual({ budget: "10k" });
    expect(values).toEqual({ city: "Lyon", email: "a@example.com" });
  });

  it("skips empty values", () => {
    expect(mapDefault({ email: "  ", phone: "" })).toEqual({ values: {}, custom: {} });
  });
});

describe("normalisation", () => {
  it("lower-cases the email and writes the phone in E.164", () => {
    const lead = normalizeLead(mapDefault({ email: " Ada@Example.COM ", phone: "(415) 555-0132" }), {
      defaultCountry: "US",
    });
    expect(lead.email).toBe("ada@example.com");
    expect(lead.phone).toBe("+14155550132");
  });

  it("reads a national phone number in the lead's own country first", () => {
    const lead = normalizeLead(mapDefault({ phone: "020 7946 0958", country: "gb" }), { defaultCountry: "US" });
    expect(lead.phone).toBe("+442079460958");
    expect(lead.country).toBe("GB");
  });

  it("splits a full name when first and last names are missing", () => {
    const lead = normalizeLead(mapDefault({ full_name: "  Grace   Brewster Hopper ", email: "g@example.com" }));
    expect(lead).toMatchObject({ firstName: "Grace", lastName: "Brewster Hopper" });
  });

  it("does not let a full name overwrite given first and last names", () => {
    const lead = normalizeLead(
      mapDefault({ name: "G. Hopper", first_name: "Grace", last_name: "Hopper", email: "g@example.com" }),
    );
    expect(lead).toMatchObject({ firstName: "Grace", lastName: "Hopper" });
  });

  it("keeps a phone that is not a number as a custom field and stores the lead by its email", () => {
    const lead = normalizeLead(mapDefault({ email: "a@example.com", phone: "call me maybe" }), {
      defaultCountry: "US",
    });
    expect(lead.phone).toBeUndefined();
    expect(lead.custom).toEqual({ phone: "call me maybe" });
  });

  it("reads a time zone under timezone, time_zone or tz, spelled as IANA does", () => {
    expect(mapDefault({ email: "a@example.com", "Time Zone": "Europe/Paris" }).values.timezone).toBe("Europe/Paris");
    expect(normalizeLead(mapDefault({ email: "a@example.com", tz: " america/new_york " })).timezone).toBe(
      "America/New_York",
    );
    expect(normalizeLead(mapDefault({ email: "a@example.com", time_zone: "UTC" })).timezone).toBe("UTC");
  });

  it("keeps a time zone that names no IANA zone (or is an offset) as a custom field", () => {
    for (const given of ["Mars/Olympus", "+05:00", "GMT+2", "Eastern time"]) {
      const lead = normalizeLead(mapDefault({ email: "a@example.com", timezone: given }));
      expect(lead.timezone).toBeUndefined();
      expect(lead.custom).toEqual({ timezone: given });
    }
  });

  it("reads consent flags as given", () => {
    const lead = normalizeLead(mapDefault({ email: "a@example.com", marketing_consent: "yes", sms_consent: "false" }));
    expect(lead.consent).toEqual({ email: true, sms: false });
  });

  it("keeps UTM parameters and click ids as attribution", () => {
    const lead = normalizeLead(mapDefault({ email: "a@example.com", utm_campaign: "spring", gclid: "abc" }));
    expect(lead.attribution).toEqual({ utm_campaign: "spring", gclid: "abc" });
  });

  it("refuses a lead with neither a valid email nor a valid phone", () => {
    const attempt = () => normalizeLead(mapDefault({ email: "not-an-email", phone: "12", company: "Acme" }));
    expect(attempt).toThrow(ValidationError);
    try {
      attempt();
    } catch (error) {
      expect((error as ValidationError).details).toEqual([
        { path: "email", message: "not a valid email address" },
        { path: "phone", message: "not a valid phone number" },
      ]);
    }
  });
});

describe("values too long for their field", () => {
  it("keeps an over-long name, company or campaign as a custom field, and an over-long email as invalid", () => {
    const long = "x".repeat(leadLimits.profileValueLength + 1);
    const campaign = "c".repeat(leadLimits.attributionValueLength + 1);
    const email = `${"a".repeat(250)}@example.com`;
    const lead = normalizeLead(
      mapDefault({ email, phone: "+14155550132", company: long, fullName: long, utm_campaign: campaign }),
    );
    expect(lead.company).toBeUndefined();
    expect(lead.firstName).toBeUndefined();
    expect(lead.attribution.utm_campaign).toBeUndefined();
    expect(lead.email).toBeUndefined();
    expect(lead.custom).toEqual({ company: long, fullName: long, utm_campaign: campaign, email });
  });
});
