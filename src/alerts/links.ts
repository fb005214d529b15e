/**
 * Links into the web app (config alerts.webAppUrl, else server.publicUrl); none without a
 * base URL. The routes are the web app's: /findings/<id>, /changes/<id>, /packs/<id>, and their lists.
 */
export class AppLinks {
  private readonly base: string | null;

  constructor(baseUrl: string | undefined | null) {
    this.base = baseUrl ? baseUrl.replace(/\/+$/, '') : null;
  }

  finding(findingId: number | string): string | null {
    return this.base ? `${this.base}/findings/${encodeURIComponent(String(findingId))}` : null;
  }

  change(changeId: number | string): string | null {
    return this.base ? `${this.base}/changes/${encodeURIComponent(String(changeId))}` : null;
  }

  /** A compliance pack's score for an integration. */
  pack(packId: string, integrationId: string): string | null {
    return this.base
      ? `${this.base}/packs/${encodeURIComponent(packId)}?integration=${encodeURIComponent(integrationId)}`
      : null;
  }

  /** A saved query in the query console. */
  query(name: string): string | null {
    return this.base ? `${this.base}/query?saved=${encodeURIComponent(name)}` : null;
  }

  /** The list a digest of this policy kind points at. */
  list(kind: 'rule' | 'change' | 'compliance'): string | null {
    if (!this.base) return null;
    if (kind === 'compliance') return `${this.base}/packs`;
    return kind === 'rule' ? `${this.base}/findings?status=open` : `${this.base}/changes`;
  }
}
