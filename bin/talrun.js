#!/usr/bin/env node
// Package bin: the talrun command (its source: kernel/cli/talrun.ts), started by bin/launch.js.
import { launch } from './launch.js';
await launch('kernel/cli/talrun');
