import { PowerShellExecutor } from '../../src/agent/executors/powershell.js';
import { parseParams } from '../../src/agent/actions.js';
const ex = new PowerShellExecutor({ executable: process.env.HOME + '/.dotnet/tools/pwsh', env: { PSModulePath: '/work/wt18/src/sandbox/powershell/modules', CUTOVER_SANDBOX_ONPREM_URL: process.env.U + '/onprem', CUTOVER_SANDBOX_WINDOWS_ROOT: '/tmp/sbwin' } });
const [action, json] = process.argv.slice(2);
const t = Date.now();
try {
  const r = await ex.run(action as any, parseParams(action as any, JSON.parse(json)), { note: (l) => console.error('note:', l) });
  console.log(JSON.stringify(r).slice(0, 1500));
} catch (e) { console.log('ERR', (e as any).code, (e as Error).message); }
console.error('ms', Date.now() - t);
