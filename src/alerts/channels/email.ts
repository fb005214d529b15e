import { isIP } from 'node:net';
import nodemailer, { type Transporter } from 'nodemailer';
import { DeliveryError, toDeliveryError } from '../delivery-error.ts';
import {
  type AlertMessage,
  digestCounts,
  itemFacts,
  itemHeadline,
  itemWhere,
  messageSubject,
  messageText,
  severityLabel,
} from '../message.ts';
import { refusalIn } from '../outbound-guard.ts';
import type { EmailConfig } from './config.ts';
import type { ChannelSend } from './types.ts';

/**
 * E-mail over SMTP (nodemailer): a text and an HTML part. STARTTLS is required when asked
 * for (never silently plain), certificates are verified against the host name. The
 * Message-ID is the idempotency key, so a message repeated after a crash is one message to
 * mail clients and archives that deduplicate by Message-ID.
 */

const escapeHtml = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

const anchor = (url: string, text: string) => `<a href="${escapeHtml(url)}">${escapeHtml(text)}</a>`;

/** The HTML part. */
export function emailHtml(message: AlertMessage): string {
  const parts: string[] = [];
  if (message.kind === 'digest') {
    parts.push(
      `<h2>${escapeHtml(message.title)}</h2>`,
      `<p>${escapeHtml(`${message.count} events: ${digestCounts(message)}`)}</p>`,
    );
    const rows = message.items.map((item) => {
      const what = item.appUrl ? anchor(item.appUrl, itemHeadline(item)) : escapeHtml(itemHeadline(item));
      return `<li><b>${escapeHtml(severityLabel(item.severity))}</b> ${what} — ${escapeHtml(itemWhere(item))}${item.owner ? ` (${escapeHtml(item.owner)})` : ''}</li>`;
    });
    const more = message.count - message.items.length;
    if (more > 0) rows.push(`<li>… and ${more} more</li>`);
    parts.push(`<ul>${rows.join('')}</ul>`);
  } else {
    const item = message.items[0];
    parts.push(`<h2>${escapeHtml(itemHeadline(item))}</h2>`);
    const rows = itemFacts(item).map(
      ([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`,
    );
    parts.push(`<table>${rows.join('')}</table>`);
    if (item.resourceUrl) parts.push(`<p>${anchor(item.resourceUrl, 'Open in OneDrive')}</p>`);
  }
  if (message.appUrl) parts.push(`<p>${anchor(message.appUrl, 'Open in drivewarden')}</p>`);
  parts.push(`<p style="color:#666">Policy: ${escapeHtml(message.policy)}</p>`);
  return `<!doctype html><html><body>${parts.join('\n')}</body></html>`;
}

function smtpFailure(err: unknown, timeoutMs: number): DeliveryError {
  if (refusalIn(err)) return toDeliveryError(err, timeoutMs);
  const e = err as Error & { responseCode?: number; code?: string };
  if (typeof e.responseCode === 'number') {
    // 4xx: try again later; 5xx: permanent (bad recipient, authentication failed, …).
    return new DeliveryError(`SMTP ${e.responseCode}: ${e.message}`, e.responseCode < 500, e.responseCode);
  }
  if (e.code === 'EAUTH' || e.code === 'EENVELOPE') return new DeliveryError(e.message, false);
  if (e.code === 'ETIMEDOUT') return new DeliveryError(`timed out after ${timeoutMs} ms`, true);
  return toDeliveryError(err, timeoutMs);
}

export const sendEmail: ChannelSend<EmailConfig> = async (message, config, ctx) => {
  let transport: Transporter | undefined;
  try {
    // Connect to an address the guard allowed; TLS still verifies the certificate against the host name.
    const [target] = await ctx.guard.resolve(config.host);
    const servername = isIP(config.host) ? undefined : config.host;
    transport = nodemailer.createTransport({
      host: target.address,
      port: config.port,
      secure: config.security === 'tls',
      requireTLS: config.security === 'starttls',
      ignoreTLS: config.security === 'none',
      ...(config.user ? { auth: { user: config.user, pass: config.password } } : {}),
      ...(servername ? { servername } : {}),
      tls: {
        minVersion: 'TLSv1.2',
        ...(servername ? { servername } : {}),
        ...(config.caPem ? { ca: config.caPem } : {}),
      },
      connectionTimeout: ctx.timeoutMs,
      greetingTimeout: ctx.timeoutMs,
      socketTimeout: ctx.timeoutMs,
    });
    const info = await transport.sendMail({
      from: config.from,
      to: config.to,
      subject: messageSubject(message),
      text: messageText(message),
      html: emailHtml(message),
      messageId: `<${ctx.idempotencyKey}@drivewarden>`,
      headers: { 'X-Drivewarden-Alert': message.id, 'X-Drivewarden-Policy': message.policy },
    });
    const code = Number(/^(\d{3})/.exec(String(info.response ?? ''))?.[1] ?? 250);
    return { status: code };
  } catch (err) {
    throw smtpFailure(err, ctx.timeoutMs);
  } finally {
    transport?.close();
  }
};
