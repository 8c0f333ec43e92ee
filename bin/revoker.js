#!/usr/bin/env node
// Launcher for `npx revoker`: runs the TypeScript sources through tsx (no build step), so the
// command works from a fresh clone after `npm install`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/index.ts');
process.exitCode = await main(process.argv);
