/**
 * The simulated on-premises server as PowerShell sees it: the fake ADSync and ActiveDirectory modules
 * (src/sandbox/powershell/modules) send each cmdlet call here, over HTTP on loopback (routes.ts), with the parameters
 * PowerShell bound; the answer is the cmdlet's output as JSON (typed values marked as in values.ts), or the error it
 * throws. One backend per simulated Connect server.
 */
import type { Clock } from '../../clock.js';
import type { ConnectSyncServer } from '../onprem/connect-sync.js';
import { ActiveDirectoryCmdlets } from './active-directory-cmdlets.js';
import { AdsyncCmdlets } from './adsync-cmdlets.js';
import { CmdletError } from './values.js';

/** The Windows service cmdlets and CIM: they answer whether or not the ADSync service runs. */
const HOST_CMDLETS = new Set(['Get-Service', 'Set-Service', 'Start-Service', 'Stop-Service', 'Get-CimInstance']);

export type CmdletOutcome = { output: unknown } | { error: { message: string; category: string; errorId: string } };

export class SandboxCmdletBackend {
  readonly #adsync: AdsyncCmdlets;
  readonly #ad: ActiveDirectoryCmdlets;
  /** How many times each cmdlet was called (GET /sandbox/v1/onprem/<tenant>/calls): proof the real scripts ran. */
  readonly calls = new Map<string, number>();

  constructor(opts: { server: ConnectSyncServer; clock: Clock }) {
    this.#adsync = new AdsyncCmdlets(opts.server, opts.clock);
    this.#ad = new ActiveDirectoryCmdlets(opts.server.ad);
  }

  /** Every cmdlet (and tool) this backend answers: the fake modules export exactly these. */
  get cmdlets(): string[] {
    return [...Object.keys(this.#adsync.handlers), ...Object.keys(this.#ad.handlers)].sort();
  }

  invoke(cmdlet: string, parameters: Record<string, unknown>): CmdletOutcome {
    this.calls.set(cmdlet, (this.calls.get(cmdlet) ?? 0) + 1);
    try {
      const ad = this.#ad.handlers[cmdlet];
      if (ad) return { output: ad(parameters, cmdlet) };
      const adsync = this.#adsync.handlers[cmdlet];
      if (!adsync) throw new CmdletError('ObjectNotFound', `The sandbox has no cmdlet ${cmdlet}`, 'CommandNotFoundException');
      if (!HOST_CMDLETS.has(cmdlet) && !AdsyncCmdlets.OFFLINE.has(cmdlet)) this.#adsync.requireService(cmdlet);
      return { output: adsync(parameters, cmdlet) };
    } catch (err) {
      if (err instanceof CmdletError) return { error: { message: err.message, category: err.category, errorId: err.errorId } };
      throw err;
    }
  }
}
