#!/usr/bin/env node
/**
 * `npx gte-pro ...`: the ops CLI. Plain JS so that npm's bin shim can run it with bare node; it
 * registers tsx and hands over to the TypeScript entry (index.ts beside this file).
 */
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./index.ts');
process.exitCode = await main(process.argv.slice(2));
