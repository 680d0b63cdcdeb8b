import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Migration, RunbookEngine } from '../runbooks/engine.js';
import type { AlertRecord } from '../monitor/alerts.js';
import type { RunnerRegistrations } from '../runbooks/runner-registrations.js';
import type { CreationChecks } from '../runbooks/creation-checks.js';
import type { Cancellations } from '../runbooks/cancel.js';
import type { PolicyChanges } from '../runbooks/policy-changes.js';
import type { PeopleDirectory } from './people.js';
import type { Notifier } from './notifier.js';
import type { ReportLinker } from './views.js';

/** What the bot is given by the composition root: the rooms it asks, and its settings. */

export interface JobView {
  migration: string;
  id: string;
  templateId: string;
  code: string;
  quarantined: boolean;
  facts: { title: string; value: string }[];
}

export interface BotDeps {
  engine: RunbookEngine;
  /** Approved changes of a migration's approval policy (`policy` command); without it the command says so. */
  policyChanges?: PolicyChanges;
  people: PeopleDirectory;
  notifier: Notifier;
  /** Download links on cards (the assessment report); none: no download buttons. */
  links?: ReportLinker;
  insight: {
    statusFacts(m: Migration): Promise<{ title: string; value: string }[]>;
    jobs(m: Migration): Promise<JobView[]>;
  };
  alerts: {
    list(opts: { conversationId?: string; openOnly: boolean; migrationId?: string }): Promise<AlertRecord[]>;
    get(id: string): Promise<AlertRecord | null>;
    /** Only the alert's responders may (the change owners of a migration it affects, or the responders group): others get the reason. */
    act(
      id: string,
      verb: 'ack' | 'snooze' | 'resolve',
      actor: { oid: string; name: string },
      version: number,
      hours?: number,
    ): Promise<{ changed: boolean; notice?: string }>;
    /** Why this person may not act on the alert (the same rule), or null. */
    refusal(a: AlertRecord, actorOid: string, doing?: string): Promise<string | null>;
  };
  runners: {
    list(tenantId: string): Promise<
      {
        name: string;
        tenantId: string;
        lastSeenAt: Date | null;
        version: string | null;
        executor: string | null;
        health: string;
        claimBy?: Date | null;
        claimedAt?: Date | null;
      }[]
    >;
  };
  /** Runner registrations: administrators only, four-eyes, the token shown once to the administrator who asked. */
  registrations: RunnerRegistrations;
  /** What a new migration is checked against before anything is created. */
  creation: CreationChecks;
  /** `cancel <migration>`. */
  cancellations: Cancellations;
  /** cutover's public URL, for the runner's install command on the token card. */
  publicUrl?: () => string;
  tenantId: string;
  approvalHours: { expiry: number; reminder: number; escalation: number };
  /**
   * How long a Request or Retry click may wait on the runner (guard reads, the plan's facts) before the click is answered
   * with a "checking" card and finished in the background. Default 4 s: Teams shows an error and retries an invoke left
   * unanswered for 10–15 s.
   */
  answerClickWithinMs?: number;
  /**
   * How long `new migration` (the command or the form) may take before it is answered with a "checking" card that the
   * result replaces when the checks are done. Default 1 s (with the roster read before and the answer after, within 2 s).
   */
  answerNewMigrationWithinMs?: number;
  clock: Clock;
  log: Logger;
}
