#!/usr/bin/env node
// Package bin: the popc command (its source: compiler/cli/popc.ts), started by bin/launch.js.
import { launch } from './launch.js';
await launch('compiler/cli/popc');
