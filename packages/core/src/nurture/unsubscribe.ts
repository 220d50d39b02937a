import { NotFoundError } from "../errors.ts";
import { escapeHtml } from "../routing/alerts.ts";
import { htmlPage } from "../routing/pages.ts";
import { exitEnrolments, type NurtureDependencies } from "./runner.ts";

/** `ada@example.com` → `a••@example.com`: enough for a person to recognise, nothing for anyone else. */
export function maskEmail(email: string): string {
  const [local = "", domain = ""] = email.split("@");
  return `${local.slice(0, 1)}${"•".repeat(Math.min(6, Math.max(2, local.length - 1)))}@${domain}`;
}

/** What an unsubscribe link's token names; a token nobody issued is a 404. */
export async function unsubscribeTarget(deps: Pick<NurtureDependencies, "store">, token: string) {
  const target = await deps.store.findUnsubscribeToken(token);
  if (!target) throw new NotFoundError("This unsubscribe link is not valid");
  const suppressed = await deps.store.suppression("email", target.email);
  return { ...target, unsubscribed: suppressed !== undefined };
}

/**
 * One-click unsubscribe (RFC 8058): the address goes on the suppression list at once, and every
 * active enrolment of the lead exits. Doing it again changes nothing.
 */
export async function unsubscribe(
  deps: Pick<NurtureDependencies, "store" | "sequences" | "now">,
  token: string,
): Promise<{ leadId: string; email: string; exited: number }> {
  const target = await unsubscribeTarget(deps, token);
  if (!target.unsubscribed) {
    await deps.store.suppress({
      channel: "email",
      address: target.email,
      reason: "unsubscribe",
      at: deps.now().toISOString(),
      leadId: target.leadId,
    });
  }
  const exited = await exitEnrolments(deps, target.leadId, "unsubscribed");
  return { leadId: target.leadId, email: target.email, exited };
}

/** GET /unsubscribe/{token}: says what the button does; the page itself changes nothing. */
export function unsubscribePage(email: string, unsubscribed: boolean, action: string): string {
  const masked = escapeHtml(maskEmail(email));
  if (unsubscribed) return unsubscribedPage(email);
  return htmlPage(
    "Unsubscribe",
    `<h1>Unsubscribe</h1><p>Stop marketing email to ${masked}?</p>` +
      `<form method="post" action="${escapeHtml(action)}"><button type="submit">Unsubscribe</button></form>`,
  );
}

export function unsubscribedPage(email: string): string {
  return htmlPage(
    "Unsubscribed",
    `<h1>You are unsubscribed</h1><p>${escapeHtml(maskEmail(email))} will get no more marketing email from us.</p>`,
  );
}
