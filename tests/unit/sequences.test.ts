import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configRegistry, loadConfigOf, readConfigOf } from "@leadflow/config";
import {
  type CompiledSequence,
  compileSequences,
  htmlToText,
  type Lead,
  parseYamlConfig,
  renderStep,
  SequenceSchema,
  sampleTemplateContext,
  templateLibrary,
} from "@leadflow/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configCheckReport } from "../../packages/local/src/config-files.ts";

let dir = "";

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "leadflow-sequences-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(path: string, text: string) {
  mkdirSync(join(dir, path, ".."), { recursive: true });
  writeFileSync(join(dir, path), text);
}

/** Reads `dir` over the shipped config/, as `config:check -- --config DIR` does. */
const read = () => readConfigOf(configRegistry, dir, "config");

const shippedTemplates = templateLibrary(
  ["reactivate-1.liquid", "demo-offer.liquid"].map((name) => ({
    name,
    text: readFileSync(join("config/templates", name), "utf8"),
  })),
);

/** A sequence file as lines: `sequence(["  - sms: ..."])` puts the lines under `steps:`. */
function sequence(steps: string[], head: string[] = []): string {
  return [
    "id: test-sequence",
    'from: { email: "Acme <hello@acme.example>", sms: "+14155550000" }',
    "entry: { temperature: cold }",
    ...head,
    "steps:",
    ...steps,
    "",
  ].join("\n");
}

function compile(text: string, file = "sequences/test.yaml"): CompiledSequence {
  const config = parseYamlConfig(text, file, SequenceSchema);
  const [compiled] = compileSequences([{ file, text, config }], shippedTemplates).all;
  return compiled as CompiledSequence;
}

const lead: Lead = {
  id: "lead-1",
  firstName: "Grace",
  company: "Navy Labs",
  email: "grace@example.com",
  emails: ["grace@example.com"],
  phones: [],
  custom: { plan: "pro" },
  consent: {},
  sources: [],
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  version: 1,
};
const owner = { id: "ana", name: "Ana Ruiz", email: "ana@example.com", phone: "+14155550101" };
const unsubscribeUrl = "https://leads.example/unsubscribe/tok-1";

