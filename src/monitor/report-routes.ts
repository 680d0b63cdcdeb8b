import type { Server } from 'restify';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { registerReportRoute, type ReportLinks } from '../reports/links.js';
import type { AlertService } from './alerts.js';
import { toCsv } from './reports.js';

/**
 * GET /api/reports/alerts/:alertId.csv — the full reconciliation report behind an alert card, as CSV.
 * Links are signed and expire (ReportLinks); this also tells the alert service how to build them, so every
 * alert card with a stored report gets an "Full report (CSV)" button. `baseUrl` is PUBLIC_URL or the server's URL.
 */
export function registerReportRoutes(server: Server, d: { links: ReportLinks; alerts: AlertService; clock: Clock; log: Logger; baseUrl: () => string }): void {
  d.alerts.setReportLinker((alertId, now) => d.links.url(d.baseUrl(), 'alerts', alertId, now));
  registerReportRoute(server, {
    kind: 'alerts',
    links: d.links,
    clock: d.clock,
    log: d.log,
    id: /al-[0-9a-f]{10}-\d{1,9}/,
    load: (alertId) => d.alerts.reports.load(alertId),
    render: { csv: toCsv },
    messages: { expired: 'This report link has expired: press Refresh on the alert card for a new one.', missing: 'No report is stored for this alert.' },
  });
}
