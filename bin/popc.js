#!/usr/bin/env node
// Package bin: run the TypeScript command through tsx's loader.
import { register } from 'tsx/esm/api';
register();
await import('../compiler/cli/popc.ts');