describe("the shipped sequences and templates", () => {
  it("compile, with step ids, the previous email resolved and the defaults written down", () => {
    const { issues, config } = read();
    expect(issues).toEqual([]);
    const compiled = config?.sequences.byId("cold-reactivation");
    expect(compiled).toMatchObject({
      id: "cold-reactivation",
      label: "3",
      entry: { temperatures: ["cold"], coldForDays: 14, stages: ["information-qualified", "marketing-qualified"] },
      reentry: { afterSeconds: 90 * 86_400 },
      window: { days: [1, 2, 3, 4, 5], from: 9 * 60, to: 17 * 60 },
      caps: { perDay: 1, perWeek: 3 },
      from: { email: "Acme <hello@acme.example>", sms: "+14155550000" },
      exit: ["replied", "converted", "hot", "unsubscribed", "bounced"],
    });
    expect(compiled?.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(compiled?.steps.map(({ id, kind }) => [id, kind])).toEqual([
      ["step-1", "email"],
      ["step-2", "wait"],
      ["step-3", "branch"],
      ["step-4", "sms"],
      ["step-5", "wait-until"],
      ["demo-offer", "email"],
    ]);
    expect(compiled?.steps[2]).toEqual({
      id: "step-3",
      kind: "branch",
      if: { clicked: "step-1" },
      // biome-ignore lint/suspicious/noThenProperty: a branch step's own key
      then: "demo-offer",
      else: "next",
    });
    expect(compiled?.steps[4]).toEqual({ id: "step-5", kind: "wait-until", weekday: 2, minute: 600 });
    expect(compiled?.steps[0]).toMatchObject({
      template: "reactivate-1.liquid",
      body: readFileSync("config/templates/reactivate-1.liquid", "utf8"),
    });
    expect(config?.templates.byName("demo-offer.liquid")?.text).toContain("unsubscribe_url");
  });

  it("fills in the defaults: no reentry, mon-fri 09-17, 1 a day and 3 a week, every exit", () => {
    const compiled = compile(sequence(["  - sms: { text: Hi }"]));
    expect(compiled).toMatchObject({
      entry: { temperatures: ["cold"], coldForDays: 0 },
      reentry: "never",
      window: { days: [1, 2, 3, 4, 5], from: 540, to: 1020 },
      caps: { perDay: 1, perWeek: 3 },
      exit: ["replied", "converted", "hot", "unsubscribed", "bounced"],
    });
    expect(compiled.entry.stages).not.toContain("customer");
    expect(compiled.label).toBeUndefined();
    const lifted = compile(
      sequence(["  - sms: { text: Hi }"], ["caps: { perDay: none, perWeek: none }", "exit: [replied]"]),
    );
    expect(lifted.caps).toEqual({});
    expect(lifted.exit).toEqual(["replied", "unsubscribed", "bounced"]);
  });
});

describe("mistakes in sequences and templates, each at its file, line and column", () => {
  it("an unknown filter in a subject, at its place in the line", () => {
    write(
      "sequences/a.yaml",
      sequence(['  - email: { subject: "Hi {{ lead.firstName | shout }}", template: demo-offer }']),
    );
    expect(read().issues).toEqual([
      {
        file: join(dir, "sequences/a.yaml"),
        line: 5,
        column: 27,
        path: "steps.0.email.subject",
        message: "Liquid: undefined filter: shout",
      },
    ]);
  });

  it("an unknown filter and bad syntax in template files, at their line and column", () => {
    write("templates/bad-filter.liquid", "<p>Hi</p>\n<p>{{ lead.firstName | upcase | shout }}</p>\n");
    write("templates/bad-syntax.liquid", "Hello\n\n  {% if lead.company %}no end\n");
    write("templates/include.liquid", "{% include 'footer' %}\n");
    expect(read().issues).toEqual([
      {
        file: join(dir, "templates/bad-filter.liquid"),
        line: 2,
        column: 4,
        path: "",
        message: "Liquid: undefined filter: shout",
      },
      {
        file: join(dir, "templates/bad-syntax.liquid"),
        line: 3,
        column: 3,
        path: "",
        message: "Liquid: tag {% if lead.company %} not closed",
      },
      {
        file: join(dir, "templates/include.liquid"),
        line: 1,
        column: 1,
        path: "",
        message: expect.stringContaining("{% include %} is not available"),
      },
    ]);
  });

  it("a template that does not exist, a branch to no step, a channel without its sender", () => {
    write(
      "sequences/a.yaml",
      [
        "id: a",
        'from: { email: "Acme <hello@acme.example>" }',
        "entry: { temperature: cold }",
        "steps:",
        "  - email: { subject: Hi, template: missing.liquid }",
        "  - branch: { if: { opened: previous }, then: nowhere }",
        "  - sms: { text: Hi }",
        "",
      ].join("\n"),
    );
    expect(read().issues).toEqual([
      expect.objectContaining({
        line: 5,
        column: 37,
        path: "steps.0.email.template",
        message: expect.stringContaining('no template "missing.liquid"'),
      }),
      expect.objectContaining({
        line: 6,
        column: 47,
        path: "steps.1.branch.then",
        message: expect.stringContaining('no step "nowhere"'),
      }),
      expect.objectContaining({ line: 7, column: 10, path: "steps.2.sms", message: "an SMS step needs from.sms" }),
    ]);
  });

  it("a duplicate sequence id, in the second file", () => {
    write("sequences/a.yaml", sequence(["  - sms: { text: Hi }"]));
    write("sequences/b.yaml", sequence(["  - sms: { text: Hello }"]));
    expect(read().issues).toEqual([
      {
        file: join(dir, "sequences/b.yaml"),
        line: 1,
        column: 5,
        path: "id",
        message: `sequence "test-sequence" is also in ${join(dir, "sequences/a.yaml")}`,
      },
    ]);
  });

  it("a sequence that sends nothing, and a branch backwards", () => {
    write(
      "sequences/a.yaml",
      sequence(["  - id: start", "    wait: 3d", "  - branch: { if: { replied: true }, then: start }", "  - wait: 1d"]),
    );
    expect(read().issues).toEqual([
      expect.objectContaining({
        line: 7,
        column: 44,
        path: "steps.1.branch.then",
        message: 'a branch only jumps forward; "start" comes before',
      }),
      expect.objectContaining({ line: 5, column: 3, path: "steps", message: expect.stringContaining("sends nothing") }),
    ]);
  });

  it("an entry on a temperature other than cold, which enrolment (the cold index) never reads", () => {
    write("sequences/c.yaml", sequence(["  - sms: { text: Hi }"]).replace("temperature: cold", "temperature: warm"));
    expect(read().issues).toEqual([
      expect.objectContaining({ line: 3, path: "entry.temperature", message: expect.stringContaining("gone cold") }),
    ]);
  });

  it("a step of two kinds", () => {
    write("sequences/b.yaml", sequence(["  - { sms: { text: Hi }, wait: 1d }"]));
    expect(read().issues).toEqual([
      {
        file: join(dir, "sequences/b.yaml"),
        line: 5,
        column: 5,
        path: "steps.0",
        message: "a step is exactly one of email, sms, wait, branch (this one is sms and wait)",
      },
    ]);
  });

  it("leaves sequences uncompiled while templates have mistakes, and handlers see the templates' mistakes", () => {
    write("templates/demo-offer.liquid", "{{ lead.firstName | shout }}\n");
    const { issues, entries } = read();
    expect(issues).toEqual([expect.objectContaining({ file: join(dir, "templates/demo-offer.liquid") })]);
    expect(entries.find(({ key }) => key === "sequences")?.issues).toEqual([]);
    const config = loadConfigOf(configRegistry, dir, "config");
    expect(() => config.sequences).toThrow(/demo-offer\.liquid:1:1/);
    expect(config.routing.teams.size).toBeGreaterThan(0);
  });

  it("config:check -- --config DIR takes what DIR lacks from config/ and lists the folders", () => {
    write("sequences/other.yaml", sequence(['  - email: { subject: "Hi", template: demo-offer.liquid }']));
    const report = configCheckReport(dir, { fallbackDir: "config", registry: configRegistry });
    expect(report).toMatchObject({ ok: true, stderr: "" });
    expect(report.stdout).toContain(`config/templates/*.liquid (2 files), ${join(dir, "sequences")}/*.yaml (1 file)`);
  });
});

describe("a sequence's digest", () => {
  const steps = ['  - email: { subject: "Hi {{ lead.firstName }}", template: reactivate-1.liquid }'];

  it("is the same whatever the order of keys, and changes with a template", () => {
    const first = compile(sequence(steps, ["window: { days: mon-fri, from: '09:00', to: '17:00' }"]));
    const reordered = compile(
      [
        "steps:",
        '  - email: { template: reactivate-1.liquid, subject: "Hi {{ lead.firstName }}" }',
        "window: { to: '17:00', from: '09:00', days: mon-fri }",
        "entry: { temperature: cold }",
        'from: { sms: "+14155550000", email: "Acme <hello@acme.example>" }',
        "id: test-sequence",
      ].join("\n"),
    );
    expect(reordered.digest).toBe(first.digest);

    write("templates/reactivate-1.liquid", "<p>Hi {{ lead.firstName }}, a new text.</p>\n");
    write("sequences/test.yaml", sequence(steps));
    const edited = read().config?.sequences.byId("test-sequence");
    expect(edited?.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(edited?.digest).not.toBe(first.digest);
  });
});

describe("renderStep", () => {
  const shipped = () => read().config?.sequences.byId("cold-reactivation") as CompiledSequence;

  it("renders an HTML email with the lead's fields, escaped, and a plain-text part", () => {
    const rendered = renderStep(shipped(), "step-1", {
      lead: { ...lead, company: "Navy <Labs> & Co" },
      owner,
      unsubscribeUrl,
    });
    expect(rendered).toMatchObject({ subject: "Still looking at Navy <Labs> & Co?" });
    if (!("html" in rendered)) throw new Error("expected an HTML email");
    expect(rendered.html).toContain("Hi Grace,");
    expect(rendered.html).toContain("Navy &lt;Labs&gt; &amp; Co");
    expect(rendered.html).toContain(`<a href="${unsubscribeUrl}">Unsubscribe</a>`);
    expect(rendered.html).toContain("Ana Ruiz will get back to you");
    expect(rendered.text).toContain("Navy <Labs> & Co usually come back");
    expect(rendered.text).toContain(`Unsubscribe (${unsubscribeUrl})`);
    expect(rendered.text).not.toMatch(/<[a-z]/);
  });

  it("uses the default filter for a missing field, and renders an absent owner as empty", () => {
    const bare: Lead = { ...lead, firstName: undefined, company: undefined };
    const email = renderStep(shipped(), "step-1", { lead: bare, unsubscribeUrl });
    expect(email).toMatchObject({ subject: "Still looking at your team?" });
    expect("html" in email && email.html).toContain("Hi there,");
    expect("html" in email && email.html).not.toContain("will get back to you");
    expect("html" in email && email.html).toContain("The Acme team");
    expect(renderStep(shipped(), "step-4", { lead: bare, unsubscribeUrl })).toEqual({
      text: "Hi , a quick question from Acme: reply YES for a call. STOP to opt out",
    });
  });

  it("renders custom fields and plain-text templates without escaping", () => {
    const library = templateLibrary([
      { name: "plain.liquid", text: "Plan: {{ lead.custom.plan }} & {{ owner.name }}\n" },
    ]);
    const text = sequence(['  - email: { subject: "For {{ lead.company }}", template: plain }']);
    const config = parseYamlConfig(text, "plain.yaml", SequenceSchema);
    const compiled = compileSequences([{ file: "plain.yaml", text, config }], library).all[0] as CompiledSequence;
    expect(renderStep(compiled, "step-1", { lead, owner, unsubscribeUrl })).toEqual({
      subject: "For Navy Labs",
      text: "Plan: pro & Ana Ruiz",
    });
  });

  it("still renders a compiled sequence after a JSON round trip", () => {
    const compiled = shipped();
    const stored = JSON.parse(JSON.stringify(compiled)) as CompiledSequence;
    expect(stored).toEqual(compiled);
    const context = { lead, owner, unsubscribeUrl };
    expect(renderStep(stored, "demo-offer", context)).toEqual(renderStep(compiled, "demo-offer", context));
    expect(() => renderStep(stored, "step-2", context)).toThrow(/sends nothing/);
  });

  it("checks templates against a sample context that has every profile field", () => {
    expect(sampleTemplateContext.lead.firstName).toBe("Ada");
    expect(htmlToText('<p>One &amp; two</p><p>Three<br>four <a href="https://x.example">link</a></p>')).toBe(
      "One & two\n\nThree\nfour link (https://x.example)",
    );
  });
});
