import type { ReviewItemView } from '../../remediate/reviews.ts';

/** The owner's review page and its answers: small, server-rendered, every value escaped. */

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${esc(title)}</title><style>body{font:15px system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}
li{margin:.8rem 0}label{margin-right:1rem}input[type=text]{width:100%}</style></head><body>${body}</body></html>`;
}

export function reviewPage(owner: string, items: ReviewItemView[]): string {
  const rows = items
    .map(
      (i) => `<li><div>${esc(i.description)}</div>
<label><input type="radio" name="d_${i.id}" value="keep" required> keep</label>
<label><input type="radio" name="d_${i.id}" value="revoke"> revoke</label>
<input type="text" name="j_${i.id}" maxlength="500" placeholder="why (optional)" aria-label="justification"></li>`,
    )
    .join('\n');
  return layout(
    'Review the sharing of your files',
    `<h1>Review the sharing of your files</h1><p>${esc(owner)}: these files are shared outside your organisation or with anyone who has the link.
Keep what is still needed; revoke the rest. The link works once.</p><form method="post"><ol>${rows}</ol><button type="submit">Send my decisions</button></form>`,
  );
}

export function answeredPage(kept: number, revoked: Array<{ path: string; result: string }>): string {
  const list = revoked.map((r) => `<li>${esc(r.path)}: ${esc(r.result)}</li>`).join('');
  return layout(
    'Thank you',
    `<h1>Thank you</h1><p>Kept ${kept}, revoked ${revoked.length}.</p>${list ? `<ul>${list}</ul>` : ''}`,
  );
}

export function refusedPage(message: string): string {
  return layout('Review link refused', `<h1>This review link cannot be used</h1><p>${esc(message)}</p>`);
}
