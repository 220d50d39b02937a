import { type Alert, escapeHtml, type LeadBrief } from "./alerts.ts";

/**
 * The small pages a rep sees from an alert link. Self-contained HTML: no scripts, no external
 * assets, so they work in any mail client's browser and need no CSP allowances.
 */

const style = `body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}dl{display:grid;grid-template-columns:8rem 1fr;gap:.3rem .8rem}dt{color:#555}
form{display:inline-block;margin:1.2rem .6rem 0 0}button{font-size:1.1rem;padding:.6rem 1.4rem;border-radius:.4rem;border:1px solid #999;cursor:pointer}
.accept{background:#0a7d32;color:#fff;border-color:#0a7d32}.note{color:#555}`;

/** A small self-contained page: no scripts, no external assets. */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${style}</style></head><body>${body}</body></html>`;
}

/** The alert: who the lead is, why it is hot, how to reach them, and the two buttons. */
export function alertPage(alert: Alert, brief: LeadBrief, action: string, deadline: Date): string {
  const rows: [string, string | undefined][] = [
    ["Company", brief.company],
    ["Email", brief.email],
    ["Phone", brief.phone],
    ["Score", `${brief.score} (${brief.temperature}, ${brief.stage})`],
    ["Accept by", `${deadline.toISOString().replace("T", " ").slice(0, 16)} UTC`],
  ];
  const details = rows
    .filter((row): row is [string, string] => row[1] !== undefined)
    .map(([label, value]) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>`)
    .join("");
  const reasons = brief.reasons.map((reason) => `<li>${escapeHtml(reason)}</li>`).join("");
  const button = (value: "accept" | "decline", label: string) =>
    `<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="action" value="${value}"><button type="submit"${value === "accept" ? ' class="accept"' : ""}>${label}</button></form>`;
  return htmlPage(
    `Lead: ${brief.name}`,
    `<h1>${escapeHtml(brief.name)}</h1><p>${escapeHtml(alert.recipient.name)}, this lead is yours if you accept it now.</p>` +
      `<dl>${details}</dl>${reasons ? `<p>Why now:</p><ul>${reasons}</ul>` : ""}` +
      button("accept", "Accept") +
      button("decline", "Decline"),
  );
}

/** After an answer. */
export function answeredPage(alert: Alert, brief: LeadBrief): string {
  if (alert.status === "accepted") {
    const reach = [brief.phone && `call ${brief.phone}`, brief.email && `email ${brief.email}`]
      .filter(Boolean)
      .join(" or ");
    return htmlPage(
      "Accepted",
      `<h1>${escapeHtml(brief.name)} is yours</h1><p>Reach out now${reach ? `: ${escapeHtml(reach)}` : ""}.</p>`,
    );
  }
  return htmlPage(
    "Declined",
    `<h1>Declined</h1><p class="note">${escapeHtml(brief.name)} goes to the next person at once.</p>`,
  );
}

/** A link that no longer works: used, superseded or expired (410). */
export function gonePage(message: string): string {
  return htmlPage("This alert is closed", `<h1>This alert is closed</h1><p>${escapeHtml(message)}</p>`);
}
