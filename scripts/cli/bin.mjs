#!/usr/bin/env node
/**
 * `npx gte-pro ...`: the ops CLI. Plain JS so that npm's bin shim can run it with bare node; it
 * registers tsx and hands over to the TypeScript entry (scripts/cli/index.ts).
 */
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli/index.ts');
process.exitCode = await main(process.argv.slice(2));
